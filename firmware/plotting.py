"""`stretchstep plot`: a trace, what the detector found in it, and the truth if it sits beside it."""

from __future__ import annotations

import json
from pathlib import Path

from firmware.analysis import analyze_trace
from firmware.events import Event
from firmware.plot import render_svg
from firmware.sensors.trace import TraceError, read_trace


def truth_beside(trace: Path) -> dict | None:
    """NAME.truth.json next to NAME.csv (the corpus layout), if there is one."""
    path = trace.with_suffix(".truth.json")
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TraceError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None


def plot_trace(trace: Path, out: Path | None = None, *, body_kg: float | None = None) -> Path:
    result = analyze_trace(trace, body_kg=body_kg, keep_events=True)
    events = [Event(d.pop("kind"), d.pop("t"), d) for d in (dict(e) for e in result["events"])]
    samples = read_trace(trace).samples
    out = out or trace.with_suffix(".svg")
    out.write_text(render_svg(samples, events, truth_beside(trace), title=trace.name), encoding="utf-8")
    return out
