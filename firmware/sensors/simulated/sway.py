"""Postural sway for the simulated person: what standing on the step adds to the scripted load."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

SWAY_FRAC = 0.005  # postural sway, RMS share of body weight: peaks ~1-1.5 % BW (DESIGN §2: ~1 %)


def default_sway(body_kg: float, seed: int, rms_frac: float = SWAY_FRAC) -> Callable[[float], float]:
    """Postural sway: six random-phase sinusoids at 0.1-1 Hz, RMS `rms_frac` of body weight.

    Lower frequencies get more amplitude (sway is mostly slow), peaks reach ~1-1.5 % BW; six
    incommensurate components make an irregular, non-repeating wander, like filtered noise.
    """
    rng = random.Random(f"{seed}:sway")
    freqs = [math.exp(rng.uniform(math.log(0.1), math.log(1.0))) for _ in range(6)]
    weights = [1.0 / math.sqrt(f) for f in freqs]
    norm = math.sqrt(sum(w * w for w in weights) / 2.0)
    amps = [rms_frac * body_kg * w / norm for w in weights]
    phases = [rng.uniform(0.0, 2.0 * math.pi) for _ in freqs]
    parts = list(zip(amps, freqs, phases, strict=True))

    def sway(t: float) -> float:
        return sum(a * math.sin(2.0 * math.pi * f * t + p) for a, f, p in parts)

    sway.bound = sum(amps)  # type: ignore[attr-defined]  # lets the truth skip hopeless instants
    return sway
