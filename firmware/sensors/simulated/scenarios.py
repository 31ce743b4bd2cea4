"""Named, seeded scripts for the simulated person, and the endless user.

Each builder takes a `random.Random` and the person's body weight and standing share and
returns a list of segments that stays inside DESIGN §2's ranges. `random_hold` is the one place
a realistic heel-drop hold is drawn, so scenarios, the endless person and the benchmark corpus
all share it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from firmware.sensors.simulated.segments import (
    Bag,
    Bounce,
    Hold,
    Off,
    Segment,
    ShiftFoot,
    Stand,
    StepOff,
    StepOn,
    Unplug,
)

ROUTINE = [("right", "straight"), ("left", "straight"), ("right", "bent"), ("left", "bent")]


def random_bounce(rng: random.Random, window_s: float, at_s: float,
                  after_breath: int | None = None) -> Bounce:
    """A bounce (1-3 Hz, 5-30 % BW pp) that fits in `window_s` seconds when it can (>= 1 cycle)."""
    hz = round(rng.uniform(1.0, 3.0), 3)
    cycles = max(1, min(rng.randint(1, 8), int(window_s * hz)))
    return Bounce(at_s=at_s, hz=hz, pp_frac=round(rng.uniform(0.05, 0.30), 4), cycles=cycles,
                  after_breath=after_breath)


def random_hold(rng: random.Random, stand_frac: float, *, leg: str = "right", knee: str = "straight",
                breaths: int | None = None, complete: bool | None = True, bounces: int = 0,
                early: bool = False, release_to: str = "standing") -> Hold:
    """A realistic hold. complete=True makes the hold reach 30 s (+1..6 s); None lets it fall
    where its breaths put it; bounces are placed in the lead-in or after a breath's peak, sized
    to end before the next press so the breath truth stays unambiguous."""
    n = rng.randint(3, 6) if breaths is None else breaths
    # A completed hold of n breaths needs cycles long enough to fill 30 s.
    cycle = rng.uniform(min(12.0, max(4.0, 31.0 / n)), 12.0) if complete and n else rng.uniform(4.0, 12.0)
    lead, tail = rng.uniform(0.8, 2.5), rng.uniform(0.8, 3.0)
    hold_s = None
    if complete:
        hold_s = max(lead + n * cycle + tail, 30.0 + rng.uniform(1.0, 6.0))
    elif n == 0:
        hold_s = rng.uniform(4.0, 40.0)
    plateau = rng.uniform(max(0.6, stand_frac + 0.15), 1.0)
    placed, lead = place_bounces(rng, bounces, n, 0.4 * cycle, lead)
    return Hold(breaths=n, cycle_s=round(cycle, 3), press_frac=round(rng.uniform(0.02, 0.06), 4),
                plateau_frac=round(plateau, 4), ramp_s=round(rng.uniform(1.0, 4.0), 3),
                release_s=round(rng.uniform(1.0, 4.0), 3), bounces=placed, release_to=release_to,
                early_release=early, leg=leg, knee=knee, lead_s=round(lead, 3), tail_s=round(tail, 3),
                hold_s=hold_s)


def place_bounces(rng: random.Random, count: int, breaths: int, in_breath_s: float,
                  lead_s: float) -> tuple[list[Bounce], float]:
    """`count` bounce episodes for a hold of `breaths` presses whose shortest in-breath lasts
    `in_breath_s`: in the lead-in (which grows to hold it) or 0.3 s after a press peak, ending
    0.5 s before the next press, so the breath truth stays unambiguous. Returns them and the lead."""
    placed: list[Bounce] = []
    for _ in range(count):
        if breaths == 0 or rng.random() < 0.35:  # bouncing into the stretch: before the first press
            bounce = random_bounce(rng, 4.0, 0.5)
            lead_s = max(lead_s, 0.5 + bounce.seconds + 0.8)
            placed.append(bounce)
        else:
            window = max(in_breath_s - 0.8, 0.4)
            placed.append(random_bounce(rng, window, 0.3, after_breath=rng.randrange(breaths)))
    return _without_overlaps(placed), lead_s


def _without_overlaps(bounces: list[Bounce]) -> list[Bounce]:
    """At most one episode in the lead-in and one per breath."""
    kept: dict[int | None, Bounce] = {}
    for b in bounces:
        kept.setdefault(b.after_breath, b)
    return list(kept.values())


def _shift(rng: random.Random, stand_frac: float, spread: float = 0.1) -> ShiftFoot:
    """A foot shift to somewhere within +-spread BW of the person's usual standing share."""
    to = min(max(stand_frac + rng.uniform(-spread, spread), 0.25), 0.6)
    return ShiftFoot(seconds=rng.uniform(0.2, 0.5), to_frac=round(to, 4))


