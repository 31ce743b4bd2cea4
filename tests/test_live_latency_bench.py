"""What bench/live_latency.py relies on: event frames carry the wall clock of their emission,
and the report turns deliveries into percentiles and a verdict against the DESIGN §6 bar."""

from __future__ import annotations

import time

from bench.live_latency import BAR_P95_MS, percentile, report
from firmware import events as ev
from firmware.events import Event
from firmware.live import LiveState


def test_an_event_frame_carries_the_wall_clock_it_was_emitted_at() -> None:
    live = LiveState()
    sub = live.subscribe()
    before = time.time()
    live.on_event(Event(ev.BREATH, 12.5, {"n": 1}), {"state": "holding"})
    after = time.time()
    frame = sub.get(timeout=0)
    assert frame is not None and frame["type"] == "event"
    assert before <= frame["data"]["emitted_at"] <= after
    assert frame["data"]["event"] == {"kind": "breath", "t": 12.5, "n": 1}  # the event itself unchanged


def test_percentile_is_nearest_rank() -> None:
    ordered = [float(i) for i in range(1, 101)]
    assert [percentile(ordered, q) for q in (0.5, 0.95, 0.99)] == [51.0, 96.0, 100.0]
    assert percentile([7.0], 0.95) == 7.0


def test_report_passes_or_fails_on_the_p95_bar(capsys) -> None:
    fast = [(f"breath@{i}", 2.0) for i in range(95)] + [(f"bounce@{i}", 900.0) for i in range(5)]
    assert report(fast, phones=10, elapsed=60.0)
    out = capsys.readouterr().out
    assert "100 events, 100 deliveries" in out and "p95 900.0 ms" in out and "FAIL" in out
    assert report(fast[:95], phones=10, elapsed=60.0)
    out = capsys.readouterr().out
    assert f"p95 2.0 ms, p99 2.0 ms, max 2.0 ms  (bar: p95 <= {BAR_P95_MS:g} ms) PASS" in out


def test_report_says_when_nothing_was_measured(capsys) -> None:
    assert not report([], phones=3, elapsed=5.0)
    assert "no event in the window" in capsys.readouterr().out
