"""Postural sway for the simulated person: what standing on the step adds to the scripted load.

Two kinds: `default_sway`, a plain t -> kg wander (the demo person's), and `LeverSway`, the
lever model of DESIGN §2 (each foot's force times its centre of pressure over the board depth),
fed by synthetic feet (`synthetic_feet`) or recorded ones (`recorded_foot`, from a force plate).
`band_pp` measures sway where it competes with breath presses: the 0.08-0.25 Hz band.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

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


# --------------------------------------------------------------------------------------------
# The lever (DESIGN §2): the cell carries the moment of each foot's force about the hinge.

NOSING_M = 0.03  # the stretching foot's centre of pressure sits this far inside the nosing
TOWARD_TOES = -1.0  # the user faces the hinge (heels hang past the nosing): toes point to x = 0


def lever_load(feet: Iterable[tuple[float, float]], board_m: float) -> float:
    """The load at the edge cell (kg) of feet given as (force kg, centre of pressure m from the
    hinge): sum F_i * x_i / L."""
    return sum(force * x for force, x in feet) / board_m


@dataclass
class Foot:
    """One foot's quiet-standing force and antero-posterior centre of pressure, as deviations
    about their means (kg, m; COP positive towards the toes), each a t -> value function."""

    mean_kg: float
    force: Callable[[float], float]
    cop: Callable[[float], float]
    force_bound: float  # largest |force(t)|
    cop_bound: float    # largest |cop(t)|
    cross_mean: float = 0.0  # mean of force(t) * cop(t), so the lever's output has mean 0


@dataclass(frozen=True)
class Geometry:
    """Where the feet stand along a board of depth `board_m`: standing mid-board (x from the
    hinge, m); in a stretch the stretching foot's forefoot is on the nosing, the other stays."""

    board_m: float = 0.28
    right_m: float = 0.14
    left_m: float = 0.14

    def positions(self, leg: str | None) -> tuple[float, float]:
        nosing = self.board_m - NOSING_M
        if leg == "right":
            return nosing, self.left_m
        if leg == "left":
            return self.right_m, nosing
        return self.right_m, self.left_m


class LeverSway:
    """Postural sway as the edge cell sees it: per-foot force and COP through the lever.

    `sway(t)` is the standing sway (kg about its mean), so a LeverSway goes wherever a t -> kg
    sway does; `sway.stretching(t, leg)` is the same person's sway with `leg` on the nosing,
    where their left/right weight shifting shows scaled by how far apart the feet stand.
    `source` says where the feet came from (a recording, or "synthetic").
    """

    def __init__(self, right: Foot, left: Foot, geometry: Geometry, source: str = "synthetic"):
        self.right, self.left, self.geometry, self.source = right, left, geometry, source
        self.bound = max(self._bound(self.geometry.positions(leg)) for leg in (None, "right", "left"))

    def __call__(self, t: float) -> float:
        return self._at(t, self.geometry.positions(None))

    def stretching(self, t: float, leg: str) -> float:
        return self._at(t, self.geometry.positions(leg))

    def _at(self, t: float, xs: tuple[float, float]) -> float:
        total = 0.0
        for foot, x in ((self.right, xs[0]), (self.left, xs[1])):
            f = foot.force(t)
            total += f * x + TOWARD_TOES * ((foot.mean_kg + f) * foot.cop(t) - foot.cross_mean)
        return total / self.geometry.board_m

    def _bound(self, xs: tuple[float, float]) -> float:
        return sum(foot.force_bound * x + (foot.mean_kg + foot.force_bound) * foot.cop_bound
                   + abs(foot.cross_mean) for foot, x in ((self.right, xs[0]), (self.left, xs[1]))
                   ) / self.geometry.board_m


def sway_at(sway: Callable[[float], float], t: float, stance: float, leg: str | None,
            damping: float) -> float:
    """The sway under a piece: the standing sway blended (stance 0 -> 1) into the stretching
    sway, which a hand on the rail damps (x damping). A plain t -> kg sway has one geometry."""
    if stance <= 0.0:
        return sway(t)
    stretching = getattr(sway, "stretching", None)
    if stretching is None or leg is None:
        gain = 1.0 - stance + stance * damping
        return sway(t) if gain == 1.0 else gain * sway(t)
    stretch = damping * stretching(t, leg)
    return stretch if stance >= 1.0 else (1.0 - stance) * sway(t) + stance * stretch


class Sinusoids:
    """A sum of sinusoids as a t -> value function: synthetic noise with a chosen spectrum."""

    def __init__(self, parts: list[tuple[float, float, float]]):
        self.parts = parts  # (amplitude, Hz, phase)
        self.bound = sum(abs(a) for a, _, _ in parts)

    def __call__(self, t: float) -> float:
        return sum(a * math.sin(2.0 * math.pi * f * t + p) for a, f, p in self.parts)

    @classmethod
    def draw(cls, rng: random.Random, rms: float, slope: float, n: int = 8,
             band_hz: tuple[float, float] = (0.03, 1.2)) -> Sinusoids:
        """`n` random-phase components, log-uniform in `band_hz`, power falling as f^-slope,
        scaled to RMS `rms`."""
        lo, hi = band_hz
        freqs = [math.exp(rng.uniform(math.log(lo), math.log(hi))) for _ in range(n)]
        weights = [f ** (-slope / 2.0) for f in freqs]
        norm = math.sqrt(sum(w * w for w in weights) / 2.0)
        return cls([(rms * w / norm, f, rng.uniform(0.0, 2.0 * math.pi)) for w, f in zip(weights, freqs,
                                                                                           strict=True)])


