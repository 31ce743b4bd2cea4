"""The sampler's fault handling in one process: sd_notify on a fake systemd socket, a sensor
that comes back after retries, a replay that fails is not replayed, outputs that raise."""

from __future__ import annotations

import socket
import threading

import pytest

from firmware import events as ev
from firmware.config import Config
from firmware.device import Device
from firmware.live import LiveState
from firmware.sensors import simulated
from firmware.sensors.base import Sample
from firmware.sensors.hx711 import SensorFault
from firmware.service import LoopRunner, make_detector
from firmware.service import sampler as sampler_module
from firmware.service.notify import Watchdog, notify
from firmware.store import Store, StoreError, check_history_file


@pytest.fixture
def fake_systemd(tmp_path):
    """A datagram socket where systemd's would be: what the service sends arrives here."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2)
    yield path, sock
    sock.close()


def test_notify_sends_datagrams_to_notify_socket_and_is_a_no_op_without_it(fake_systemd):
    path, sock = fake_systemd
    assert notify("READY=1", {"NOTIFY_SOCKET": path}) is True
    assert sock.recv(100) == b"READY=1"
    assert notify("READY=1", {}) is False
    assert notify("READY=1", {"NOTIFY_SOCKET": path + ".gone"}) is False   # never raises


def test_the_watchdog_is_fed_by_samples_at_half_its_interval(fake_systemd):
    path, sock = fake_systemd
    now = [0.0]
    dog = Watchdog({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}, clock=lambda: now[0])
    for i in range(400):                      # 5 s of samples at 80 Hz on a fake clock
        now[0] = i / 80
        dog.on_sample(now[0], 1.0, {})
    got = []
    sock.settimeout(0.2)
    while True:
        try:
            got.append(sock.recv(100))
        except TimeoutError:
            break
    assert got == [b"WATCHDOG=1"] * 5 and dog.fed == 5          # at 0, 1, 2, 3, 4 s
    assert Watchdog({}).interval_s is None


class FlakyOpen:
    """open_checked_source that fails `failures` times (no chip), then gives a short simulation."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    def __call__(self, cfg):
        self.calls += 1
        if self.calls <= self.failures:
            raise SensorFault("HX711 did not signal ready", "unplugged")
        return simulated.scenario("standing", seed=1)


def test_a_sensor_that_comes_back_is_retried_with_the_fault_shown_meanwhile(monkeypatch):
    flaky = FlakyOpen(failures=3)
    monkeypatch.setattr(sampler_module, "open_checked_source", flaky)
    cfg = Config().with_values("simulation", speed=1000)
    live = LiveState()
    runner = LoopRunner(cfg, routine=None, writer=None, live=live, session_id=0,
                        retry_first_s=0.01)
    seen: list[dict] = []
    sub = live.subscribe(1_000_000)
    runner.thread.start()
    runner.thread.join(timeout=30)
    while (message := sub.get(timeout=0)) is not None:
        seen.append(message)
    assert flaky.calls == 4 and runner.retries == 3 and runner.crashes == 0
    assert runner.state == "ended" and runner.fault is None
    faults = [m for m in seen if m["type"] == "event" and m["data"]["event"]["kind"] == ev.SENSOR_FAULT]
    assert len(faults) == 1 and faults[0]["data"]["status"]["state"] == "fault"  # shown once, not per retry
    assert runner.health()["problems"] == []


class BrokenSource:
    live = False
    rate_hz = 80.0

    def __init__(self) -> None:
        self.closed = False

    def samples(self):
        for i in range(100):
            yield Sample(i / 80, 0.0)
        raise RuntimeError("the disk under the replay went away")

    def close(self) -> None:
        self.closed = True


def test_a_replayed_source_that_fails_is_not_started_again(monkeypatch):
    opened: list[BrokenSource] = []
    monkeypatch.setattr(sampler_module, "open_checked_source", lambda cfg: opened.append(BrokenSource())
                        or opened[-1])
    cfg = Config().with_values("simulation", speed=1000)
    runner = LoopRunner(cfg, routine=None, writer=None, live=None, session_id=0,
                        retry_first_s=0.01)
    runner.thread.start()
    runner.thread.join(timeout=30)
    assert len(opened) == 1 and opened[0].closed
    assert runner.state == "crashed" and runner.crashes == 1
    assert any("crashed" in p for p in runner.health()["problems"])


class Exploding:
    def on(self):
        raise OSError("GPIO busy")

    off = on


def test_a_failing_buzzer_or_sink_is_counted_never_a_loop_crash():
    from firmware.cues import BuzzerCues

    class BadSink:
        def on_sample(self, t, kg, status):
            raise ValueError("broker gone")

        def on_event(self, event, status):
            raise ValueError("broker gone")

    person = simulated.scenario("good_routine", seed=1)
    cfg = Config()
    device = Device(person, make_detector(cfg), routine=None, cues=BuzzerCues(Exploding()),
                    sinks=[BadSink()], speed=1e6, wait=lambda s: None)
    stats = device.run(threading.Event(), max_samples=20_000)
    assert stats.samples == 20_000 and stats.output_errors > 0


