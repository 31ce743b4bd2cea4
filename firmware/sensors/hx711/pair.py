"""Optional second cell: two HX711s under the left and right halves of the step's edge.

The detector still sees one signal, the total load at the edge (left + right), so everything
that works with one cell works unchanged. The split tells which foot is stretching: in a
one-leg heel drop the stretching foot carries the load at the edge, so its half reads most of
it. `PairedSource.leg` gives "left"/"right" for the latest sample (None when the load is even
or small); the device can put it on the events it emits.

Each cell is a kg SampleSource of its own (calibrated elsewhere: firmware.calibration.cells
gives each its file, "hx711" for cell 1 and "hx711-2" for cell 2); this module only pairs them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from firmware.sensors.base import Sample, SampleSource

SECOND_CELL = "hx711-2"


def leg_of(left_kg: float, right_kg: float, *, share: float = 0.65, min_kg: float = 5.0) -> str | None:
    """Which half carries the load: 'right' if it has more than `share` of it, 'left' likewise."""
    total = left_kg + right_kg
    if not math.isfinite(total) or total < min_kg:
        return None
    right = right_kg / total
    if right >= share:
        return "right"
    if right <= 1.0 - share:
        return "left"
    return None


class PairedSource:
    """Two kg sources (one per cell) as one SampleSource: kg = left + right, at the later timestamp.

    The two chips convert independently at the same rate; each output sample pairs the newest
    reading of each. A fault on either cell is a fault of the step (the total is unknown).
    """

    def __init__(self, left: SampleSource, right: SampleSource, *,
                 ended: Callable[[], bool] | None = None) -> None:
        if left.rate_hz != right.rate_hz:
            raise ValueError(f"both HX711s must run at the same rate, not {left.rate_hz:g} "
                             f"and {right.rate_hz:g}")
        self.left, self.right = left, right
        self.rate_hz = left.rate_hz
        self.live = left.live and right.live
        self.left_kg = self.right_kg = math.nan
        self.fault_cell: str | None = None
        self._ended = ended or (lambda: False)

    @property
    def cells(self) -> tuple[SampleSource, SampleSource]:
        """Both cells: tare zeroes each, and each drops its own glitches on raw codes."""
        return self.left, self.right

    @property
    def leg(self) -> str | None:
        return leg_of(self.left_kg, self.right_kg)

    def samples(self) -> Iterator[Sample]:
        lefts, rights = self.left.samples(), self.right.samples()
        for a, b in zip(lefts, rights, strict=False):
            if self._ended():
                return
            t = max(a.t, b.t)
            self.left_kg, self.right_kg = a.kg, b.kg
            bad = next(((side, s.fault) for side, s in (("left", a), ("right", b)) if s.fault), None)
            self.fault_cell = bad[0] if bad else None
            yield Sample(t, math.nan, bad[1]) if bad else Sample(t, a.kg + b.kg)

    def close(self) -> None:
        self.left.close()
        self.right.close()