def synthetic_feet(rng: random.Random, body_kg: float, geometry: Geometry, sd_frac: float,
                   shift_frac: float, slope: float) -> LeverSway:
    """A synthetic person's feet: a common AP sway of the COP sized so that standing sway is
    `sd_frac` of body weight (SD), and left/right weight shifting of `shift_frac` BW (SD per
    foot), both with power falling as f^-slope; a little of each foot's own on top."""
    cop_rms = sd_frac * geometry.board_m  # standing: BW * dCOP / L
    ap = Sinusoids.draw(rng, cop_rms, slope)
    lr = Sinusoids.draw(rng, shift_frac * body_kg, slope)
    feet = []
    for sign in (1.0, -1.0):
        own_cop = Sinusoids.draw(rng, 0.25 * cop_rms, slope)
        own_f = Sinusoids.draw(rng, 0.1 * shift_frac * body_kg, slope)

        def force(t: float, sign: float = sign, own_f: Sinusoids = own_f) -> float:
            return sign * lr(t) + own_f(t)

        def cop(t: float, own_cop: Sinusoids = own_cop) -> float:
            return ap(t) + own_cop(t)

        feet.append(Foot(body_kg / 2.0, force, cop, lr.bound + own_f.bound, ap.bound + own_cop.bound))
    return LeverSway(feet[0], feet[1], geometry, source="synthetic")


class MirroredSeries:
    """A recorded series (values at `rate_hz`) as a t -> value function, played from `offset_s`
    forwards, then backwards, and so on, so it never jumps however long the trace."""

    def __init__(self, values: list[float], rate_hz: float, offset_s: float = 0.0):
        if len(values) < 2:
            raise ValueError("a recorded series needs at least two values")
        self.values, self.rate_hz, self.offset_s = values, rate_hz, offset_s
        self.period = len(values) - 1
        self.bound = max(abs(v) for v in values)

    def __call__(self, t: float) -> float:
        x = ((t + self.offset_s) * self.rate_hz) % (2 * self.period)
        x = 2 * self.period - x if x > self.period else x
        i = min(int(x), self.period - 1)
        v = self.values
        return v[i] + (x - i) * (v[i + 1] - v[i])


def recorded_foot(force_kg: list[float], cop_m: list[float], rate_hz: float, offset_s: float = 0.0) -> Foot:
    """A Foot from one plate's recorded vertical force (kg) and AP centre of pressure (m,
    positive towards the toes), both taken about their means."""
    mean_f = sum(force_kg) / len(force_kg)
    mean_c = sum(cop_m) / len(cop_m)
    f = [v - mean_f for v in force_kg]
    c = [v - mean_c for v in cop_m]
    force, cop = MirroredSeries(f, rate_hz, offset_s), MirroredSeries(c, rate_hz, offset_s)
    cross = sum(a * b for a, b in zip(f, c, strict=True)) / len(f)
    return Foot(mean_f, force, cop, force.bound, cop.bound, cross)


# --------------------------------------------------------------------------------------------
# The breathing band (0.08-0.25 Hz: 4-12 s cycles), where sway competes with breath presses.

BAND_HZ = (0.08, 0.25)


def biquad(kind: str, f0: float, fs: float, q: float = math.sqrt(0.5)) -> tuple[list[float], list[float]]:
    """RBJ audio-EQ-cookbook 2nd-order low- or high-pass: (b, a) with a[0] = 1."""
    w = 2.0 * math.pi * f0 / fs
    alpha, cw = math.sin(w) / (2.0 * q), math.cos(w)
    b1 = 1.0 - cw if kind == "low" else -(1.0 + cw)
    b0 = b1 / 2.0 if kind == "low" else (1.0 + cw) / 2.0
    a0 = 1.0 + alpha
    return [b0 / a0, b1 / a0, b0 / a0], [1.0, -2.0 * cw / a0, (1.0 - alpha) / a0]


def run_filter(ba: tuple[list[float], list[float]], x: list[float]) -> list[float]:
    (b0, b1, b2), (_, a1, a2) = ba
    out, x1, x2, y1, y2 = [], x[0], x[0], 0.0, 0.0
    if b0 + b1 + b2 > 0.5:  # low-pass: start settled at the first value
        y1 = y2 = x[0]
    for v in x:
        y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2, x1, y2, y1 = x1, v, y1, y
        out.append(y)
    return out


def band(x: list[float], fs: float, lo: float = BAND_HZ[0], hi: float = BAND_HZ[1]) -> list[float]:
    """Zero-phase band-pass: high-pass at lo, low-pass at hi, forwards then backwards."""
    y = x
    for ba in (biquad("high", lo, fs), biquad("low", hi, fs)):
        y = run_filter(ba, y)
        y = run_filter(ba, y[::-1])[::-1]
    return y


BAND_RATE_HZ = 10.0
BAND_SETTLE_S = 30.0  # filtered this far either side of a span, so the filter has settled


def band_pp(value: Callable[[float], float], t0: float, t1: float) -> float:
    """Peak to peak (kg) over [t0, t1] of a t -> kg function's breathing-band part."""
    n0 = int(math.floor((t0 - BAND_SETTLE_S) * BAND_RATE_HZ))
    n1 = int(math.ceil((t1 + BAND_SETTLE_S) * BAND_RATE_HZ)) + 1
    times = [n / BAND_RATE_HZ for n in range(n0, n1)]
    banded = band([value(t) for t in times], fs=BAND_RATE_HZ)
    inside = [v for t, v in zip(times, banded, strict=True) if t0 <= t <= t1]
    return max(inside) - min(inside) if inside else 0.0
