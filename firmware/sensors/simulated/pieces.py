"""Pieces: the clean load over a time span, and additive overlays (bounces).

`ScriptCompiler` turns segments into these; the player sums the piece covering an instant, the
overlays active then, and (where `person` is set) postural sway.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware.sensors.simulated.sway import sway_at


def smooth(x: float) -> float:
    """Cosine ease 0 -> 1 over x in [0, 1]: a smooth, physically plausible load change."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return 0.5 - 0.5 * math.cos(math.pi * x)


@dataclass
class Piece:
    """A span of the clean load. `person`: someone stands on the step (sway applies). In and
    around a stretch, `leg` is on the nosing, `stance` goes from `stance0` to `stance1` over the
    span (0 standing, 1 stretching: which geometry the sway comes through) and `damping` is
    how much a hand on the rail leaves of the stretching sway."""

    t0: float
    t1: float
    person: bool = False
    fault: str | None = None
    leg: str | None = None
    stance0: float = 0.0
    stance1: float = 0.0
    damping: float = 1.0

    def level(self, t: float) -> float:
        raise NotImplementedError

    def stance(self, t: float) -> float:
        if self.stance0 == self.stance1:
            return self.stance0
        span = self.t1 - self.t0
        x = smooth((t - self.t0) / span) if span > 0 else 1.0
        return self.stance0 + (self.stance1 - self.stance0) * x

    def sway_kg(self, sway: Callable[[float], float], t: float, level: float, usual_kg: float) -> float:
        """The sway this piece adds at t (with the load `level` here): the pose's sway, growing
        with the load up to the person's usual standing load (stepping on and off)."""
        pose = sway_at(sway, t, self.stance(t), self.leg, self.damping)
        return pose * min(1.0, max(0.0, level / usual_kg))


@dataclass
class Flat(Piece):
    value: float = 0.0

    def level(self, t: float) -> float:
        return self.value


@dataclass
class Ramp(Piece):
    a: float = 0.0
    b: float = 0.0

    def level(self, t: float) -> float:
        span = self.t1 - self.t0
        return self.a + (self.b - self.a) * smooth((t - self.t0) / span if span > 0 else 1.0)


@dataclass
class Breath:
    """One out-breath press then in-breath let-off; peak at start + press_s."""

    start: float
    press_s: float
    rise_kg: float
    inhale_s: float
    let_off_kg: float

    @property
    def peak_t(self) -> float:
        return self.start + self.press_s

    def level(self, t: float) -> float:
        x = t - self.start
        if x <= 0.0:
            return 0.0
        if x < self.press_s:
            return self.rise_kg * smooth(x / self.press_s)
        return self.rise_kg - self.let_off_kg * smooth((x - self.press_s) / self.inhale_s)


@dataclass
class HoldPiece(Piece):
    plateau: float = 0.0
    breaths: list[Breath] = field(default_factory=list)

    def level(self, t: float) -> float:
        total = self.plateau
        for breath in self.breaths:
            if t <= breath.start:
                break
            total += breath.level(t)
        return total


@dataclass
class Overlay:
    """An additive oscillation (a bounce): sin over whole cycles, so it starts and ends at 0."""

    t0: float
    t1: float
    hz: float
    amp_kg: float

    def level(self, t: float) -> float:
        if t <= self.t0 or t >= self.t1:
            return 0.0
        return self.amp_kg * math.sin(2.0 * math.pi * self.hz * (t - self.t0))