def _pause_and_shift(rng: random.Random, segs: list[Segment], stand_frac: float, lo: float = 3.0,
                     hi: float = 8.0, shift_p: float = 0.3) -> None:
    segs.append(Stand(rng.uniform(lo, hi)))
    if rng.random() < shift_p:
        segs += [_shift(rng, stand_frac, 0.05), Stand(rng.uniform(1.0, 3.0))]


def _visit(rng: random.Random, holds: list[Hold], segs: list[Segment], stand_frac: float) -> None:
    """Step on, do the holds with pauses between, step off (unless a hold stepped off)."""
    segs += [StepOn(rng.uniform(0.4, 1.0)), Stand(rng.uniform(2.0, 6.0))]
    for hold in holds:
        segs.append(hold)
        if hold.release_to == "off":
            segs += [Off(rng.uniform(2.0, 6.0)), StepOn(rng.uniform(0.4, 1.0)), Stand(rng.uniform(2.0, 4.0))]
        else:
            _pause_and_shift(rng, segs, stand_frac)
    segs.append(StepOff(rng.uniform(0.4, 1.0)))


def good_routine(rng: random.Random, body_kg: float, stand_frac: float, reps: int | None = None) -> list:
    """Step on, 2-3 clean completed reps of each leg and knee (right first and last), step off."""
    reps = rng.randint(2, 3) if reps is None else reps
    holds = [random_hold(rng, stand_frac, leg=leg, knee=knee)
             for knee in ("straight", "bent") for _ in range(reps) for leg in ("right", "left")]
    holds += [random_hold(rng, stand_frac, leg="right", knee="bent")]  # finish on the tighter side
    segs: list[Segment] = [Off(rng.uniform(2.0, 5.0))]
    _visit(rng, holds, segs, stand_frac)
    return segs + [Off(rng.uniform(2.0, 5.0))]


def bouncy(rng: random.Random, body_kg: float, stand_frac: float, holds: int | None = None) -> list:
    """Holds with one or two bounce episodes each."""
    n = rng.randint(3, 5) if holds is None else holds
    chosen = [random_hold(rng, stand_frac, leg=ROUTINE[i % 4][0], knee=ROUTINE[i % 4][1],
                          bounces=rng.randint(1, 2), complete=None) for i in range(n)]
    segs: list[Segment] = [Off(rng.uniform(2.0, 4.0))]
    _visit(rng, chosen, segs, stand_frac)
    return segs + [Off(rng.uniform(2.0, 4.0))]


def early_release(rng: random.Random, body_kg: float, stand_frac: float, holds: int | None = None) -> list:
    """Holds released before the target; some end by stepping off mid-stretch."""
    n = rng.randint(3, 5) if holds is None else holds
    chosen = [random_hold(rng, stand_frac, leg=ROUTINE[i % 4][0], knee=ROUTINE[i % 4][1], complete=None,
                          early=True, release_to="off" if rng.random() < 0.4 else "standing")
              for i in range(n)]
    segs: list[Segment] = [Off(rng.uniform(2.0, 4.0))]
    _visit(rng, chosen, segs, stand_frac)
    return segs + [Off(rng.uniform(2.0, 4.0))]


def step_on_off(rng: random.Random, body_kg: float, stand_frac: float, visits: int | None = None) -> list:
    """Several short visits: step on, stand (a foot shift or two), step off. No stretch."""
    segs: list[Segment] = [Off(rng.uniform(2.0, 5.0))]
    for _ in range(rng.randint(3, 6) if visits is None else visits):
        segs += [StepOn(rng.uniform(0.3, 1.0)), Stand(rng.uniform(2.0, 15.0))]
        if rng.random() < 0.5:
            segs += [_shift(rng, stand_frac), Stand(rng.uniform(1.0, 8.0))]
        segs += [StepOff(rng.uniform(0.3, 1.0)), Off(rng.uniform(2.0, 10.0))]
    return segs


