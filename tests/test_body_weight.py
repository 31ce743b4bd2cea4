"""The body weight a person enters on the phone reaches the detector (issue tidy5, item 1).

The rule (firmware.routine.profiles.body_kg_in_use): a weight entered for the active profile wins;
without one the config file's [person] body_kg is the default; the sampler applies a change
between stretches without a restart, and `reanalyze`, `stretchstep config` and the settings page
say and use the same weight.
"""

from __future__ import annotations

import gzip
import time
from datetime import date

import pytest
from click.testing import CliRunner

from firmware import events as ev
from firmware.cli import main
from firmware.config import Config, from_dict
from firmware.detector import DetectorConfig
from firmware.device import Device
from firmware.events import Event
from firmware.routine import records
from firmware.routine.build import RoutineBook, build_routine
from firmware.sensors.base import Sample
from firmware.service.sampler import LoopRunner, make_detector
from firmware.store import Store
from webui import create_app
from webui.api_routine import BOOK

CODE = "47114711"
AUTH = {"X-Access-Code": CODE}
FILE_KG = 72.0          # the config file's [person] body_kg


class NoSamples:
    live = False
    rate_hz = 80.0

    def samples(self):
        return iter(())

    def close(self):
        """Nothing to close."""


@pytest.fixture
def cfg() -> Config:
    return from_dict({"person": {"body_kg": FILE_KG}})


@pytest.fixture
def phone(cfg, store, live):
    """The web process's API on the store the sampler uses, with this config's RoutineBook."""
    app = create_app(store, live, access_code=CODE)
    app.config[BOOK] = RoutineBook.from_config(cfg)
    return app.test_client()


def _sampler(cfg, store):
    """The sampler's side as sampler_main composes it: routine, keeper, detector, Device."""
    routine, keeper = build_routine(cfg, store, start=False)
    detector = make_detector(cfg)
    device = Device(NoSamples(), detector, routine=routine)
    return device, keeper


def _put_weight(phone, kg):
    answer = phone.put("/api/settings", json={"body_kg": kg}, headers=AUTH)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_a_weight_entered_on_the_phone_reaches_the_running_detector_and_clearing_it_goes_back(
        cfg, store, phone):
    device, keeper = _sampler(cfg, store)
    assert device.detector.config.body_kg == FILE_KG            # none entered: the file's
    said = _put_weight(phone, 81.5)
    assert (said["body_kg"], said["body_kg_in_use"], said["body_kg_from"], said["body_kg_default"]) == (
        81.5, 81.5, "profile", FILE_KG)
    assert keeper.check_settings() is True                      # what the keeper thread does each second
    device.process(Sample(0.0, 0.0))
    assert device.detector.config.body_kg == 81.5               # no restart
    runner = LoopRunner(cfg, routine=device.routine, writer=None, live=None, session_id=0)
    runner.device = device
    assert runner.health()["detector_body_kg"] == 81.5          # GET /api/health shows it
    said = _put_weight(phone, None)
    assert (said["body_kg"], said["body_kg_in_use"], said["body_kg_from"]) == (None, FILE_KG, "config")
    keeper.check_settings()
    device.process(Sample(0.1, 0.0))
    assert device.detector.config.body_kg == FILE_KG


def test_without_a_weight_anywhere_the_detector_goes_without_one(store, live):
    cfg = Config()
    app = create_app(store, live, access_code=CODE)
    app.config[BOOK] = RoutineBook.from_config(cfg)
    said = app.test_client().get("/api/settings").get_json()
    assert (said["body_kg"], said["body_kg_in_use"], said["body_kg_from"], said["body_kg_default"]) == (
        None, None, "none", None)
    device, _keeper = _sampler(cfg, store)
    assert device.detector.config.body_kg is None


@pytest.mark.parametrize("kg", [500, 5, "80", True, [80]])
def test_a_weight_out_of_range_is_refused_with_its_reason_and_nothing_changes(cfg, store, phone, kg):
    refused = phone.put("/api/settings", json={"body_kg": kg}, headers=AUTH)
    assert refused.status_code == 400
    assert refused.get_json()["error"].startswith("body_kg must be kg from 20 to 300, or null, got ")
    assert phone.get("/api/settings").get_json()["body_kg_in_use"] == FILE_KG


