"""The hold-wide recount (firmware/detector/recount.py), concept by concept, on holds drawn here.

A hold is built as DESIGN §2 describes it, at the 2 Hz the detector keeps: a plateau; each
out-breath presses `press` kg more over `duty` of its cycle, the in-breath lets `let_off` of it
off (0: a staircase); cycles may vary; sway is a sum of sinusoids of a given peak to peak.
"""

from __future__ import annotations

import math
import random

import pytest

from firmware.detector.recount import MAX_POINTS, STEP_S, HoldRecord, count_presses, standing_rise

PLATEAU = 56.0   # kg at the cell (0.8 of a 70 kg person)
PRESS = 2.8      # kg: a 4 % BW press
FLOOR = 0.01 * PLATEAU


def smooth(x: float) -> float:
    return 0.0 if x <= 0 else 1.0 if x >= 1 else 0.5 - 0.5 * math.cos(math.pi * x)


def draw(cycles: list[float], *, duty: float = 0.45, let_off: float = 0.7, press: float = PRESS,
         lead: float = 1.5, tail: float = 2.0, sway_pp: float = 0.0, sway_hz: float = 0.15,
         noise: float = 0.02, seed: int = 1) -> tuple[list[float], list[float]]:
    """(t, x) at STEP_S over a hold with one press per cycle."""
    rng = random.Random(seed)
    starts, t = [], lead
    for c in cycles:
        starts.append((t, duty * c, c))
        t += c
    seconds = t + tail
    phase = rng.uniform(0, 2 * math.pi)
    ts, xs = [], []
    for k in range(int(seconds / STEP_S)):
        tk = k * STEP_S
        load = PLATEAU
        for s, d, c in starts:
            x = tk - s
            if x <= 0:
                break
            load += press * smooth(x / d) - let_off * press * smooth((x - d) / (c - d))
        load += 0.5 * sway_pp * math.sin(2 * math.pi * sway_hz * tk + phase)
        ts.append(tk)
        xs.append(load + rng.gauss(0.0, noise))
    return ts, xs


def recount(ts: list[float], xs: list[float], standing: float = 0.0):
    return count_presses(ts, xs, STEP_S, FLOOR, standing)


@pytest.mark.parametrize("cycle", [4.0, 5.0, 7.0, 9.5, 12.0])
@pytest.mark.parametrize("let_off", [0.0, 0.5, 1.0])
def test_presses_are_counted_at_any_cycle_and_let_off(cycle: float, let_off: float) -> None:
    found = recount(*draw([cycle] * 5, let_off=let_off))
    assert found.count == 5 and found.sure
    assert found.cycle_s == pytest.approx(cycle, rel=0.15)
    assert found.press_kg == pytest.approx(PRESS, rel=0.5)


def test_a_staircase_counts_every_step() -> None:
    # no let-off at all: the load only ever rises, one step per out-breath
    found = recount(*draw([6.0] * 6, let_off=0.0, duty=0.3))
    assert found.count == 6 and found.sure


@pytest.mark.parametrize("duty", [0.3, 0.6])
def test_short_cycles_are_not_merged_and_long_presses_not_split(duty: float) -> None:
    assert recount(*draw([4.0] * 7, duty=duty)).count == 7
    assert recount(*draw([12.0] * 3, duty=duty, let_off=0.0)).count == 3


def test_cycles_varying_by_a_quarter_within_the_hold_are_one_rhythm() -> None:
    cycles = [7.0, 8.7, 5.3, 8.5, 5.6, 7.2]  # +-25 % about 7 s
    assert recount(*draw(cycles, let_off=0.3)).count == 6


def test_rhythm_rejects_a_press_sized_rise_off_the_beat() -> None:
    ts, xs = draw([8.0] * 4, let_off=1.0)
    bump_at = 1.5 + 8.0 + 0.45 * 8.0 + 2.2  # between the 2nd and 3rd press, past the 2nd's peak
    xs = [x + 0.9 * PRESS * math.exp(-(((t - bump_at) / 1.0) ** 2)) for t, x in zip(ts, xs, strict=True)]
    found = recount(ts, xs)
    assert found.count == 4
    assert all(abs(t - bump_at) > 1.5 for t in found.times)


def test_sway_in_the_quiet_tail_is_not_a_press() -> None:
    ts, xs = draw([6.0] * 3, tail=14.0)
    late = ts[-1] - 6.0  # one small on-beat rise in the tail, a third of a press
    xs = [x + 0.3 * PRESS * smooth((t - late) / 2.0) for t, x in zip(ts, xs, strict=True)]
    assert recount(ts, xs).count == 3


def test_no_presses_and_no_sway_is_a_sure_zero() -> None:
    found = recount(*draw([], tail=30.0))
    assert found.count == 0 and found.sure


def test_a_press_as_small_as_the_sway_is_marked_unsure() -> None:
    # breathing-band sway as big as the press (press-to-sway 1): the count is a guess
    found = recount(*draw([7.0] * 4, sway_pp=PRESS, sway_hz=0.21, seed=4))
    assert not found.sure
    clear = recount(*draw([7.0] * 4, sway_pp=0.3 * PRESS, sway_hz=0.21, seed=4))
    assert clear.sure and clear.count == 4


