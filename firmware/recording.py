"""`stretchstep record`: any source to a trace file, with progress, losing nothing on Ctrl-C.

Samples go to a temporary file beside OUT, renamed onto OUT at the end, so recording a replay
onto its own trace (`record --source replay:X X`) is refused up front, and no OUT is half
written over an older one while the source still runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from firmware.config import Config
from firmware.files import same_file
from firmware.sensors.trace import TraceError, TraceWriter
from firmware.sources import open_source


def record_trace(cfg: Config, out: Path, seconds: float, *, realtime: bool = False,
                 echo: Callable[[str], None] = print) -> int:
    """Write `seconds` of samples (by the source's own clock) to `out`; returns the sample count.

    Simulated and replayed sources run as fast as they can unless `realtime`; hardware runs at
    its own pace. A Ctrl-C stops early and keeps what was recorded.
    """
    spec = cfg.sensor.source
    check_output(out, spec)
    source = open_source(spec, cfg, fast=not realtime)
    meta = {"source": spec, "created": datetime.now(UTC).isoformat(timespec="seconds")}
    count = 0
    elapsed = 0.0
    next_report = 0.0
    start_wall = time.monotonic()
    part = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        writer = TraceWriter(part, source.rate_hz, meta)
    except OSError as exc:
        source.close()
        raise TraceError(f"{out}: cannot write: {exc.strerror}") from None
    try:
        t0: float | None = None
        for sample in source.samples():
            t0 = sample.t if t0 is None else t0
            elapsed = sample.t - t0
            if elapsed >= seconds:
                break
            if realtime and not source.live:
                _wait_until(start_wall + elapsed)
            writer.write(sample)
            count += 1
            if elapsed >= next_report:
                echo(f"recording {spec}: {elapsed:5.1f} / {seconds:g} s, {count} samples")
                next_report += max(1.0, seconds / 10)
    except KeyboardInterrupt:
        echo("stopped early; keeping what was recorded")
    finally:
        writer.close()
        source.close()
        os.replace(part, out)
    rate = f", {count / elapsed:.1f} samples/s" if elapsed > 0 else ""
    echo(f"wrote {count} samples ({elapsed:.1f} s of source time{rate}) to {out}")
    return count


def check_output(out: Path, spec: str) -> None:
    """Refuse an OUT that cannot be written, or that is the trace being replayed."""
    if out.is_dir():
        raise TraceError(f"{out}: is a folder; give a file name for the trace")
    if not out.parent.is_dir():
        raise TraceError(f"{out}: cannot write: folder {out.parent} does not exist")
    kind, _, arg = spec.partition(":")
    if kind == "replay" and same_file(out, arg):
        raise TraceError(f"{out}: is the trace being replayed; recording onto it would erase it. "
                         "Choose another OUT")


def _wait_until(due: float) -> None:
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