def test_the_files_weight_is_the_first_profiles_default_not_someone_elses(cfg, store, phone):
    """[person] describes the first profile; a second person without a weight of their own gets
    none rather than the first person's (a weight too low makes the detector see more stretches)."""
    device, keeper = _sampler(cfg, store)
    ann = phone.post("/api/profiles", json={"name": "Ann"}, headers=AUTH).get_json()
    assert phone.post(f"/api/profiles/{ann['id']}/activate", headers=AUTH).status_code == 200
    said = phone.get("/api/settings").get_json()
    assert (said["body_kg"], said["body_kg_in_use"], said["body_kg_from"], said["body_kg_default"]) == (
        None, None, "none", None)
    keeper.check_settings()
    device.process(Sample(0.0, 0.0))
    assert device.detector.config.body_kg is None
    _put_weight(phone, 64)
    keeper.check_settings()
    device.process(Sample(0.1, 0.0))
    assert device.detector.config.body_kg == 64.0


class Stretching:
    """A detector stand-in part way through a stretch (the real one cannot be put there quickly)."""

    def __init__(self):
        self.state = "stretching"
        self.config = DetectorConfig(body_kg=FILE_KG)

    def feed(self, t, kg):
        return []

    def finish(self):
        return []

    def set_target(self, seconds, breaths=0):
        """Targets are not what this test is about."""

    def status(self):
        return {"state": self.state}


def test_a_stretch_under_way_keeps_its_weight_the_next_one_gets_the_new_one(cfg, store, phone):
    routine, keeper = build_routine(cfg, store, start=False)
    detector = Stretching()
    device = Device(NoSamples(), detector, routine=routine)
    _put_weight(phone, 90)
    keeper.check_settings()
    device.process(Sample(0.0, 60.0))
    assert detector.config.body_kg == FILE_KG
    detector.state = "standing"
    device.process(Sample(0.1, 35.0))
    assert detector.config.body_kg == 90.0


def test_the_first_profile_does_not_copy_the_files_weight_so_editing_the_file_still_counts(tmp_path):
    store = Store(tmp_path / "history.sqlite")
    try:
        RoutineBook.from_config(from_dict({"person": {"body_kg": 60}})).settings(store)
        assert records.active_profile(store).body_kg is None
        later = RoutineBook.from_config(from_dict({"person": {"body_kg": 64}})).settings(store)
        assert later.body_kg == 64.0
    finally:
        store.close()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A history as `run` leaves it: a session, its kept trace, a profile with a weight entered."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("STRETCHSTEP_DATA_DIR", raising=False)
    d = tmp_path / "data"
    history = Config().with_values("store", data_dir=str(d)).history_dir()
    store = Store(history / "history.sqlite")
    sid = store.start_session("hx711", time.time() - 3600)
    store.add_event(sid, Event(ev.STEP_ON, 1.0), time.time() - 600, {})
    book = RoutineBook.from_config(Config())
    book.settings(store)
    records.update_profile(store, records.active_profile(store).id,
                           {"body_kg": 77.0, "target_s": 12.0, "target_breaths": 3}, book.protocols)
    store.close()
    rows = "".join(f"{n / 80:.4f},40.0\n" for n in range(400))
    head = f"# stretchstep trace v1\n# rate_hz=80\n# wall_t0={time.time() - 600:.3f}\n# t0=0\nt,kg\n"
    (history / "traces").mkdir()
    (history / "traces" / f"session-{sid}-{date.today().isoformat()}.csv.gz").write_bytes(
        gzip.compress((head + rows).encode()))
    return d


def test_reanalyze_tells_the_detector_the_weight_and_targets_the_device_uses(data_dir, monkeypatch):
    import importlib

    replay = importlib.import_module("firmware.traces.reanalyze")  # the package exports the function
    told = []
    real = replay.analyze_samples

    def spy(samples, **kw):
        told.append((kw.get("body_kg"), kw.get("target_s"), kw.get("target_breaths")))
        return real(samples, **kw)

    monkeypatch.setattr(replay, "analyze_samples", spy)
    result = CliRunner().invoke(main, ["reanalyze", "--since", "2000-01-01", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert told == [(77.0, 12.0, 3)]                   # what the live detector is told: the profile's
    said = "body weight for the detector: 77 kg, entered for profile 'me' on the settings page"
    assert said in result.output and "; hold target 12 s or 3 breaths" in result.output


def test_stretchstep_config_says_which_weight_the_detector_uses(data_dir, tmp_path):
    config = tmp_path / "stretchstep.toml"
    config.write_text("[person]\nbody_kg = 70\n")
    result = CliRunner().invoke(main, ["config", "--config", str(config), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert ("# body weight for the detector: 77 kg, entered for profile 'me' on the settings page "
            "(it wins over [person] body_kg = 70)") in result.output
    empty = CliRunner().invoke(main, ["config", "--config", str(config), "--data-dir", str(tmp_path / "new")])
    assert "# body weight for the detector: 70 kg from [person] body_kg = 70" in empty.output