def test_standing_sway_as_big_as_the_presses_makes_the_count_unsure() -> None:
    ts, xs = draw([7.0] * 4)
    assert recount(ts, xs).sure
    assert not recount(ts, xs, standing=PRESS).sure


def test_sure_needs_the_sway_below_the_chains_own_bar_for_a_press() -> None:
    # The chain accepts a rise of half the typical press; standing sway whose biggest rise
    # reaches that (here 0.6 of it: press-to-sway 1.67 in the counter's statistic) could join
    # the chain or cancel a press, so the count is not sure; at 0.4 of it, it is.
    ts, xs = draw([7.0] * 4)
    typical = recount(ts, xs).press_kg
    assert recount(ts, xs, standing=0.4 * typical).sure
    assert not recount(ts, xs, standing=0.6 * typical).sure


def test_a_lead_with_room_for_one_more_press_makes_the_count_unsure() -> None:
    # Before the first press found, a quiet lead longer than the shortest gap the rhythm
    # allows (a cycle - 25 %) could hold a press the sway hid: the count may be one short.
    short = recount(*draw([7.0] * 4, lead=1.5))
    long = recount(*draw([7.0] * 4, lead=0.8 * 7.0))
    assert short.count == long.count == 4
    assert short.sure and not long.sure


def test_most_holds_with_press_to_sway_below_one_are_marked_unsure() -> None:
    # DESIGN §6: unsure in >= 80 % of holds whose press is below the sway. Holds drawn across
    # DESIGN §2 (cycles 4-12 s, any let-off and duty) under breathing-band sway of 1-2 x the
    # press, the standing before them swaying alike (sway in a rhythm of its own can fake a
    # chain). With the old bar of 1.5 x, 18 of these 60 were marked sure, 10 of them wrong.
    rng = random.Random(11)
    sure = 0
    for k in range(60):
        cycle, ratio, hz = rng.uniform(4, 12), rng.uniform(0.5, 1.0), rng.uniform(0.08, 0.25)
        cycles = [cycle * rng.uniform(0.8, 1.2) for _ in range(rng.randint(1, 7))]
        ts, xs = draw(cycles, duty=rng.uniform(0.3, 0.6), let_off=rng.uniform(0, 1),
                      sway_pp=PRESS / ratio, sway_hz=hz, seed=k)
        _, stand = draw([], press=0.0, sway_pp=PRESS / ratio, sway_hz=hz, seed=k + 100, lead=0, tail=20)
        found = recount(ts, xs, standing=standing_rise(stand, STEP_S))
        sure += found.sure
    assert sure <= 12


def test_standing_rise_measures_the_sway_in_the_counters_own_view() -> None:
    still = [40.0] * 40
    swaying = [40.0 + 1.0 * math.sin(2 * math.pi * 0.15 * k * STEP_S) for k in range(40)]
    assert standing_rise(still, STEP_S) == pytest.approx(0.0, abs=1e-9)
    assert 0.8 <= standing_rise(swaying, STEP_S) <= 2.0  # a 2 kg peak-to-peak swing
    assert standing_rise([40.0] * 3, STEP_S) == 0.0  # too short to say


def test_the_record_decimates_and_stays_bounded() -> None:
    record = HoldRecord()
    for k in range(10 * 3600):  # an hour of 0.1 s blocks
        record.feed(k * 0.1, 50.0 + (k % 7))
    assert len(record.x) <= MAX_POINTS and record.step > STEP_S
    assert record.t == sorted(record.t)
    sliding = HoldRecord(keep=40)
    for k in range(1000):
        sliding.feed(k * 0.1, 1.0)
    assert len(sliding.x) == 40 and sliding.t[-1] == pytest.approx(99.25)  # the open bucket waits
    record.clear()
    assert record.x == [] and record.step == STEP_S


def test_the_standing_sway_of_an_earlier_pause_still_judges_a_hold_after_a_short_one() -> None:
    # Standing that sways 2 kg peak to peak (at 0.15 Hz) for 25 s, then two stretches with a
    # 3 s pause between them: too short a pause to show the sway on its own, but it is the
    # same person, so the second hold is judged against the sway of the first standing.
    from firmware.detector import DetectorConfig, HoldDetector
    from firmware.events import STRETCH_END

    def load(t: float) -> float:
        sway = 1.0 * math.sin(2 * math.pi * 0.15 * t)
        if t < 2.0:
            return 0.0
        level = 30.0
        for start in (27.0, 56.0):  # ramp 2 s up, hold 24 s, ramp 2 s down
            x = t - start
            if 0.0 <= x < 28.0:
                level += 20.0 * min(1.0, x / 2.0, (28.0 - x) / 2.0)
        return level + sway

    detector = HoldDetector(DetectorConfig(rate_hz=10.0))
    judged = []
    for k in range(1000):
        for e in detector.feed(k / 10.0, load(k / 10.0)):
            if e.kind == STRETCH_END and detector.last_count is not None:
                judged.append(detector.last_count.standing_kg)
    assert len(judged) == 2
    assert judged[0] > 0.5 and judged[1] >= judged[0]
