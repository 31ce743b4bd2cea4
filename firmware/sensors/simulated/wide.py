"""A person and their holds drawn across the whole of DESIGN §2, each range independently.

`Ranges` holds every range of DESIGN §2's signal model; `DESIGN_RANGES` is the model itself and a
benchmark corpus narrows some fields (`dataclasses.replace`) to draw a corner (only short
cycles, only staircases, ...). `draw_person` draws the person, their step and their sway
(`LeverSway` over synthetic feet unless a recorded one is given); `draw_hold` one hold; the
scenarios `wide` (a visit of holds with short pauses and foot shifts in a row) and `walking`
(plain standing whose level walks in several shifts) are in `WIDE_SCENARIOS`.

The named scenarios in `scenarios.py` (and the endless demo person) keep their narrower,
friendlier draws; these are for measuring a detector against everything the model allows.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.sensors.simulated.scenarios import ROUTINE, place_bounces
from firmware.sensors.simulated.segments import (
    Hold,
    Off,
    Segment,
    ShiftFoot,
    Stand,
    StepOff,
    StepOn,
    Unplug,
)
from firmware.sensors.simulated.sway import Geometry, synthetic_feet

Span = tuple[float, float]


@dataclass(frozen=True)
class Ranges:
    """DESIGN §2's ranges (fractions are of body weight, BW). Breaths: 0-8 occur, typically 3-6
    (`typical_share` of holds draw from `typical_breaths`)."""

    body_kg: Span = (45.0, 120.0)
    stand_frac: Span = (0.25, 0.6)
    board_m: Span = (0.25, 0.30)
    foot_frac: Span = (0.42, 0.58)       # each foot's standing position along the board, x / L
    sway_sd_frac: Span = (0.003, 0.015)  # standing sway SD (its AP part, through the lever)
    shift_sd_frac: Span = (0.003, 0.015)  # left/right weight shifting, SD per foot
    sway_slope: Span = (0.5, 2.0)        # sway power falls as f^-slope
    damping: Span = (0.5, 1.0)           # a hand on the rail leaves this much of the sway
    breaths: tuple[int, int] = (0, 8)
    typical_breaths: tuple[int, int] = (3, 6)
    typical_share: float = 0.75
    cycle_s: Span = (4.0, 12.0)
    cycle_vary: float = 0.25             # each cycle within +-25 % of the hold's
    exhale_share: Span = (0.3, 0.6)
    let_off: Span = (0.0, 1.0)           # share of each press let off on the in-breath
    press_frac: Span = (0.02, 0.06)
    press_vary: float = 0.1
    plateau_frac: Span = (0.6, 1.0)
    ramp_s: Span = (1.0, 4.0)
    release_s: Span = (1.0, 4.0)
    lead_s: Span = (0.8, 3.0)
    tail_s: Span = (0.8, 3.0)
    pause_s: Span = (3.0, 20.0)          # standing between stretches
    shift_s: Span = (0.3, 1.0)
    shift_step: float = 0.1              # a foot shift steps the level by at most this
    walk_frac: Span = (0.2, 0.6)         # where shifts in a row may walk the standing level
    shifts_in_row: tuple[int, int] = (1, 4)
    noise_kg: Span = (0.02, 0.15)
    drift_kg_per_h: float = 0.5


DESIGN_RANGES = Ranges()


def _u(rng: random.Random, span: Span) -> float:
    return rng.uniform(*span)


def draw_person(rng: random.Random, rate_hz: float, ranges: Ranges = DESIGN_RANGES, *,
                body_kg: float | None = None,
                feet: Callable[[Geometry], Any] | None = None) -> dict[str, Any]:
    """`SimulatedPerson` keywords for one person: body, standing share, sensor (noise, drift,
    glitches, drops, jitter) and sway through the lever of a board drawn for them. `feet`, given
    a Geometry, returns a recorded person's LeverSway (with `body_kg` their weight)."""
    body = _u(rng, ranges.body_kg) if body_kg is None else body_kg
    board = _u(rng, ranges.board_m)
    geometry = Geometry(board, _u(rng, ranges.foot_frac) * board, _u(rng, ranges.foot_frac) * board)
    if feet is None:
        sway = synthetic_feet(rng, body, geometry, _u(rng, ranges.sway_sd_frac),
                              _u(rng, ranges.shift_sd_frac), _u(rng, ranges.sway_slope))
    else:
        sway = feet(geometry)
    return {
        "body_kg": round(body, 2),
        "stand_frac": round(_u(rng, ranges.stand_frac), 3),
        "noise_kg": round(_u(rng, ranges.noise_kg), 3),
        "drift_kg_per_h": round(rng.uniform(-1, 1) * ranges.drift_kg_per_h, 3) if rng.random() < 0.5 else 0.0,
        "glitch_rate": round(rng.uniform(1e-4, 2e-3), 5) if rng.random() < 0.4 else 0.0,
        "drop_rate": round(rng.uniform(1e-3, 2e-2), 4) if rng.random() < 0.3 else 0.0,
        "jitter_s": round(rng.uniform(0.0, 0.4 / rate_hz), 5) if rng.random() < 0.3 else 0.0,
        "sway": sway,
    }


