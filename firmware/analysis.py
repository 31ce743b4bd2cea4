"""Offline analysis of a recorded trace: the detector run over every sample, summarised.

`analyze_samples` is the one place the DESIGN §5 analyze JSON is built, so the CLI
(`stretchstep analyze`), the plot and the benchmarks all agree with what the device would have
reported live: it is the same streaming detector, fed the same samples, in order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from firmware import events as ev
from firmware.detector import DetectorConfig, HoldDetector
from firmware.events import Event
from firmware.sensors.base import Sample
from firmware.sensors.trace import TraceError, iter_trace, rate_from
from firmware.words import counted

__all__ = ["TraceError", "analyze_samples", "analyze_trace", "format_table"]


def analyze_samples(samples: Iterable[Sample | tuple[float, float]], *, body_kg: float | None = None,
                    rate_hz: float | None = None, target_s: float = 30.0, target_breaths: int = 0,
                    keep_events: bool = False) -> dict[str, Any]:
    """Run the detector over samples (Sample or (t, kg)); the DESIGN §5 analyze dict.

    Each stretch is its stretch_end summary: `breaths` is the hold-wide count (which may differ
    from the live `breath` events, `breaths_live`) and `breaths_sure` says whether its presses
    stood clear of the sway. Extra fields: "events" (every event as a dict) when keep_events,
    "breath_times" per stretch (the live events' press peaks).
    """
    if body_kg is not None and not (20.0 <= body_kg <= 300.0):
        raise ValueError(f"body_kg={body_kg!r} is out of range; allowed 20 to 300 kg")
    if rate_hz is not None and not (0.0 < rate_hz <= 1000.0):
        raise ValueError(f"rate_hz={rate_hz!r} is out of range; allowed >0 to 1000")
    detector = HoldDetector(DetectorConfig(body_kg=body_kg, rate_hz=rate_hz, target_s=target_s,
                                           target_breaths=target_breaths))
    events: list[Event] = []
    count, first_t, last_t = 0, math.nan, math.nan
    gaps: list[float] = []
    feed = detector.feed
    for sample in samples:
        t, kg = (sample.t, sample.kg) if isinstance(sample, Sample) else sample
        if count == 0:
            first_t = t
        elif len(gaps) < 64 and t > last_t:
            gaps.append(t - last_t)
        count += 1
        last_t = t
        out = feed(t, kg)
        if out:
            events.extend(out)
    events.extend(detector.finish())
    if rate_hz is None:
        gaps.sort()
        rate_hz = 1.0 / gaps[len(gaps) // 2] if gaps else 0.0
    result = summarize(events, rate_hz=rate_hz, samples=count,
                       duration_s=(last_t - first_t) if count else 0.0)
    if keep_events:
        result["events"] = [e.to_dict() for e in events]
    return result


def summarize(events: Iterable[Event], *, rate_hz: float, samples: int, duration_s: float) -> dict[str, Any]:
    """Events -> the analyze JSON (stretches from stretch_end summaries, bounces, steps)."""
    stretches: list[dict[str, Any]] = []
    bounces: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    breath_times: list[float] = []
    for e in events:
        if e.kind == ev.STRETCH_END:
            stretches.append({**e.data, "breath_times": breath_times})
            breath_times = []
        elif e.kind == ev.STRETCH_START:
            breath_times = []
        elif e.kind == ev.BREATH:
            breath_times.append(e.data.get("peak_t", e.t))  # t may be held back to keep order
        elif e.kind == ev.BOUNCE:
            bounces.append({"t": e.t, "hz": e.data.get("hz"), "pp_kg": e.data.get("pp_kg")})
        elif e.kind == ev.STEP_ON:
            steps.append({"on": e.t, "off": None})
        elif e.kind == ev.STEP_OFF and steps and steps[-1]["off"] is None:
            steps[-1]["off"] = e.t
    return {
        "rate_hz": round(float(rate_hz), 3),
        "samples": samples,
        "duration_s": round(duration_s, 3),
        "stretches": stretches,
        "bounces": bounces,
        "steps": steps,
    }


def analyze_trace(path: str | Path, *, body_kg: float | None = None, keep_events: bool = False,
                  tap: Callable[[Sample], None] | None = None) -> dict[str, Any]:
    """Analyse a trace file (streamed, so a day-long trace needs little memory).

    `tap`, if given, sees every sample as it goes by (the plot takes its extent from it, so
    the file is not held in memory). Raises TraceError (naming file and line) for a malformed
    trace.
    """
    meta: dict[str, str] = {}
    samples = iter_trace(path, meta)
    first = next(samples, None)
    if first is None:
        raise TraceError(f"{path}: the trace has no samples")
    rate = rate_from(meta, [], str(path)) if "rate_hz" in meta else None

    def chained() -> Iterable[Sample]:
        yield first
        yield from samples

    def tapped(tap: Callable[[Sample], None]) -> Iterable[Sample]:
        for sample in chained():
            tap(sample)
            yield sample

    result = analyze_samples(chained() if tap is None else tapped(tap), body_kg=body_kg, rate_hz=rate,
                             keep_events=keep_events)
    result["trace"] = str(path)
    return result


def format_table(result: dict[str, Any]) -> str:
    """The human-readable report for `stretchstep analyze` without --json."""
    lines = [
        f"{result.get('trace', 'trace')}: {result['samples']} samples at {result['rate_hz']:g} Hz, "
        f"{result['duration_s']:.1f} s",
        "",
    ]
    stretches = result["stretches"]
    if stretches:
        lines.append(f"{'#':>3} {'start':>8} {'hold':>8} {'end':>8} {'hold_s':>7} {'breaths':>7} "
                     f"{'bounces':>7} {'done':>5} {'peak_kg':>8}")
        for n, s in enumerate(stretches, start=1):
            hold = "-" if s["hold_start"] is None else f"{s['hold_start']:.1f}"
            breaths = f"{s['breaths']}" if s.get("breaths_sure", True) else f"~{s['breaths']}"
            lines.append(f"{n:>3} {s['start']:>8.1f} {hold:>8} {s['end']:>8.1f} {s['hold_s']:>7.1f} "
                         f"{breaths:>7} {s['bounces']:>7} {'yes' if s['completed'] else 'no':>5} "
                         f"{s['peak_kg']:>8.1f}")
        done = sum(1 for s in stretches if s["completed"])
        lines.append(f"{len(stretches)} stretches, {done} completed"
                     + ("; ~N: a breath count the sway leaves unsure" if any(
                         not s.get("breaths_sure", True) for s in stretches) else ""))
    else:
        lines.append("no stretches")
    if result["bounces"]:
        lines.append("bounces: " + ", ".join(
            f"{b['t']:.1f} s ({b['hz']:g} Hz, {b['pp_kg']:g} kg pp)" for b in result["bounces"]))
    else:
        lines.append("no bounces")
    steps = result["steps"]
    lines.append(counted(len(steps), "step visit")
                 + (": " + ", ".join(f"{s['on']:.1f}-{'?' if s['off'] is None else format(s['off'], '.1f')}"
                                     for s in steps) if steps else ""))
    return "\n".join(lines)
