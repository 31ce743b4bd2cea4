"""The MQTT publisher against a real broker: Debian's Mosquitto on a free loopback port.

Each test starts its own broker (bench/mosquitto.py: listener 127.0.0.1 only, a temp config and
persistence dir). Without mosquitto the tests are skipped with the reason, except in CI (`CI`
set), where .ci/run installs it and a missing broker is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from test_mqtt_discovery import ha_problems

from bench.mosquitto import Mosquitto, find_mosquitto, free_port
from firmware.control import DeviceControl
from firmware.events import Event
from firmware.history import HistoryContext
from firmware.publish.discovery import ENTITIES, DeviceInfo
from firmware.publish.mqtt import BrokerSettings, MqttPublisher
from firmware.publish.today import TodayCounts
from firmware.store import Store

ROOT = Path(__file__).resolve().parents[1]
INFO = DeviceInfo("ss0000beef", "Test step", "0.1.0", "simulated")
PREFIX = "stretchstep/ss0000beef"


def need_mosquitto() -> None:
    if find_mosquitto() is None:
        reason = "mosquitto is not installed (Debian: apt-get install mosquitto)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must install it (.ci/run)")
        pytest.skip(reason)


@pytest.fixture
def broker(tmp_path):
    need_mosquitto()
    with Mosquitto(tmp_path / "broker") as running:
        yield running


class Listener:
    """A subscriber collecting (topic, payload, retain); `persistent` keeps a QoS 1 session."""

    def __init__(self, port: int, topics: str = "#", *, persistent: str | None = None) -> None:
        self.messages: list[tuple[str, str, bool]] = []
        self._cond = threading.Condition()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=persistent or "",
                                  clean_session=persistent is None)
        self.client.reconnect_delay_set(1, 1)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(topics, qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c, _u, message) -> None:
        with self._cond:
            self.messages.append((message.topic, message.payload.decode(), bool(message.retain)))
            self._cond.notify_all()

    def wait(self, predicate, timeout: float = 10.0) -> list[tuple[str, str, bool]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; got {[m[:2] for m in self.messages][-20:]}")
                self._cond.wait(left)
            return list(self.messages)

    def last(self, topic: str) -> str | None:
        found = [payload for t, payload, _ in self.messages if t == topic]
        return found[-1] if found else None

    def on(self, topic: str) -> list[str]:
        return [payload for t, payload, _ in self.messages if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publisher(port: int, **kw) -> MqttPublisher:
    settings = {k: kw.pop(k) for k in list(kw) if k in BrokerSettings.__dataclass_fields__}
    return MqttPublisher(BrokerSettings(host="127.0.0.1", port=port, prefix=PREFIX, client_id="pub-test",
                                        **settings), INFO, **kw).start()


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def stretch_end(t: float) -> Event:
    return Event("stretch_end", t, {"start": t - 40, "hold_start": t - 35, "end": t, "hold_s": 31.0,
                                    "breaths": 4, "breaths_sure": True, "bounces": 0, "completed": True,
                                    "peak_kg": 40.0, "leg": "right"})


def test_discovery_retained_counts_and_events_arrive_as_home_assistant_needs(broker, tmp_path):
    store = Store(tmp_path / "history.sqlite")
    session = store.start_session("simulated", time.time())
    pub = publisher(broker.port, today=TodayCounts(store, HistoryContext()))
    try:
        wait_until(lambda: pub.health()["connected"])
        pub.on_sample(0.0, 0.1, {"state": "empty"})
        store.add_event(session, stretch_end(100.0), time.time(), {"leg": "right", "knee": "straight"})
        pub.on_event(stretch_end(100.0), {"state": "empty"})
        pub.on_event(Event("hold_complete", 95.0, {"hold_s": 30.0, "breaths": 4}), {"state": "holding"})
        wait_until(lambda: pub.health()["queued"] == 0)
        # a subscriber arriving later (Home Assistant after a restart) gets every retained config
        late = Listener(broker.port)
        wanted = {f"{PREFIX}/today", f"{PREFIX}/availability", f"{PREFIX}/state"}
        got = late.wait(lambda m: wanted <= {t for t, _, _ in m}
                        and sum(t.startswith("homeassistant/") for t, _, _ in m) >= len(ENTITIES))
        configs = [(t, p) for t, p, retained in got if t.startswith("homeassistant/") and retained]
        assert [p for t, payload in configs for p in ha_problems(t, payload)] == []
        assert late.last(f"{PREFIX}/availability") == "online"
        assert late.last(f"{PREFIX}/state") == "empty"
        today = json.loads(late.last(f"{PREFIX}/today"))
        assert (today["holds"], today["stretches"], today["bounced"]) == (1, 1, 0)
        assert today["date"] == HistoryContext().day_clock.day_of(time.time()).isoformat()
        late.close()
    finally:
        pub.close()
        store.close()


def test_events_carry_their_summary_and_an_event_type_home_assistant_accepts(broker):
    listener = Listener(broker.port, f"{PREFIX}/event/#")
    pub = publisher(broker.port)
    try:
        wait_until(lambda: pub.health()["connected"])
        pub.on_event(stretch_end(100.0), {"state": "empty"})
        pub.on_event(Event("bounce", 101.0, {"hz": 2.0, "pp_kg": 8.0}), {"state": "holding"})
        listener.wait(lambda m: len(m) >= 2)
        end = json.loads(listener.last(f"{PREFIX}/event/stretch_end"))
        assert (end["hold_s"], end["breaths"], end["breaths_sure"], end["completed"]) == (31.0, 4, True, True)
        bounce = json.loads(listener.last(f"{PREFIX}/event/bounce"))
        assert bounce["event_type"] == "bounce" and bounce["seq"] == end["seq"] + 1
    finally:
        pub.close()
        listener.close()


def test_a_killed_step_goes_offline_by_its_last_will_and_a_stopped_one_says_so(broker):
    listener = Listener(broker.port, f"{PREFIX}/availability")
    script = (f"import time; from firmware.publish.mqtt import BrokerSettings, MqttPublisher; "
              f"from firmware.publish.discovery import ENTITIES, DeviceInfo; "
              f"MqttPublisher(BrokerSettings(host='127.0.0.1', port={broker.port}, prefix='{PREFIX}'), "
              f"DeviceInfo('ss0000beef', 'x', '0', 'sim')).start(); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        listener.wait(lambda m: m and m[-1][1] == "online")
        child.send_signal(signal.SIGKILL)
        listener.wait(lambda m: m[-1][1] == "offline")
    finally:
        child.kill()
        child.wait()
    pub = publisher(broker.port)
    listener.wait(lambda m: m[-1][1] == "online")
    pub.close()
    listener.wait(lambda m: m[-1][1] == "offline")
    listener.close()


def send(port: int, topic: str, payload: str, retain: bool = False) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    client.disconnect()  # before loop_stop: wakes paho's loop thread instead of waiting out its select
    client.loop_stop()


def emulated_step(tmp_path):
    """The web's own DeviceControl on an emulated two-cell step whose zero is off (no hardware:
    the HX711 pin-level emulator), and the detector state it reads, which the test sets."""
    from types import SimpleNamespace

    from firmware.calibration import Calibration
    from firmware.calibration.emulated import emulated_pair_source

    pair = emulated_pair_source(lambda t: 0.0, lambda t: 0.5, noise_counts=5)
    for cell in (pair.left, pair.right):
        cal = cell.calibration
        cell.set_calibration(Calibration(offset=cal.offset - 0.5 * cal.scale, scale=cal.scale,
                                         date="2026-11-30"))   # calibrated once: a default may always tare
    samples = pair.samples()
    for _ in range(240):
        next(samples)
    device = SimpleNamespace(source=pair, detector=SimpleNamespace(state="standing"))
    return DeviceControl("hx711-emulated", tmp_path, lambda: device), device, pair


def test_commands_only_when_allowed_and_tare_only_on_an_empty_step(broker, tmp_path):
    results = Listener(broker.port, f"{PREFIX}/command/result")
    control, device, pair = emulated_step(tmp_path)
    tared = lambda: list(tmp_path.glob("calibration-*.json"))  # noqa: E731
    closed = publisher(broker.port, control=control)               # allow_commands defaults to false
    wait_until(lambda: closed.health()["connected"])
    send(broker.port, f"{PREFIX}/command/tare", "PRESS")
    time.sleep(0.5)  # nothing may happen; give a wrongly subscribed publisher the chance to act
    closed.close()
    assert tared() == [] and results.messages == []

    send(broker.port, f"{PREFIX}/command/tare", "PRESS", retain=True)  # a stale retained press
    pub = publisher(broker.port, control=control, allow_commands=True)
    try:
        wait_until(lambda: pub.health()["connected"])
        wait_until(lambda: pub.health()["commands_ignored"] >= 1)   # replayed on subscribe, not run
        assert tared() == []
        send(broker.port, f"{PREFIX}/command/tare", "", retain=True)  # clear it
        send(broker.port, f"{PREFIX}/command/tare", "PRESS")
        refused = json.loads(results.wait(lambda m: len(m) >= 1)[-1][1])
        assert refused["ok"] is False and "the step is not empty" in refused["message"]
        assert tared() == []
        device.detector.state = "empty"
        send(broker.port, f"{PREFIX}/command/tare", "PRESS")
        done = json.loads(results.wait(lambda m: len(m) >= 2)[-1][1])
        assert done["ok"] is True and len(tared()) == 2   # both cells zeroed and saved
        send(broker.port, f"{PREFIX}/command/profile", "Anna")
        no_profiles = json.loads(results.wait(lambda m: len(m) >= 3)[-1][1])
        assert no_profiles["ok"] is False and "no profiles" in no_profiles["message"]
    finally:
        pub.close()
        results.close()


def test_broker_restart_keeps_events_republishes_retained_state_and_counts_the_reconnect(broker):
    listener = Listener(broker.port, f"{PREFIX}/#", persistent="test-listener")
    listener.wait(lambda m: True, timeout=1)
    pub = publisher(broker.port, today=lambda status: {"date": time.strftime("%Y-%m-%d"), "holds": 7})
    try:
        wait_until(lambda: pub.health()["connected"])
        pub.on_event(stretch_end(10.0), {"state": "empty"})
        listener.wait(lambda m: len([t for t, _, _ in m if t.endswith("/stretch_end")]) == 1)
        wait_until(lambda: pub.health()["queued"] == 0)  # the broker acknowledged it
        broker.stop()
        wait_until(lambda: not pub.health()["connected"])
        for i in range(800):  # the loop goes on while the broker is away
            pub.on_sample(20 + i / 80, 50.0, {"state": "holding"})
        for t in (30.0, 40.0, 50.0):
            pub.on_event(stretch_end(t), {"state": "empty"})
        wait_until(lambda: pub.health()["queued"] >= 3)
        broker.start()
        wait_until(lambda: pub.health()["connected"], timeout=15)
        def ends(messages) -> set:
            return {(json.loads(p)["boot"], json.loads(p)["seq"]) for t, p, _ in messages
                    if t.endswith("/stretch_end")}

        listener.wait(lambda m: len(ends(m)) >= 4, timeout=15)
        got = [json.loads(p) for p in listener.on(f"{PREFIX}/event/stretch_end")]
        # QoS 1 is at least once: the broker may deliver a message again after its restart if the
        # listener's ack had not reached it. (boot, seq) names each event so a reader can tell.
        by_id = {(g["boot"], g["seq"]): g["end"] for g in got}
        assert list(by_id.values()) == [10.0, 30.0, 40.0, 50.0]       # in order, none lost
        health = pub.health()
        assert health["reconnects"] == 1 and health["dropped"] == 0 and health["live_skipped"] > 0
        fresh = Listener(broker.port, f"{PREFIX}/#")  # retained state is back on the new broker run
        fresh.wait(lambda m: {f"{PREFIX}/availability", f"{PREFIX}/today", f"{PREFIX}/state"}
                   <= {t for t, _, retained in m if retained})
        assert fresh.last(f"{PREFIX}/availability") == "online"
        fresh.close()
    finally:
        pub.close()
        listener.close()


def test_a_long_outage_drops_the_oldest_events_and_counts_them(broker):
    listener = Listener(broker.port, f"{PREFIX}/event/#", persistent="test-outage")
    pub = publisher(broker.port, outage_events=3)
    try:
        wait_until(lambda: pub.health()["connected"])
        broker.stop()
        wait_until(lambda: not pub.health()["connected"])
        for t in range(5):
            pub.on_event(stretch_end(float(t)), {"state": "empty"})
        wait_until(lambda: pub.health()["dropped"] == 2)
        broker.start()
        got = listener.wait(lambda m: len(m) >= 3, timeout=15)
        assert [json.loads(p)["end"] for _, p, _ in got] == [2.0, 3.0, 4.0]
    finally:
        pub.close()
        listener.close()


def test_a_refusing_broker_costs_counters_and_the_right_password_gets_in(tmp_path):
    need_mosquitto()
    with Mosquitto(tmp_path / "auth", users={"step": "right"}) as broker:
        wrong = publisher(broker.port, username="step", password="wrong", reconnect_max_s=1)
        try:
            wait_until(lambda: wrong.health()["refusals"] >= 1)
            for i in range(100):
                wrong.on_event(Event("breath", float(i), {"n": i}), {"state": "holding"})
            health = wrong.health()
            assert health["connected"] is False and "refused" in health["last_error"]
        finally:
            wrong.close(timeout=0.5)
        right = publisher(broker.port, username="step", password="right")
        wait_until(lambda: right.health()["connected"])
        right.close()


def test_stretchstep_run_with_an_mqtt_section_appears_as_a_home_assistant_device(broker, tmp_path):
    """The real command: its discovery, today and stretch_end arrive; /api/health shows the
    publisher; a SIGKILL leaves "offline" behind through the last will."""
    import urllib.request

    from bench.service_proc import start_device

    conf = tmp_path / "config.toml"
    conf.write_text(f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n[simulation]\nspeed = 30\n')
    listener = Listener(broker.port)
    proc, url = start_device(str(tmp_path / "data"), "--config", str(conf))
    try:
        device_id = (tmp_path / "data" / "device_id").read_text().strip()
        prefix = f"stretchstep/{device_id}"
        got = listener.wait(lambda m: any(t == f"{prefix}/event/stretch_end" for t, _, _ in m), timeout=60)
        configs = [(t, p) for t, p, _ in got if t.startswith("homeassistant/") and p]
        node = f"stretchstep_{device_id}"
        expected = {f"homeassistant/{c}/{node}/{o}/config" for c, o, _, _ in ENTITIES}
        expected.add(f"homeassistant/sensor/{node}/profile/config")   # commands off: a read-only profile
        assert {t for t, _ in configs} == expected
        assert [p for t, payload in configs for p in ha_problems(t, payload)] == []
        assert listener.last(f"{prefix}/profile") == "me"   # the routine's first profile
        assert listener.last(f"{prefix}/availability") == "online"
        assert "holds" in json.loads(listener.last(f"{prefix}/today"))
        with urllib.request.urlopen(url + "/api/health", timeout=5) as resp:
            mqtt = json.loads(resp.read())["stats"]["mqtt"]
        assert mqtt["connected"] is True and mqtt["sent"] > 0 and mqtt["topic_prefix"] == prefix
        proc.send_signal(signal.SIGKILL)
        listener.wait(lambda m: m[-1][:2] == (f"{prefix}/availability", "offline"))
    finally:
        proc.kill()
        proc.wait()
        listener.close()


def test_stretchstep_fleet_prints_every_step_with_its_day(broker, tmp_path):
    from click.testing import CliRunner

    from firmware.cli import main

    for device, holds, name in (("ss00000aaa", 3, "Room 1"), ("ss00000bbb", 0, "Room 2")):
        send(broker.port, f"stretchstep/{device}/availability", "online", retain=True)
        send(broker.port, f"stretchstep/{device}/today", json.dumps(
            {"date": "2026-12-01", "holds": holds, "stretches": holds + 1, "bounced": 1, "routines": None,
             "goal": 2, "streak": 4}), retain=True)
        send(broker.port, f"homeassistant/sensor/stretchstep_{device}/state/config", json.dumps(
            {"~": f"stretchstep/{device}", "name": "State", "device": {"name": name}}), retain=True)
    send(broker.port, "stretchstep/ss00000bbb/availability", "offline", retain=True)
    conf = tmp_path / "config.toml"
    conf.write_text(f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n')
    result = CliRunner().invoke(main, ["fleet", "--config", str(conf), "--seconds", "0.5"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["step", "name", "status", "date", "holds", "stretches", "bounced", "routines",
                                "goal", "streak"]
    assert lines[1].split() == ["ss00000aaa", "Room", "1", "online", "2026-12-01", "3", "4", "1", "-", "2",
                                "4"]
    assert lines[2].split()[:4] == ["ss00000bbb", "Room", "2", "offline"]
    refused = CliRunner().invoke(main, ["fleet", "--host", "127.0.0.1", "--port", str(free_port())])
    assert refused.exit_code == 2 and "cannot reach the broker" in refused.output


def test_home_assistant_coming_online_gets_the_discovery_again(broker):
    """HA publishes `homeassistant/status` "online" after it restarts; a device that then resends
    its configs needs no retained discovery to survive a broker that lost them."""
    pub = publisher(broker.port)
    try:
        wait_until(lambda: pub.health()["connected"])
        watcher = Listener(broker.port, "homeassistant/sensor/+/+/config")
        watcher.wait(lambda m: len(m) >= 9)             # the retained copies
        seen = len(watcher.messages)
        send(broker.port, "homeassistant/status", "online")
        wanted = {f"homeassistant/sensor/stretchstep_ss0000beef/{o}/config" for o in ("state", "load")}
        watcher.wait(lambda m: {t for t, _, retained in m[seen:] if not retained} >= wanted)
        watcher.close()
    finally:
        pub.close()


def test_tls_with_the_configured_ca_connects_and_without_it_is_refused(tmp_path):
    """[mqtt] tls + ca_file against a Mosquitto TLS listener with a throwaway CA (openssl)."""
    need_mosquitto()
    if shutil.which("openssl") is None:
        if os.environ.get("CI"):
            pytest.fail("openssl is not installed; CI must install it (.ci/run)")
        pytest.skip("openssl is not installed")
    with Mosquitto(tmp_path / "tls", tls=True) as broker:
        listener_ok = publisher(broker.port, tls=True, ca_file=str(broker.ca_file))
        stranger = publisher(broker.port, tls=True)          # system CAs: our test CA is not among them
        try:
            wait_until(lambda: listener_ok.health()["connected"])
            wait_until(lambda: stranger.health()["last_error"] is not None)
            assert stranger.health()["connected"] is False
            assert "certificate verify failed" in stranger.health()["last_error"]
        finally:
            listener_ok.close()
            stranger.close(timeout=0.5)


def test_the_profile_select_lists_profiles_switches_them_and_follows_the_page(broker, tmp_path, monkeypatch):
    """Home Assistant's select against the routine's real profile records (the ones the web's
    POST /api/profiles/<id>/activate writes)."""
    from firmware.config import DEFAULTS
    from firmware.publish import mqtt as publish_mqtt
    from firmware.publish.profiles import ProfileChoice
    from firmware.routine import records
    from firmware.routine.build import RoutineBook

    monkeypatch.setattr(publish_mqtt, "PROFILE_CHECK_S", 0.2)
    store = Store(tmp_path / "history.sqlite")
    book = RoutineBook.from_config(DEFAULTS)
    book.settings(store)                                          # the first profile, "me"
    ben = records.add_profile(store, {"name": "Ben"}, book.protocols, book.first_profile)
    results = Listener(broker.port, f"{PREFIX}/command/result")
    watcher = Listener(broker.port, "#")
    from types import SimpleNamespace

    from firmware.control import DeviceControl

    running = SimpleNamespace(source=None, detector=SimpleNamespace(state="holding"))
    control = DeviceControl("simulated", tmp_path, lambda: running)
    pub = publisher(broker.port, control=control, profiles=ProfileChoice(store), allow_commands=True)
    select = "homeassistant/select/stretchstep_ss0000beef/profile/config"
    try:
        watcher.wait(lambda m: watcher.last(select) and watcher.last(f"{PREFIX}/profile") == "me")
        config = json.loads(watcher.last(select))
        assert config["options"] == ["me", "Ben"] and ha_problems(select, watcher.last(select)) == []
        send(broker.port, f"{PREFIX}/command/profile", "ben")        # while someone holds: no
        holding = json.loads(results.wait(lambda m: len(m) >= 1)[-1][1])
        assert holding["ok"] is False and holding["message"].startswith("step off first")
        assert "'holding'" in holding["message"]
        assert records.active_profile(store).name == "me"
        running.detector.state = "empty"
        send(broker.port, f"{PREFIX}/command/profile", "ben")
        assert json.loads(results.wait(lambda m: len(m) >= 2)[-1][1])["ok"] is True
        assert records.active_profile(store).id == ben.id
        watcher.wait(lambda m: watcher.last(f"{PREFIX}/profile") == "Ben")
        send(broker.port, f"{PREFIX}/command/profile", "Zed")
        refused = json.loads(results.wait(lambda m: len(m) >= 3)[-1][1])
        assert refused["ok"] is False and "no profile named 'Zed'" in refused["message"]
        records.activate(store, records.profiles(store)[0].id)     # chosen on the page
        records.add_profile(store, {"name": "Cy"}, book.protocols, book.first_profile)
        watcher.wait(lambda m: watcher.last(f"{PREFIX}/profile") == "me"
                     and json.loads(watcher.last(select))["options"] == ["me", "Ben", "Cy"])
    finally:
        pub.close()
        results.close()
        watcher.close()
        store.close()


def test_the_log_tells_the_connection_story_once_per_change(broker, caplog):
    """Found running it with a wrong password: nothing in the log said why Home Assistant saw
    nothing (only /api/health did). Now each change is one line; the same failure retried every
    30 s for an hour stays one line."""
    caplog.set_level("INFO", logger="firmware.publish.mqtt")
    pub = publisher(broker.port)
    try:
        wait_until(lambda: pub.health()["connected"], timeout=60)
        broker.stop()
        wait_until(lambda: "cannot reach" in (pub.health()["last_error"] or ""), timeout=60)
        try:                                   # the same failure again, as paho reports a retry
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError:
            pub._on_connect_fail(None, None)
        broker.start()
        wait_until(lambda: pub.health()["connected"] and pub.health()["reconnects"] >= 1, timeout=60)
    finally:
        pub.close()
    said = [r.getMessage() for r in caplog.records if r.name == "firmware.publish.mqtt"]
    where = f"mqtt 127.0.0.1:{broker.port}: "
    assert said[0] == where + "connected" and said[-1] == where + "connected again", said
    assert sum("disconnected" in m and "events are kept" in m for m in said) == 1
    assert sum("cannot reach the broker" in m for m in said) == 1, said