def standing(rng: random.Random, body_kg: float, stand_frac: float, minutes: float = 3.0) -> list:
    """Plain standing for `minutes`, with sway and foot shifts of up to +-10 % BW."""
    segs: list[Segment] = [Off(rng.uniform(2.0, 5.0)), StepOn(rng.uniform(0.4, 1.0))]
    left = minutes * 60.0
    while left > 0:
        chunk = min(left, rng.uniform(5.0, 40.0))
        segs.append(Stand(chunk))
        left -= chunk
        if left > 0:
            segs.append(_shift(rng, stand_frac))
    return segs + [StepOff(rng.uniform(0.4, 1.0)), Off(rng.uniform(2.0, 5.0))]


def bag(rng: random.Random, body_kg: float, stand_frac: float, minutes: float | None = None,
        kg: float | None = None) -> list:
    """A bag left on the empty step: constant load, no sway, no breathing."""
    seconds = 60.0 * (rng.uniform(1.0, 4.0) if minutes is None else minutes)
    load = rng.uniform(2.0, 25.0) if kg is None else kg
    return [Off(rng.uniform(2.0, 5.0)), Bag(round(load, 3), seconds, rng.uniform(0.1, 0.5)),
            Off(rng.uniform(2.0, 5.0))]


def mixed(rng: random.Random, body_kg: float, stand_frac: float, holds: int | None = None,
          unplug: bool = False) -> list:
    """Everything DESIGN §2 allows, at random: 0-7 breaths, bounces, early releases, stepping off
    mid-stretch, foot shifts; with `unplug`, the sensor drops out for 1-5 s, either before the
    visit or while the person stands between holds (never inside a stretch, so its truth holds)."""
    n = rng.randint(2, 6) if holds is None else holds
    chosen = []
    for i in range(n):
        leg, knee = ROUTINE[i % 4]
        early = rng.random() < 0.15
        chosen.append(random_hold(
            rng, stand_frac, leg=leg, knee=knee, breaths=rng.randint(0, 7),
            complete=None if early or rng.random() < 0.4 else True,
            bounces=1 if rng.random() < 0.35 else 0, early=early,
            release_to="off" if rng.random() < 0.12 else "standing"))
    segs: list[Segment] = [Off(rng.uniform(2.0, 6.0))]
    _visit(rng, chosen, segs, stand_frac)
    if unplug:
        # During a pause on the step (the first Stand after a hold), else before the visit.
        pauses = [i for i, (before, seg) in enumerate(zip(segs, segs[1:], strict=False), start=1)
                  if isinstance(before, Hold) and isinstance(seg, Stand)]
        at = pauses[0] + 1 if pauses and rng.random() < 0.5 else 1
        after = Stand(rng.uniform(1.0, 3.0)) if at > 1 else Off(rng.uniform(1.0, 3.0))
        segs[at:at] = [Unplug(rng.uniform(1.0, 5.0)), after]
    return segs + [Off(rng.uniform(2.0, 6.0))]


def forever_script(rng: random.Random, body_kg: float, stand_frac: float) -> Iterator[Segment]:
    """Visits forever: a routine of 2-6 holds (sometimes a bounce or an early release), step off,
    pause 5-25 s. Lazy: one visit is drawn only when the previous one has been played."""
    yield Off(rng.uniform(1.0, 2.0))
    for visit in _forever_visits():
        pause_lo, pause_hi = (5.0, 25.0) if visit else (0.0, 0.0)
        if pause_hi:
            yield Off(rng.uniform(pause_lo, pause_hi))
        holds = []
        for i in range(rng.randint(2, 6)):
            leg, knee = ROUTINE[i % 4]
            early = rng.random() < 0.1
            holds.append(random_hold(rng, stand_frac, leg=leg, knee=knee,
                                     bounces=1 if rng.random() < 0.15 else 0,
                                     early=early, complete=None if early else True))
        segs: list[Segment] = []
        _visit(rng, holds, segs, stand_frac)
        if visit == 0:  # look alive quickly: a short first stand
            segs[1] = Stand(rng.uniform(1.0, 2.0))
        yield from segs


def _forever_visits() -> Iterator[int]:
    visit = 0
    while True:
        yield visit
        visit += 1


