"""A scripted simulated session through the real loop on a fake clock: the real detector,
routine, buzzer cues on gpiozero's MockFactory pin (no Pi here), the SQLite store and the
dashboard's /api/today, checked against the simulated person's own ground truth."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from firmware.config import DEFAULTS
from firmware.cues import PATTERNS, BuzzerCues, make_buzzer
from firmware.device import Device
from firmware.live import LiveState
from firmware.routine import BUILTINS, Routine, RoutineSettings
from firmware.sensors import simulated
from firmware.service import make_detector
from firmware.store import Store, StoreWriter
from webui import create_app

NO_REST = replace(BUILTINS[0], rest_s=0.0)  # the built-in routine, without rest cues between holds


def run_session(tmp_path, fake_clock, name, seed=3, rate_hz=80.0):
    person = simulated.scenario(name, seed=seed, rate_hz=rate_hz)
    buzzer = make_buzzer(18, mock=True)
    store = Store(tmp_path / "history.sqlite")
    writer = StoreWriter(store)
    live = LiveState()
    routine = Routine(RoutineSettings.of(NO_REST))
    session = store.start_session(name, time.time())
    wall_start = time.time()
    device = Device(person, make_detector(DEFAULTS), routine=routine, cues=BuzzerCues(buzzer),
                    writer=writer, live=live, session_id=session, clock=fake_clock,
                    wait=fake_clock.wait, wall=lambda: wall_start + (fake_clock.now - 1000.0) / 1000)
    device.run()
    assert writer.flush(timeout=10)
    return person.truth, device, buzzer, store, live


def beeps(name):
    return (len(PATTERNS[name].durations) + 1) // 2


def test_good_routine_end_to_end(tmp_path, fake_clock):
    truth, device, buzzer, store, live = run_session(tmp_path, fake_clock, "good_routine")
    completed = sum(s["completed"] for s in truth["stretches"])
    assert completed == len(truth["stretches"]) > 5

    # the buzzer: a chirp on stepping on, then per completed hold two long beeps, and "switch legs"
    # where the routine's next slot is the other leg (one cell: the routine's plan names the leg)
    slots = device.routine.slots
    expected = ["ready"]
    for i in range(completed):
        expected.append("hold_complete")
        if i + 1 < len(slots) and slots[i + 1].leg != slots[i].leg:
            expected.append("switch_legs")
    assert device.cues.played == expected
    states = [s.state for s in buzzer.pin.states[1:]]
    assert states == [True, False] * sum(beeps(name) for name in expected)

    # history: one row per stretch, with the slot the routine had for it, breaths within ±1
    rows = store.stretches()
    assert len(rows) == len(truth["stretches"])
    rows.sort(key=lambda r: r["start"])
    assert [r["leg"] for r in rows[:4]] == ["right", "left", "right", "left"]
    for row, true in zip(rows, truth["stretches"], strict=True):
        assert abs(row["start"] - true["start"]) < 1.0
        assert abs(row["breaths"] - true["breaths"]) <= 1
    kinds = {e["kind"] for e in store.events(limit=10_000)}
    assert {"step_on", "stretch_start", "hold_start", "breath", "hold_complete", "stretch_end"} <= kinds

    # the dashboard's view of today
    client = create_app(store, live).test_client()
    today = client.get("/api/today").get_json()
    assert today["completed_holds"] == completed
    assert today["stretches"] == len(truth["stretches"])
    assert today["bounces"] == 0
    buzzer.close()
    store.close()


def test_bouncy_session_warns_on_each_bounce(tmp_path, fake_clock):
    truth, device, buzzer, store, live = run_session(tmp_path, fake_clock, "bouncy")
    assert truth["bounces"]
    today = create_app(store, live).test_client().get("/api/today").get_json()
    assert today["bounces"] >= len(truth["bounces"]) - 1
    assert device.cues.played.count("bounce") == today["bounces"]
    assert any(e["kind"] == "bounce" for e in live.snapshot()["events"])
    buzzer.close()
    store.close()


@pytest.mark.parametrize("name", ["bag", "standing"])
def test_idle_sessions_record_no_stretch(tmp_path, fake_clock, name):
    _, device, buzzer, store, _ = run_session(tmp_path, fake_clock, name, rate_hz=10.0)
    assert store.stretches() == []
    assert "hold_complete" not in device.cues.played
    buzzer.close()
    store.close()
