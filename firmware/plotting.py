"""`stretchstep plot`: a trace, what the detector found in it, and the truth if it sits beside it.

The trace is read twice as a stream (once for the detector and the plot's extent, once for the
decimated line), so memory stays small for a trace of any length, and the SVG is written to a
temporary file renamed into place: nothing is opened for writing until the inputs were read,
and a plot never replaces its own trace.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from firmware.analysis import analyze_trace
from firmware.events import Event
from firmware.files import PUBLIC_MODE, same_file, write_atomic
from firmware.plot import Extent, render_svg
from firmware.sensors.trace import TraceError, iter_trace

TRUTH_MAX_BYTES = 16 * 1024 * 1024


def truth_beside(trace: Path) -> dict | None:
    """NAME.truth.json next to NAME.csv (the corpus layout), if there is one."""
    path = trace.with_suffix(".truth.json")
    if not path.is_file():
        return None
    try:
        if path.stat().st_size > TRUTH_MAX_BYTES:
            raise TraceError(f"{path}: too large for a truth file")
        truth = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TraceError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except (UnicodeDecodeError, RecursionError):
        raise TraceError(f"{path}: not a truth file (not UTF-8 JSON text)") from None
    except OSError as exc:
        raise TraceError(f"{path}: cannot read: {exc.strerror}") from None
    return _checked_truth(truth, path)


def _checked_truth(truth: Any, path: Path) -> dict:
    """The truth lane draws stretches and bounces by their times: refuse anything else clearly."""
    def times_ok(item: Any, keys: tuple[str, ...]) -> bool:
        return isinstance(item, dict) and all(
            isinstance(item.get(k), int | float) and not isinstance(item.get(k), bool)
            and math.isfinite(item[k]) for k in keys)

    ok = isinstance(truth, dict)
    if ok:
        stretches, bounces = truth.get("stretches", []), truth.get("bounces", [])
        ok = (isinstance(stretches, list) and isinstance(bounces, list)
              and all(times_ok(s, ("start", "end")) for s in stretches)
              and all(times_ok(b, ("t",)) for b in bounces))
    if not ok:
        raise TraceError(f"{path}: not a truth file: expected {{\"stretches\": [{{\"start\", \"end\", "
                         "...}], \"bounces\": [{\"t\", ...}]} with numbers for the times")
    return truth


def default_out(trace: Path) -> Path:
    """TRACE with .svg; NAME.plot.svg when the trace itself ends in .svg."""
    out = trace.with_suffix(".svg")
    return out.with_name(out.stem + ".plot.svg") if out == trace else out


def plot_trace(trace: Path, out: Path | None = None, *, body_kg: float | None = None) -> Path:
    out = out or default_out(trace)
    if out == trace or same_file(out, trace):
        raise TraceError(f"{out}: is the trace itself; choose another output with -o")
    if not out.parent.is_dir():
        raise TraceError(f"{out}: cannot write: folder {out.parent} does not exist")
    extent = Extent()
    result = analyze_trace(trace, body_kg=body_kg, keep_events=True, tap=extent.add)
    events = [Event(d.pop("kind"), d.pop("t"), d) for d in (dict(e) for e in result["events"])]
    svg = render_svg(iter_trace(trace), events, truth_beside(trace), title=trace.name, extent=extent)
    try:
        return write_atomic(out, svg, mode=PUBLIC_MODE)
    except OSError as exc:
        raise TraceError(f"{out}: cannot write: {exc.strerror}") from None
