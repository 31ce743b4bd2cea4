"""The small interface every sample source keeps, so the loop never knows which one it has.

A source yields `Sample`s in time order. Timestamps are the source's own clock in seconds
(the simulated person and replay start at their own origin; hardware uses a monotonic clock).
`live` tells the loop whether the source paces itself (hardware blocks until the chip is ready)
or must be paced by the loop against its timestamps (simulation, replay).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading in kg after tare and scale. `kg` is NaN when `fault` says why there is none."""

    t: float
    kg: float
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.fault is None and not math.isnan(self.kg)


@runtime_checkable
class SampleSource(Protocol):
    rate_hz: float
    live: bool

    def samples(self) -> Iterator[Sample]:
        """Yield samples until the source ends (a trace) or forever (a person, a sensor)."""
        ...

    def close(self) -> None:
        """Release pins, files, threads. Safe to call twice."""
        ...