def draw_breaths(rng: random.Random, ranges: Ranges) -> int:
    lo, hi = ranges.breaths
    t_lo, t_hi = max(lo, ranges.typical_breaths[0]), min(hi, ranges.typical_breaths[1])
    if t_lo <= t_hi and rng.random() < ranges.typical_share:
        return rng.randint(t_lo, t_hi)
    return rng.randint(lo, hi)


def draw_hold(rng: random.Random, stand_frac: float, ranges: Ranges = DESIGN_RANGES, *, leg: str = "right",
              knee: str = "straight", bounces: int = 0, early: bool = False,
              release_to: str = "standing") -> Hold:
    """One hold, every parameter drawn on its own across `ranges`; its length is what its breaths
    make it (lead + cycles + tail; 4-40 s without breaths), so completion falls where it falls.
    The plateau stays at least 0.15 BW above `stand_frac`; the presses keep the peak within the
    body weight."""
    n = draw_breaths(rng, ranges)
    cycle = _u(rng, ranges.cycle_s)
    share = _u(rng, ranges.exhale_share)
    let_off = _u(rng, ranges.let_off)
    press = _u(rng, ranges.press_frac)
    lead, tail = _u(rng, ranges.lead_s), _u(rng, ranges.tail_s)
    lower = max(ranges.plateau_frac[0], stand_frac + 0.15)
    presses = (n * (1.0 - let_off) + 1.0) * (1.0 + ranges.press_vary)  # the top, in presses
    if lower + press * presses > 1.0:
        press = max(ranges.press_frac[0], (1.0 - lower) / presses)
    upper = max(lower, min(ranges.plateau_frac[1], 1.0 - press * presses))
    plateau = rng.uniform(lower, upper)
    in_breath = (1.0 - share) * cycle * (1.0 - ranges.cycle_vary)
    placed, lead = place_bounces(rng, bounces, n, in_breath, lead)
    return Hold(breaths=n, cycle_s=round(cycle, 3), press_frac=round(press, 4),
                plateau_frac=round(plateau, 4),
                ramp_s=round(_u(rng, ranges.ramp_s), 3), release_s=round(_u(rng, ranges.release_s), 3),
                bounces=placed, release_to=release_to, early_release=early, leg=leg, knee=knee,
                lead_s=round(lead, 3), tail_s=round(tail, 3), let_off=round(let_off, 4),
                hold_s=round(rng.uniform(4.0, 40.0), 3) if n == 0 else None,  # breathing unseen
                vary=ranges.cycle_vary, exhale_share=round(share, 4), press_vary=ranges.press_vary,
                damping=round(_u(rng, ranges.damping), 3))


BURST_MAX = 0.14  # of BW: a row of shifts stays short of a stretch's 0.15 BW rise


