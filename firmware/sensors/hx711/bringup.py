"""`stretchstep bringup`: does the chip answer, its raw codes, the rate it achieves.

Works on any raw reader (the real chip, the kernel's IIO driver, the emulated chip): it only
needs `readings()` and `rate_hz`, and says in words what to check when the answer is no.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from firmware.sensors.hx711.reading import NOT_READY, SATURATED_HIGH, SATURATED_LOW


def bring_up(reader: Any, seconds: float = 5.0, echo: Callable[[str], None] = print) -> int:
    """Check the chip answers, show raw codes and the achieved rate; exit status 0 if it works."""
    start: float | None = None
    codes: list[int] = []
    times: list[float] = []
    for reading in reader.readings():
        start = reading.t if start is None else start
        if reading.problem == NOT_READY:
            echo(f"NO ANSWER: {reading.detail}")
            return 1
        if reading.code is not None:
            codes.append(reading.code)
            times.append(reading.t)
            if len(codes) % max(1, int(reader.rate_hz)) == 1:
                echo(f"t={reading.t - start:6.2f} s  raw {reading.code:+9d}")
        if reading.t - start >= seconds:
            break
    if len(codes) < 2:
        echo("no usable readings")
        return 1
    saturated = sum(1 for c in codes if c in (SATURATED_HIGH, SATURATED_LOW))
    rate = (len(codes) - 1) / (times[-1] - times[0])
    echo(f"chip answered: {rate:.1f} readings/s (RATE pin says {reader.rate_hz:g}); "
         f"raw from {min(codes):+d} to {max(codes):+d}; {saturated} saturated"
         + (f"; reads: {reader.counts}" if hasattr(reader, "counts") else ""))
    echo("Now press on the step edge and run `stretchstep bringup` again: the code should rise. If "
         "it falls, swap the cell's A+ and A- wires (or keep it: calibration accepts a negative scale).")
    return 0 if not saturated else 1
