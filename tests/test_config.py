import pytest

from firmware import config
from firmware.config import ConfigError


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_missing_default_file_gives_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config.load() == config.DEFAULTS
    assert config.DEFAULTS.sensor.source == "simulated"
    assert config.DEFAULTS.web.port == 8080


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "nope.toml")


def test_values_are_read_and_ints_widen_to_floats(tmp_path):
    cfg = config.load(write(tmp_path, "[detector]\ntarget_s = 20\n[sensor]\nrate_hz = 10\n"))
    assert cfg.detector.target_s == 20.0 and isinstance(cfg.detector.target_s, float)
    assert cfg.sensor.rate_hz == 10
    assert cfg.web == config.DEFAULTS.web


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[sensor]\nrate_hz = 40\n", r"sensor.rate_hz = 40 is not allowed; expected one of 80 or 10"),
        ("[web]\nport = 70000\n", r"web.port = 70000 .*from 0 to 65535"),
        ("[web]\nport = true\n", r"web.port = True"),
        ("[web]\nprt = 1\n", r"unknown key web.prt; keys in \[web\]: .*port"),
        ("[nope]\nx = 1\n", r"unknown section \[nope\]"),
        ("[person]\ntighter_side = 'middle'\n", r"person.tighter_side = 'middle'.*'right' or 'left'"),
        ("[routine]\nday_start = '25:00'\n", r"routine.day_start = '25:00'.*HH:MM"),
        ("[routine]\nprotocol = 'nope'\n", r"routine.protocol = 'nope' is not a protocol; known: step-calf"),
        ("[[protocols]]\nid = 'Mine'\nname = 'x'\n", r"\[\[protocols\]\] #1: id = 'Mine'.*lower-case"),
        ("[sensor]\nsource = 'replay:'\n", r"sensor.source"),
        ("web = 3\n", r"\[web\] must be a table"),
        ("[web\n", r"not valid TOML"),
    ],
)
def test_bad_values_name_key_value_and_allowed(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as info:
        config.load(path)
    assert str(path) in str(info.value)


def test_with_values_validates_cli_overrides():
    cfg = config.DEFAULTS.with_values("web", port=9000)
    assert cfg.web.port == 9000
    with pytest.raises(ConfigError, match="web.port = -1"):
        config.DEFAULTS.with_values("web", port=-1)


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STRETCHSTEP_DATA_DIR", raising=False)
    assert config.DEFAULTS.data_dir() == tmp_path / "xdg" / "stretchstep"
    monkeypatch.setenv("STRETCHSTEP_DATA_DIR", str(tmp_path / "env"))
    assert config.DEFAULTS.data_dir() == tmp_path / "env"
    cfg = config.DEFAULTS.with_values("store", data_dir=str(tmp_path / "cfg"))
    assert cfg.data_dir() == tmp_path / "cfg"


def test_to_toml_round_trips(tmp_path):
    cfg = config.DEFAULTS.with_values("web", access_code='ab"cd').with_values("sensor", rate_hz=10)
    assert config.load(write(tmp_path, config.to_toml(cfg))) == cfg
