"""`stretchstep record`: any source to a trace file, with progress, losing nothing on Ctrl-C."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from firmware.config import Config
from firmware.sensors.trace import TraceWriter
from firmware.sources import open_source


def record_trace(cfg: Config, out: Path, seconds: float, *, realtime: bool = False,
                 echo: Callable[[str], None] = print) -> int:
    """Write `seconds` of samples (by the source's own clock) to `out`; returns the sample count.

    Simulated and replayed sources run as fast as they can unless `realtime`; hardware runs at
    its own pace. A Ctrl-C stops early and keeps what was recorded.
    """
    spec = cfg.sensor.source
    source = open_source(spec, cfg, fast=not realtime)
    meta = {"source": spec, "created": datetime.now(UTC).isoformat(timespec="seconds")}
    count = 0
    elapsed = 0.0
    next_report = 0.0
    start_wall = time.monotonic()
    writer = TraceWriter(out, source.rate_hz, meta)
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
    rate = f", {count / elapsed:.1f} samples/s" if elapsed > 0 else ""
    echo(f"wrote {count} samples ({elapsed:.1f} s of source time{rate}) to {out}")
    return count


def _wait_until(due: float) -> None:
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
