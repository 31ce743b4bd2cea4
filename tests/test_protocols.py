"""Protocols as data: user [[protocols]] are checked with errors that name the key, and the
config round-trips them."""

from __future__ import annotations

import pytest

from firmware import config
from firmware.config import ConfigError
from firmware.routine.protocols import BUILTINS, Protocol, ProtocolError, catalogue, plan, protocol_from_dict

MINE = {"id": "short", "name": "Short holds", "knees": ["bent"], "reps": 2, "target_s": 20, "rest_s": 5}


def test_a_user_protocol_fills_the_rest_from_the_defaults():
    p = protocol_from_dict(MINE)
    assert (p.knees, p.reps, p.target_s, p.rest_s, p.finish_on_tighter) == (("bent",), 2, 20.0, 5.0, True)
    assert [s.label for s in plan(p, "left")][-1] == "left leg, knee bent, 3 of 3 — finish on the left"
    assert p.describe("left") == "knee bent, 2 holds each leg, 20 s each, start and finish on the left"


@pytest.mark.parametrize(("change", "message"), [
    ({"id": None}, r"'id' is required"),
    ({"name": " "}, r"name = ' ' is not allowed; expected a name of 1 to 60"),
    ({"knees": ["straight", "straight"]}, r"knees = .* each at most once"),
    ({"knees": "bent"}, r"knees = 'bent' .*a list"),
    ({"reps": 0}, r"reps = 0 .*from 1 to 10"),
    ({"reps": True}, r"reps = True"),
    ({"target_s": 1000}, r"target_s = 1000 .*5 to 300"),
    ({"target_breaths": 5, "min_hold_s": 30}, r"min_hold_s = 30 is longer than target_s = 20"),
    ({"colour": "red"}, r"unknown key 'colour'"),
])
def test_bad_protocols_name_the_key_and_what_is_allowed(change, message):
    raw = {k: v for k, v in {**MINE, **change}.items() if v is not None}
    with pytest.raises(ProtocolError, match=message):
        protocol_from_dict(raw, "p")


def test_ids_are_unique_and_never_hide_a_built_in():
    with pytest.raises(ProtocolError, match="'step-calf' is already used by a built-in"):
        catalogue([Protocol("step-calf", "mine")])
    with pytest.raises(ProtocolError, match="another \\[\\[protocols\\]\\] entry"):
        catalogue([Protocol("a", "one"), Protocol("a", "two")])
    assert list(catalogue([Protocol("a", "one")])) == [p.id for p in BUILTINS] + ["a"]


def test_config_reads_protocols_and_chooses_one(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[routine]\nprotocol = "short"\nday_start = "05:30"\n\n'
                    '[[protocols]]\nid = "short"\nname = "Short holds"\nknees = ["bent"]\nreps = 2\n')
    cfg = config.load(path)
    assert cfg.routine.protocol == "short" and cfg.protocols[0].knees == ("bent",)
    again = tmp_path / "again.toml"
    again.write_text(config.to_toml(cfg))
    assert config.load(again) == cfg


@pytest.mark.parametrize(("text", "message"), [
    ('[[protocols]]\nid = "x"\n', r"\[\[protocols\]\] #1: 'name' is required"),
    ('[[protocols]]\nid = "x"\nname = "a"\n[[protocols]]\nid = "x"\nname = "b"\n', r"'x' is already used"),
    ('protocols = 3\n', r"protocols must be written as \[\[protocols\]\] tables"),
])
def test_config_protocol_errors_are_one_clear_line(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        config.load(path)
    assert str(path) in str(info.value)


def test_the_readmes_config_examples_load():
    import re
    import tomllib
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    loaded = [config.from_dict(tomllib.loads(block), "README") for block in blocks]
    assert any(cfg.protocols and cfg.protocols[0].id == "short" for cfg in loaded)
