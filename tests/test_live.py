"""Live state: throttled by sample time, slow subscribers lose their oldest, nothing blocks."""

from __future__ import annotations

import math
import threading
import time

from firmware import events as ev
from firmware.events import Event
from firmware.live import LiveState, jsonable


def status(state: str = "standing", **extra) -> dict:
    return {"state": state, "hold_s": 0.0, **extra}


def drain(sub) -> list[dict]:
    out = []
    while (msg := sub.get(timeout=0)) is not None:
        out.append(msg)
    return out


def test_samples_are_throttled_by_sample_time_not_wall_time():
    live = LiveState(sample_hz=10.0)
    sub = live.subscribe()
    for i in range(800):                       # 10 s at 80 Hz, fed as fast as possible
        live.on_sample(i / 80.0, 50.0, status())
    samples = [m for m in drain(sub) if m["type"] == "sample"]
    assert len(samples) == 100
    times = [m["data"]["t"] for m in samples]
    assert all(0.099 < b - a < 0.101 for a, b in zip(times, times[1:], strict=False))


def test_time_going_backwards_restarts_the_throttle():
    live = LiveState(sample_hz=1.0)
    sub = live.subscribe()
    live.on_sample(100.0, 1.0, status())
    live.on_sample(100.5, 1.0, status())
    live.on_sample(0.0, 2.0, status())          # a new source starts at its own origin
    assert [m["data"]["t"] for m in drain(sub) if m["type"] == "sample"] == [100.0, 0.0]
    assert live.snapshot()["history"] == [[0.0, 2.0]]


def test_state_change_and_events_are_pushed_at_once():
    live = LiveState(sample_hz=1.0)
    sub = live.subscribe()
    live.on_sample(0.0, 0.0, status("empty"))
    live.on_sample(0.1, 40.0, status("standing"))
    live.on_event(Event(ev.BOUNCE, 0.2, {"hz": 2.1, "pp_kg": 9.0}), status("holding", bounces=1))
    msgs = drain(sub)
    assert [m["type"] for m in msgs] == ["sample", "state", "event"]
    assert msgs[1]["data"]["status"]["state"] == "standing"
    assert msgs[2]["data"]["event"] == {"kind": "bounce", "t": 0.2, "hz": 2.1, "pp_kg": 9.0}
    assert msgs[2]["data"]["status"]["bounces"] == 1


def test_slow_subscriber_drops_oldest_and_fast_one_keeps_all():
    live = LiveState(queue_size=5)
    slow, fast = live.subscribe(), live.subscribe()
    got = []
    for i in range(20):
        live.on_event(Event(ev.BREATH, float(i), {"n": i}), status("holding"))
        got.append(fast.get(timeout=0))
    assert [m["data"]["event"]["n"] for m in drain(slow)] == [15, 16, 17, 18, 19]
    assert slow.dropped == 15 and fast.dropped == 0
    assert [m["data"]["event"]["n"] for m in got] == list(range(20))


def test_on_sample_never_blocks_with_many_stalled_subscribers():
    live = LiveState(sample_hz=80.0, queue_size=16)
    subs = [live.subscribe() for _ in range(10)]  # nobody ever reads
    started = time.perf_counter()
    for i in range(8000):
        live.on_sample(i / 80.0, 50.0 + math.sin(i), status())
    per_sample = (time.perf_counter() - started) / 8000
    assert per_sample < 0.002                      # generous: a blocked put would hang forever
    assert all(s.pending() == 16 for s in subs)


def test_get_waits_for_a_message_from_another_thread_and_close_wakes_it():
    live = LiveState()
    sub = live.subscribe()
    timer = threading.Timer(0.05, live.on_event, args=(Event(ev.STEP_ON, 1.0), status()))
    timer.start()
    msg = sub.get(timeout=5.0)
    assert msg is not None and msg["data"]["event"]["kind"] == "step_on"
    assert sub.get(timeout=0.01) is None
    threading.Timer(0.05, live.close_all).start()
    started = time.perf_counter()
    assert sub.get(timeout=5.0) is None
    assert time.perf_counter() - started < 2.0 and live.subscriber_count == 0


def test_unsubscribe_and_count():
    live = LiveState()
    a, b = live.subscribe(), live.subscribe()
    assert live.subscriber_count == 2
    live.unsubscribe(a)
    assert live.subscriber_count == 1 and a.get(timeout=1.0) is None
    live.on_event(Event(ev.STEP_ON, 0.0), status())
    assert b.get(timeout=0) is not None


def test_snapshot_is_strict_json_with_history_and_last_events():
    live = LiveState()
    live.on_sample(0.0, math.nan, status("fault", fault="unplugged", kg=math.nan))
    for i in range(1, 50):
        live.on_sample(i / 80.0, 30.0, status())
    live.on_event(Event(ev.STEP_ON, 0.5), status())
    snap = live.snapshot()
    assert snap["state"] == "standing" and snap["kg"] == 30.0
    assert snap["history"][0] == [0.0, None] and len(snap["history"]) == 7   # 10 Hz of 0.6 s
    assert snap["events"] == [{"kind": "step_on", "t": 0.5}]
    assert jsonable({"a": [math.inf, 1.5]}) == {"a": [None, 1.5]}