def test_history_file_checks_refuse_damage_and_newer_schemas_without_writing(tmp_path):
    newer = tmp_path / "newer.sqlite"
    store = Store(newer)
    store._conn().execute("PRAGMA user_version = 999")
    store.close()
    before = newer.read_bytes()
    with pytest.raises(StoreError, match="newer than this stretchstep"):
        check_history_file(newer)
    assert newer.read_bytes() == before
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 300)
    with pytest.raises(StoreError, match="move it away"):
        check_history_file(junk)
    check_history_file(tmp_path / "new.sqlite")               # nothing there yet: fine


def test_sessions_a_kill_left_open_are_closed_at_their_last_event(tmp_path):
    from firmware.events import Event

    store = Store(tmp_path / "h.sqlite")
    killed = store.start_session("simulated", 1000.0)
    store.add_event(killed, Event(ev.BREATH, 5.0, {}), 1042.0, {})
    empty = store.start_session("simulated", 2000.0)
    assert store.close_open_sessions() == 2
    rows = dict(store._conn().execute("SELECT id, ended FROM sessions").fetchall())
    assert rows == {killed: 1042.0, empty: 2000.0}
    assert store.close_open_sessions() == 0
    store.close()


def test_the_writer_reports_how_long_record_to_commit_takes(tmp_path):
    """That time is the window in which a kill -9 can lose an event that the loop has seen."""
    from firmware.events import Event
    from firmware.store import StoreWriter

    store = Store(tmp_path / "h.sqlite")
    writer = StoreWriter(store)
    for i in range(50):
        writer.record(0, Event(ev.BREATH, float(i), {}), 1000.0 + i, {})
    assert writer.flush(5)
    stats = writer.stats()
    assert stats["written"] == 50 and 0 <= stats["commit_ms_p99"] <= stats["commit_ms_max"] < 5000
    writer.close()
    store.close()


def test_a_history_that_cannot_be_written_is_a_fault_in_health_while_sampling_goes_on(monkeypatch, tmp_path):
    """A read-only data dir or a full disk (simulated: root ignores file modes) at start-up."""
    import sqlite3

    def read_only(path):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(sampler_module, "Store", read_only)
    cfg = Config().with_values("store", data_dir=str(tmp_path)).with_values("simulation", speed=1000)
    store, writer, session = sampler_module.open_history(cfg)
    assert store is None and session == 0
    runner = LoopRunner(cfg, routine=None, writer=writer, live=None, session_id=0)
    runner._source = simulated.scenario("good_routine", seed=1)
    runner.thread.start()
    runner.thread.join(timeout=60)
    health = runner.health()
    assert runner.state == "ended" and health["loop"]["samples"] > 1000     # sampling went on
    assert health["store_writer"]["dropped"] > 0
    assert any("readonly" in p for p in health["problems"])


def test_the_scratch_day_lives_in_the_runtime_folder_and_is_gone_at_exit(tmp_path):
    """While the history cannot be written the routine keeps its day in a scratch store in the
    run's runtime folder: a killed sampler's leftover is started afresh, and exit removes it."""
    first = sampler_module.scratch_store(tmp_path)
    session = first.start_session("simulated", 1000.0)
    assert first.counts()["sessions"] == 1 and session
    del first                                   # as if killed: nothing closed, files stay
    assert (tmp_path / sampler_module.SCRATCH_NAME).exists()
    again = sampler_module.scratch_store(tmp_path)
    assert again.counts()["sessions"] == 0      # the leftover does not carry over
    sampler_module.drop_scratch(again)
    assert list(tmp_path.iterdir()) == []


def test_the_runtime_base_is_systemds_then_the_logins_then_tmp(tmp_path, monkeypatch):
    """RuntimeDirectory= (first of a ':' list) wins, then XDG_RUNTIME_DIR; a missing folder, or
    one too long for a unix socket's 108 bytes, falls through to /tmp."""
    import tempfile
    from pathlib import Path

    from firmware.service import runtime

    systemd, login = tmp_path / "s", tmp_path / "l"
    systemd.mkdir()
    login.mkdir()
    monkeypatch.setenv("RUNTIME_DIRECTORY", f"{systemd}:/elsewhere")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(login))
    assert runtime.runtime_base() == systemd
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path / "gone"))
    assert runtime.runtime_base() == login
    deep = tmp_path / ("d" * runtime.MAX_BASE_LEN)
    deep.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(deep))
    assert runtime.runtime_base() == Path(tempfile.gettempdir())


@pytest.mark.parametrize(("figures", "says"), [
    ({"written": 900, "dropped": 0, "errors": 0}, None),
    ({"written": 900, "dropped": 52, "errors": 0}, "dropped 52 samples"),
    ({"written": 0, "dropped": 0, "errors": 3}, "could not write 3 times"),
    ({"error": "OSError: disk gone"}, "disk gone"),
])
def test_health_is_not_ok_while_the_kept_traces_lack_samples(tmp_path, figures, says):
    """A trace keeper that dropped samples (the disk fell behind) or failed to write leaves
    traces that reanalyze cannot replay: health says so (a stand-in keeper gives the figures)."""

    class Keeper:
        name = "traces"

        def on_sample(self, t, kg, status):
            pass

        def on_event(self, event, status):
            pass

        def health(self):
            if "error" in figures:
                raise OSError("disk gone")
            return figures

    cfg = Config().with_values("store", data_dir=str(tmp_path))
    runner = LoopRunner(cfg, routine=None, writer=None, live=None, session_id=0, sinks=[Keeper()])
    problems = runner.health()["problems"]
    if says is None:
        assert problems == []
    else:
        assert any(says in p and "trace keeper" in p for p in problems), problems
