"""The naive baselines a detector must beat, run beside it in the same benchmark.

- `plain_timer(hold_s)`: breaths = round(hold_s / 7 s) -- a stopwatch that assumes a 7 s
  breath. The breath counter is set against it on the very same holds.
- `threshold_stretches(samples, body_kg)`: a stretch is wherever the 1 s mean load stays at or
  above 0.6 BW for at least 3 s (DESIGN §2: plateaus start at 0.6 BW, standing ends there),
  given the body weight the detector is never told; its breaths are the plain timer's.
  Returned in the analyze JSON's shape so the same scorer scores it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from typing import Any

from firmware.sensors.base import Sample

TIMER_BREATH_S = 7.0
THRESHOLD_FRAC = 0.6
MIN_STRETCH_S = 3.0
MEAN_S = 1.0


def plain_timer(hold_s: float) -> int:
    return int(round(hold_s / TIMER_BREATH_S))


def threshold_stretches(samples: Iterable[Sample], body_kg: float) -> dict[str, Any]:
    """Stretches where the trailing 1 s mean is >= 0.6 BW for >= 3 s (samples with a fault or a
    NaN are skipped); no bounces. The mean lags by half a second, so times are moved back by it."""
    line = THRESHOLD_FRAC * body_kg
    window: deque[tuple[float, float]] = deque()
    total, since, stretches = 0.0, None, []
    last_t = 0.0
    for s in samples:
        if not s.ok or math.isnan(s.kg):
            continue
        window.append((s.t, s.kg))
        total += s.kg
        while window[0][0] <= s.t - MEAN_S:
            total -= window.popleft()[1]
        above = total / len(window) >= line
        t = s.t - MEAN_S / 2
        if above and since is None:
            since = t
        elif not above and since is not None:
            _close(stretches, since, t)
            since = None
        last_t = t
    if since is not None:
        _close(stretches, since, last_t)
    return {"stretches": stretches, "bounces": []}


def _close(stretches: list[dict[str, Any]], start: float, end: float) -> None:
    if end - start >= MIN_STRETCH_S:
        hold_s = end - start
        stretches.append({"start": start, "end": end, "hold_s": hold_s, "breaths": plain_timer(hold_s),
                          "bounces": 0, "completed": hold_s >= 30.0})