class _Stance:
    """The standing level as the compiler will walk it (ShiftFoot's rules), so that holds drawn
    after shifts keep their plateau above the standing just before."""

    def __init__(self, frac: float):
        self.frac = frac

    def shifts(self, rng: random.Random, ranges: Ranges, seconds: float) -> list[Segment]:
        """Shifts in a row, each towards a level drawn anywhere in `walk_frac` (a step of at most
        `shift_step`), with a little standing after each; the whole fits in `seconds`. A row
        never moves the level by `BURST_MAX` or more: that much in a few seconds, up to 0.6 BW,
        is what DESIGN §2 calls a stretch's ramp, and idle truth must not be one."""
        segs: list[Segment] = []
        left, start = seconds, self.frac
        for _ in range(rng.randint(*ranges.shifts_in_row)):
            took = _u(rng, ranges.shift_s)
            settle = rng.uniform(0.3, 3.0)
            if took + settle > left:
                break
            wanted = min(max(_u(rng, ranges.walk_frac), start - BURST_MAX), start + BURST_MAX)
            step = min(max(wanted - self.frac, -ranges.shift_step), ranges.shift_step)
            target = self.frac + step
            self.frac = min(max(target, 0.2), 0.6)
            segs += [ShiftFoot(seconds=round(took, 3), to_frac=round(target, 4)), Stand(round(settle, 3))]
            left -= took + settle
        return segs + ([Stand(round(left, 3))] if left > 0 else [])


def _pause(rng: random.Random, ranges: Ranges, stance: _Stance, shift_p: float) -> list[Segment]:
    seconds = _u(rng, ranges.pause_s)
    if rng.random() < shift_p:
        first = rng.uniform(0.5, 2.0)
        return [Stand(round(first, 3)), *stance.shifts(rng, ranges, seconds - first)]
    return [Stand(round(seconds, 3))]


def wide_visit(rng: random.Random, body_kg: float, stand_frac: float, ranges: Ranges = DESIGN_RANGES,
               holds: int | None = None, bounce_p: float = 0.3, early_p: float = 0.12, off_p: float = 0.1,
               shift_p: float = 0.4, unplug: bool = False) -> list:
    """A visit of 2-6 holds drawn across `ranges` (legs and knees in routine order), pauses of
    `pause_s` between them, some with foot shifts in a row; now and then a bounce, an early
    release, a step off mid-stretch; with `unplug` the sensor drops out while standing."""
    stance = _Stance(stand_frac)
    segs: list[Segment] = [Off(round(rng.uniform(2.0, 5.0), 3)), StepOn(round(rng.uniform(0.4, 1.0), 3)),
                           Stand(round(rng.uniform(2.0, 6.0), 3))]
    if unplug:
        segs += [Unplug(round(rng.uniform(1.0, 5.0), 3)), Stand(round(rng.uniform(1.0, 3.0), 3))]
    n = rng.randint(2, 6) if holds is None else holds
    for i in range(n):
        leg, knee = ROUTINE[i % 4]
        off = rng.random() < off_p
        hold = draw_hold(rng, stance.frac, ranges, leg=leg, knee=knee,
                         bounces=1 if rng.random() < bounce_p else 0, early=rng.random() < early_p,
                         release_to="off" if off else "standing")
        segs.append(hold)
        if off:
            segs += [Off(round(rng.uniform(2.0, 6.0), 3)), StepOn(round(rng.uniform(0.4, 1.0), 3))]
        segs += _pause(rng, ranges, stance, shift_p)
    return segs + [StepOff(round(rng.uniform(0.4, 1.0), 3)), Off(round(rng.uniform(2.0, 5.0), 3))]


def walking(rng: random.Random, body_kg: float, stand_frac: float, ranges: Ranges = DESIGN_RANGES,
            minutes: float = 3.0) -> list:
    """Plain standing for `minutes` whose level walks: bursts of foot shifts in a row (each up
    to +-10 % BW in 0.3-1 s, anywhere in 0.2-0.6 BW), quiet standing of 3-40 s between."""
    stance = _Stance(stand_frac)
    segs: list[Segment] = [Off(round(rng.uniform(2.0, 5.0), 3)), StepOn(round(rng.uniform(0.4, 1.0), 3))]
    left = minutes * 60.0
    while left > 0:
        quiet = min(left, rng.uniform(3.0, 40.0))
        segs.append(Stand(round(quiet, 3)))
        left -= quiet
        if left > 8.0:
            burst = rng.uniform(4.0, 8.0)
            segs += stance.shifts(rng, ranges, burst)
            left -= burst
    return segs + [StepOff(round(rng.uniform(0.4, 1.0), 3)), Off(round(rng.uniform(2.0, 5.0), 3))]


WIDE_SCENARIOS: dict[str, Callable[..., list]] = {"wide": wide_visit, "walking": walking}
