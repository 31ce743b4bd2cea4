"""The hold-wide recount (firmware/detector/recount.py), concept by concept, on holds drawn here.

A hold is built as DESIGN §2 describes it, at the 2 Hz the detector keeps: a plateau; each
out-breath presses `press` kg more over `duty` of its cycle, the in-breath lets `let_off` of it
off (0: a staircase); cycles may vary; sway is a sum of sinusoids of a given peak to peak.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.detector.recount import (
    BEYOND_SHARE,
    MAX_POINTS,
    STEP_S,
    SURE_RATIO,
    HoldRecord,
    _halved,
    _hedged,
    _periodic,
    _self_likeness,
    _unbridged,
    _View,
    _view,
    chain,
    count_presses,
    prefix_sums,
    standing_rise,
)

PLATEAU = 56.0   # kg at the cell (0.8 of a 70 kg person)
PRESS = 2.8      # kg: a 4 % BW press
FLOOR = 0.01 * PLATEAU


def smooth(x: float) -> float:
    return 0.0 if x <= 0 else 1.0 if x >= 1 else 0.5 - 0.5 * math.cos(math.pi * x)


def draw(cycles: list[float], *, duty: float = 0.45, let_off: float = 0.7, press: float = PRESS,
         lead: float = 1.5, tail: float = 2.0, sway_pp: float = 0.0, sway_hz: float = 0.15,
         noise: float = 0.02, seed: int = 1, sizes: list[float] | None = None
         ) -> tuple[list[float], list[float]]:
    """(t, x) at STEP_S over a hold with one press per cycle (press k `sizes[k]` times `press`)."""
    rng = random.Random(seed)
    starts, t = [], lead
    for k, c in enumerate(cycles):
        starts.append((t, duty * c, c, press * (sizes[k] if sizes else 1.0)))
        t += c
    seconds = t + tail
    phase = rng.uniform(0, 2 * math.pi)
    ts, xs = [], []
    for k in range(int(seconds / STEP_S)):
        tk = k * STEP_S
        load = PLATEAU
        for s, d, c, p in starts:
            x = tk - s
            if x <= 0:
                break
            load += p * smooth(x / d) - let_off * p * smooth((x - d) / (c - d))
        load += 0.5 * sway_pp * math.sin(2 * math.pi * sway_hz * tk + phase)
        ts.append(tk)
        xs.append(load + rng.gauss(0.0, noise))
    return ts, xs


def recount(ts: list[float], xs: list[float], standing: tuple[float, ...] = ()):
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


def test_a_press_the_sway_hid_keeps_its_beat_but_the_count_is_unsure() -> None:
    # five presses at 6 s; sway falls just as the third presses, cancelling its rise: the
    # rhythm bridges the beat (the count stays 5), and the count is a guess, so not sure
    cycle, lead = 6.0, 1.5
    ts, xs = draw([cycle] * 5, let_off=0.8)
    start = lead + 2 * cycle  # the third press's start
    duty = 0.45 * cycle
    xs = [x - PRESS * smooth((t - start) / duty) + 0.8 * PRESS * smooth((t - start - duty) / (cycle - duty))
          for t, x in zip(ts, xs, strict=True)]
    found = recount(ts, xs)
    assert found.count == 5 and found.hidden == 1
    assert not found.sure


@pytest.mark.parametrize("seed", range(60, 70))
def test_one_long_cycle_within_the_rhythms_spread_is_not_bridged_as_two(seed: int) -> None:
    # seven presses whose cycles vary within +-25 % of their 8.5 s mean, one of them 10.4 s;
    # under sway half a press high at 4 s the chain's grid cycle may come out short enough that
    # the long gap is bridged, an eighth press counted there on the rhythm's word
    cycles = [8.2, 8.7, 8.7, 8.5, 7.6, 10.4, 7.5]
    found = recount(*draw(cycles, let_off=1.0, duty=0.3, sway_pp=0.5 * PRESS, sway_hz=0.24, seed=seed))
    assert found.count == 7 and found.hidden == 0


def test_a_gap_is_bridged_only_when_it_is_two_of_the_rhythms_shortest_cycles() -> None:
    ts = [0.0, 8.0, 16.0, 27.5, 35.5]        # gaps 8, 8, 11.5, 8: 11.5 s is 1.44 times the mean, one cycle
    assert _unbridged(ts, [0, 1, 2, 3, 4], [False, False, False, True, False]) == [False] * 5
    ts = [0.0, 8.0, 16.0, 29.0, 37.0]        # 13 s: two cycles of 6.5 s, 0.81 of the mean
    assert _unbridged(ts, [0, 1, 2, 3, 4], [False, False, False, True, False])[3]
    # one unbridged gap is no rhythm to measure by: the bridge stands
    assert _unbridged([0.0, 8.0, 18.0], [0, 1, 2], [False, False, True]) == [False, False, True]


def test_small_sway_bumps_between_the_presses_do_not_double_the_rhythm() -> None:
    # a staircase of 10 s breaths with a bump a third of a press midway between each pair:
    # a chain at 5 s would take them all; the presses are of a size, the bumps are not
    ts, xs = draw([10.0] * 5, let_off=0.1, duty=0.35)
    bumps = [1.5 + 10.0 * k + 8.0 for k in range(4)]
    xs = [x + sum(0.3 * PRESS * smooth((t - b) / 1.5) * (1 - smooth((t - b - 1.5) / 1.5)) for b in bumps)
          for t, x in zip(ts, xs, strict=True)]
    found = recount(ts, xs)
    assert found.count == 5
    assert found.cycle_s == pytest.approx(10.0, rel=0.15)


def bumps_between(ts: list[float], xs: list[float], cycle: float, n: int, share: float,
                  width: float = 1.5, duty: float = 0.35, lead: float = 1.5) -> list[float]:
    """xs with a sway bump (up over `width` s, down again over as long) of `share` of a press
    midway between each pair of the n presses draw() laid at `cycle`."""
    mid = duty * cycle + (1.0 - duty) * cycle / 2.0
    bumps = [lead + cycle * k + mid - width for k in range(n - 1)]
    return [x + sum(share * PRESS * smooth((t - b) / width) * (1 - smooth((t - b - width) / width))
                    for b in bumps) for t, x in zip(ts, xs, strict=True)]


@pytest.mark.parametrize("cycle", [9.0, 10.0, 12.0])
@pytest.mark.parametrize("share", [0.7, 0.9])
def test_sway_bumps_nearly_a_press_high_between_the_steps_of_a_staircase_do_not_double_it(
        cycle: float, share: float) -> None:
    # five steps at `cycle` and between each pair a sway bump of 0.7-0.9 of a step: a chain at
    # half the cycle takes steps and bumps alike, and its margin beat the steps' own (the old
    # code counted 9, 5 of these 6 sure). The hold does not repeat itself half a cycle on (a
    # step there meets a bump's fall), so the rhythm is the steps'; the margin said otherwise,
    # so the count is not sure
    ts, xs = draw([cycle] * 5, let_off=0.0, duty=0.35)
    found = recount(ts, bumps_between(ts, xs, cycle, 5, share))
    assert found.count == 5 and not found.sure
    assert found.cycle_s == pytest.approx(cycle, rel=0.15)


@pytest.mark.parametrize("cycle", [4.0, 5.0, 6.0])
@pytest.mark.parametrize("let_off", [0.0, 0.5, 1.0])
def test_presses_of_a_size_that_alternate_a_little_keep_their_own_cycle(cycle: float, let_off: float) -> None:
    # every other press a fifth smaller (presses of one hold are of a size, DESIGN §2): the
    # hold repeats itself a cycle on, so the rhythm at twice the cycle does not take over
    found = recount(*draw([cycle] * 8, let_off=let_off, sizes=[1.0, 0.8] * 4))
    assert found.count == 8 and found.sure


def test_a_rhythm_the_hold_does_not_keep_yields_only_to_a_rival_of_three_or_more() -> None:
    # the staircase of 10 s steps with bumps between: the chain at 5 s takes steps and bumps,
    # but the hold does not repeat itself 5 s on; the chain of the steps at 10 s is taken
    # instead, but a rival of two members is one gap, no rhythm: then the chain stays
    ts, xs = draw([10.0] * 5, let_off=0.0, duty=0.35)
    xs = bumps_between(ts, xs, 10.0, 5, 0.8)
    short_view = _View(prefix_sums(xs), ts, _view(5.0, STEP_S), FLOOR)
    long_view = _View(prefix_sums(xs), ts, _view(10.0, STEP_S), FLOOR)
    _, short, short_hidden = chain(short_view, 5.0, FLOOR)
    _, steps, steps_hidden = chain(long_view, 10.0, FLOOR)
    assert len(short) == 9 and len(steps) == 5
    top = (5.0, short, short_hidden, short_view)
    rival = (10.0, steps, steps_hidden, long_view)
    assert _periodic(top, [(1.0, top), (0.5, rival)], STEP_S) is rival
    two = (10.0, steps[:2], steps_hidden[:2], long_view)
    assert _periodic(top, [(1.0, top), (0.5, two)], STEP_S) is top


def sway_lifts_every_other_press(cycle: float, seed: int = 1) -> tuple[list[float], list[float]]:
    """Six full let-off presses at `cycle` under sway nearly a press high at twice the cycle
    (0.08-0.125 Hz, the breathing band): it lifts every other press and sinks the rest."""
    return draw([cycle] * 6, let_off=1.0, sway_pp=2.5, sway_hz=1.0 / (2.0 * cycle), seed=seed)


@pytest.mark.parametrize(("cycle", "seed"), [(4.0, 1), (5.0, 1), (5.0, 3), (6.0, 1), (6.0, 3)])
def test_sway_at_twice_the_cycle_does_not_halve_the_rhythm(cycle: float, seed: int) -> None:
    # through the view fitted to twice the cycle the lifted presses make the best chain, and
    # the old code counted 3, sure; the hold repeats itself a cycle on in the view fitted to
    # the cycle, every beat a rise, so the rhythm is the presses' own (unsure: the margin
    # said otherwise)
    found = recount(*sway_lifts_every_other_press(cycle, seed))
    assert found.count == 6 and not found.sure
    assert found.cycle_s == pytest.approx(cycle, rel=0.15)


def test_a_faster_rival_is_the_rhythm_only_with_all_its_beats_but_one_a_rise_and_three_or_more() -> None:
    ts, xs = sway_lifts_every_other_press(5.0)
    fast_view = _View(prefix_sums(xs), ts, _view(5.0, STEP_S), FLOOR)
    slow_view = _View(prefix_sums(xs), ts, _view(10.0, STEP_S), FLOOR)
    _, presses, no_hidden = chain(fast_view, 5.0, FLOOR)
    _, lifted, lifted_hidden = chain(slow_view, 10.0, FLOOR)
    assert len(presses) == 6 and not any(no_hidden) and len(lifted) == 3
    top = (10.0, lifted, lifted_hidden, slow_view)
    rival = (5.0, presses, no_hidden, fast_view)
    assert _halved(top, [(1.0, top), (0.5, rival)], STEP_S) is rival
    bridged = (5.0, presses[:2] + presses[3:], [False, False, True, False, False], fast_view)
    assert _halved(top, [(1.0, top), (0.5, bridged)], STEP_S) is bridged  # one beat the sway hid
    words = (5.0, [presses[k] for k in (0, 1, 3, 5)], [False, False, True, True], fast_view)
    assert _halved(top, [(1.0, top), (0.5, words)], STEP_S) is top  # two on the rhythm's word
    two = (5.0, presses[:2], no_hidden[:2], fast_view)
    assert _halved(top, [(1.0, top), (0.5, two)], STEP_S) is top


def test_self_likeness_is_how_much_the_rise_signal_repeats_a_cycle_on() -> None:
    # a pulse every 10 s (points 0.5 s apart): like itself 10 s on, unlike itself 5 s on
    pulses = [1.0 if k % 20 < 6 else 0.0 for k in range(160)]
    assert _self_likeness(pulses, (1, 1), 10.0, STEP_S) > 0.8
    assert _self_likeness(pulses, (1, 1), 5.0, STEP_S) < 0.0
    assert _self_likeness([0.0] * 6, (1, 1), 5.0, STEP_S) == 1.0  # too short or flat: no evidence


def test_sway_in_the_quiet_tail_is_not_a_press() -> None:
    ts, xs = draw([6.0] * 3, tail=14.0)
    late = ts[-1] - 6.0  # one small on-beat rise in the tail, a third of a press
    xs = [x + 0.3 * PRESS * smooth((t - late) / 2.0) for t, x in zip(ts, xs, strict=True)]
    assert recount(ts, xs).count == 3


@pytest.mark.parametrize("tail", [3.0, 4.0])
def test_a_rise_the_end_of_the_record_cuts_off_is_not_a_press(tail: float) -> None:
    # a staircase of four, then the load still climbing when the record stops (sway, or an
    # out-breath the release cut short): R's last point is no peak, nothing says the rise ended
    ts, xs = draw([6.0] * 4, let_off=0.1, tail=tail)
    assert recount(ts, xs).count == 4
    start = ts[-1] - 2.0
    found = recount(ts, [x + 0.8 * PRESS * smooth((t - start) / 3.0) for t, x in zip(ts, xs, strict=True)])
    assert found.count == 4 and len(found.times) == 4


@pytest.mark.parametrize("sway_s", [4.0, 4.5])
@pytest.mark.parametrize("seed", range(1, 9))
def test_slow_presses_under_faster_sway_are_not_outnumbered_by_sway_bumps(sway_s: float, seed: int) -> None:
    # issue 10 (tune_sim_13): two presses of an 11.4 s cycle over 55 % of it, let off almost
    # wholly, under breathing-band sway of 4-4.5 s at 1/1.77 of the press (any phase). Through
    # a 4 s cycle's view the slow press shows a fraction of its rise and the sway bumps their
    # whole, twice as often: the old counter took a chain of them in 3 of these 16 holds (5-7)
    found = recount(*draw([11.4] * 2, duty=0.55, let_off=0.86, sway_pp=PRESS / 1.77, sway_hz=1 / sway_s,
                          lead=3.0, seed=seed))
    assert found.count == 2


def test_a_staircase_of_five_at_the_shortest_cycle_counts_five() -> None:
    # the tune corpus never draws cycles under 6 s or let-offs under 20 %: the counter must
    # still count both, here together, and under some sway
    found = recount(*draw([4.0] * 5, let_off=0.0, duty=0.4, sway_pp=0.3 * PRESS, sway_hz=0.12, seed=2))
    assert found.count == 5


def broadband_sway(ts: list[float], pp: float, seed: int) -> list[float]:
    """Sway as a person makes it, not one sinusoid (a sinusoid in the breathing band is a
    rhythm of its own): eight components over 0.05-0.5 Hz, amplitude falling as f^-0.5, scaled
    to `pp` peak to peak."""
    rng = random.Random(seed)
    parts = [(f, rng.uniform(0, 2 * math.pi), f ** -0.5) for f in (rng.uniform(0.05, 0.5) for _ in range(8))]
    s = [sum(a * math.sin(2 * math.pi * f * t + ph) for f, ph, a in parts) for t in ts]
    lo, hi = min(s), max(s)
    return [pp * (v - 0.5 * (lo + hi)) / (hi - lo) for v in s]


def test_a_staircase_of_five_under_sway_near_the_press_size_counts_within_one() -> None:
    # the weakest slice of issue 10: staircases (no let-off) over sway of 0.7 of the press,
    # cycles 5-9 s varying within the hold; 40 holds. Within one nearly always, and a count
    # marked sure is exact (an unsure one is shown as "~5")
    within = 0
    for seed in range(1, 41):
        rng = random.Random(seed)
        ts, xs = draw([rng.uniform(5.0, 9.0) for _ in range(5)], let_off=0.0, seed=seed, tail=3.0)
        xs = [x + s for x, s in zip(xs, broadband_sway(ts, 0.7 * PRESS, seed), strict=True)]
        found = recount(ts, xs)
        within += abs(found.count - 5) <= 1
        assert found.count == 5 or not found.sure
    assert within >= 36


def test_a_long_tail_where_something_rose_holds_the_beat_the_rhythm_puts_there() -> None:
    # four 6 s presses, then 10 s more of the hold: breathing goes on through a hold (every
    # out-breath presses), so the press due a cycle on was hidden by the sway when the tail
    # rose at all (here 0.4 of a press, off the beat): counted, and unsure. A flat tail is a
    # pause in the pressing, nothing the sway could hide: four, sure
    ts, xs = draw([6.0] * 4, tail=10.0)
    flat = recount(ts, xs)
    assert flat.count == 4 and flat.sure
    late = ts[-1] - 5.0
    found = recount(ts, [x + 0.4 * PRESS * smooth((t - late) / 2.0) for t, x in zip(ts, xs, strict=True)])
    assert found.count == 5 and not found.sure and found.hidden == 1


def test_two_presses_keep_a_pace_worth_the_beat_in_a_long_tail_that_rose() -> None:
    # two 6 s presses are one gap, but that gap is the hold's pace: a tail of two more cycles
    # that rose (0.4 of a press, off the beat) held the press due there; a flat tail held none
    cycle = 6.0
    ts, xs = draw([cycle] * 2, tail=2.0 * cycle)
    flat = recount(ts, xs)
    assert flat.count == 2
    late = ts[-1] - 0.8 * cycle
    found = recount(ts, [x + 0.4 * PRESS * smooth((t - late) / 2.0) for t, x in zip(ts, xs, strict=True)])
    assert found.count == 3 and not found.sure and found.hidden == 1
    # one gap is worth one beat beyond, never a string of them: a tail of five cycles more
    ts, xs = draw([cycle] * 2, tail=6.0 * cycle)
    late = ts[-1] - 0.8 * cycle
    found = recount(ts, [x + 0.4 * PRESS * smooth((t - late) / 2.0) for t, x in zip(ts, xs, strict=True)])
    assert found.count == 3 and found.hidden == 1


def test_the_beat_in_a_long_tail_counts_where_the_presses_are_only_just_above_the_sway() -> None:
    # The same four presses and a tail that rose, and off the beat between two presses a sway
    # bump of 0.8 of a press: the presses stand above the sway the chain leaves, but by less
    # than SURE_RATIO. Their rhythm is still the hold's (the readings among rivals are for
    # presses no bigger than the sway), so the press it puts in the tail counts; unsure
    ts, xs = draw([6.0] * 4, tail=10.0)
    late, t0 = ts[-1] - 5.0, 11.5

    def bump(t: float) -> float:
        return 0.8 * PRESS * (smooth((t - t0) / 2.0) - smooth((t - t0 - 2.0) / 2.0))

    tail = [0.4 * PRESS * smooth((t - late) / 2.0) + bump(t) for t in ts]
    found = recount(ts, [x + y for x, y in zip(xs, tail, strict=True)])
    assert 1.0 <= found.press_kg / found.sway_kg < SURE_RATIO
    assert found.count == 5 and not found.sure and found.hidden == 1


def test_presses_a_little_smaller_than_the_sway_keep_one_beat_in_a_long_tail_and_no_more() -> None:
    # The four presses and a tail that rose, judged against a standing sway that makes the
    # typical press 0.8 of the sway: below the sway the rhythm is one reading among rivals,
    # but still worth one beat where the tail has room for it (a tail of room for two gets
    # one: a string of beats would be guesses on a guess); at 0.6 of the sway, none
    def hold(tail_s: float, standing_pp: float):
        ts, xs = draw([6.0] * 4, tail=tail_s)
        late = ts[-1] - 5.0
        rose = [x + 0.4 * PRESS * smooth((t - late) / 2.0) for t, x in zip(ts, xs, strict=True)]
        return recount(ts, rose, standing=sway_standing(standing_pp))

    for tail_s in (10.0, 16.0):
        found = hold(tail_s, 3.5)
        assert BEYOND_SHARE <= found.press_kg / found.sway_kg < 1.0
        assert found.count == 5 and not found.sure and found.hidden == 1
        below = hold(tail_s, 5.0)
        assert below.press_kg / below.sway_kg < BEYOND_SHARE
        assert below.count == 4 and not below.sure
    above = hold(16.0, 2.5)  # at or above the sway, every beat the tail has room for
    assert above.press_kg >= above.sway_kg and above.count == 6


def test_an_unsure_count_between_two_readings_two_apart_is_the_one_between() -> None:
    # (margin, count) of the rival rhythms: when those near the best (0.7 of its margin) count
    # two apart, the count between them is within one of either
    assert _hedged(4, [(5.0, 4), (4.0, 6)]) == 5
    assert _hedged(6, [(5.0, 6), (4.0, 4), (1.0, 9)]) == 5  # a weak rival is no reading
    assert _hedged(4, [(5.0, 4), (2.0, 6)]) == 4
    assert _hedged(3, [(5.0, 3), (4.5, 6)]) == 3  # readings three apart: nothing is within one of both
    assert _hedged(4, [(5.0, 4), (4.0, 5)]) == 4
    assert _hedged(2, []) == 2


def test_an_unsure_count_is_the_one_within_one_of_the_most_readings() -> None:
    # a count found at 8 beside rival readings of 4 and 5: 5 is within one of two of the three
    # (the two-apart rule alone left 8, two off whichever of 4 and 5 is the truth)
    assert _hedged(8, [(5.0, 8), (4.0, 4), (4.5, 5)]) == 5
    assert _hedged(4, [(5.0, 4), (4.0, 5), (4.5, 8)]) == 4  # the count found is one of the most
    assert _hedged(8, [(5.0, 8), (3.0, 4), (3.0, 5)]) == 8  # weak rivals are no readings


def test_no_presses_and_no_sway_is_a_sure_zero() -> None:
    found = recount(*draw([], tail=30.0))
    assert found.count == 0 and found.sure


def test_a_press_as_small_as_the_sway_is_marked_unsure() -> None:
    # breathing-band sway as big as the press (press-to-sway 1): the count is a guess
    found = recount(*draw([7.0] * 4, sway_pp=PRESS, sway_hz=0.21, seed=4))
    assert not found.sure
    clear = recount(*draw([7.0] * 4, sway_pp=0.3 * PRESS, sway_hz=0.21, seed=4))
    assert clear.sure and clear.count == 4


HALF_CLEAR = {"sway_pp": 0.4 * PRESS, "sway_hz": 0.15, "seed": 1}  # sway a press could hide in


def test_room_for_a_beat_nothing_showed_makes_the_count_unsure() -> None:
    # four 7 s presses under sway, but the hold ran two cycles before the first (or after the
    # last): a press the sway hid would fit there, so the count is a guess; with the usual short
    # lead and tail it is sure, and so it is without sway (nothing could hide a press then)
    found = recount(*draw([7.0] * 4, lead=1.5, **HALF_CLEAR))
    assert found.count == 4 and found.sure
    assert not recount(*draw([7.0] * 4, lead=1.5 + 7.0, **HALF_CLEAR)).sure
    assert not recount(*draw([7.0] * 4, tail=2.0 + 7.0, **HALF_CLEAR)).sure
    quiet = recount(*draw([7.0] * 4, lead=1.5 + 7.0))
    assert quiet.count == 4 and quiet.sure


def test_two_presses_far_apart_are_no_rhythm() -> None:
    # one gap of 14 s could be one slow cycle or two with a press hidden between: unsure under
    # sway; two presses 5 s apart cannot hold another (no cycle is under 4 s less a quarter)
    far = recount(*draw([14.0, 6.0], lead=1.5, tail=0.5, **HALF_CLEAR))
    assert far.count == 2 and not far.sure
    near = recount(*draw([5.0, 5.0], lead=1.5, tail=0.5, **HALF_CLEAR))
    assert near.count == 2 and near.sure


def sway_standing(pp: float, hz: float = 0.15, seconds: float = 20.0) -> tuple[float, ...]:
    n = int(seconds / STEP_S)
    return tuple(40.0 + 0.5 * pp * math.sin(2 * math.pi * hz * k * STEP_S) for k in range(n))


def test_standing_sway_as_big_as_the_presses_makes_the_count_unsure() -> None:
    ts, xs = draw([7.0] * 4)
    assert recount(ts, xs).sure
    assert recount(ts, xs, standing=sway_standing(0.3 * PRESS)).sure
    assert not recount(ts, xs, standing=sway_standing(PRESS)).sure


def test_a_rhythm_of_pure_sway_is_not_a_sure_count() -> None:
    # no presses at all, but breathing-band sway as steady as a rhythm, before and during the
    # hold: the chain may follow it, but it is no bigger than the standing's, so not sure
    ts, xs = draw([], tail=30.0, sway_pp=1.2 * PRESS, sway_hz=0.23)
    assert not recount(ts, xs, standing=sway_standing(1.2 * PRESS, hz=0.23)).sure


def test_standing_rise_measures_the_sway_in_the_counters_own_view() -> None:
    view = (3, 3)  # a 6 s breath's view at 2 Hz
    assert standing_rise(sway_standing(0.0), view) == pytest.approx(0.0, abs=1e-9)
    assert 1.0 <= standing_rise(sway_standing(2.0), view) <= 2.0  # a 2 kg peak-to-peak swing
    assert standing_rise(sway_standing(2.0, seconds=1.5), view) == 0.0  # too short to say


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


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(2, 8), cycle=st.floats(4.0, 12.0), duty=st.floats(0.3, 0.6), let_off=st.floats(0.0, 1.0),
       press_frac=st.floats(0.02, 0.06), jitter=st.lists(st.floats(-0.25, 0.25), min_size=8, max_size=8),
       lead=st.floats(0.8, 3.0), tail=st.floats(0.8, 3.0))
def test_any_clean_hold_across_design_ranges_is_counted_exactly_and_surely(
        n: int, cycle: float, duty: float, let_off: float, press_frac: float, jitter: list[float],
        lead: float, tail: float) -> None:
    # DESIGN §2 without sway: 4-12 s cycles varying +-25 % within the hold, presses of 2-6 % BW
    # (70 kg) over 30-60 % of the cycle, any let-off from a staircase to all: nothing can hide
    # a press, so the count is exact and says so (one press alone shows no rhythm: it is judged
    # against the standing before it, see above)
    cycles = [cycle * (1.0 + j) for j in jitter[:n]]
    found = recount(*draw(cycles, duty=duty, let_off=let_off, press=press_frac * 70.0, lead=lead, tail=tail))
    assert found.count == n
    assert found.sure and found.hidden == 0


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n=st.integers(2, 8), cycle=st.floats(4.0, 12.0), duty=st.floats(0.3, 0.6), let_off=st.floats(0.2, 1.0),
       jitter=st.lists(st.floats(-0.2, 0.2), min_size=8, max_size=8), sway_hz=st.floats(0.08, 0.25),
       seed=st.integers(0, 1000))
def test_any_hold_under_moderate_sway_is_counted_within_one(
        n: int, cycle: float, duty: float, let_off: float, jitter: list[float], sway_hz: float,
        seed: int) -> None:
    # DESIGN §2 with breathing-band sway at a third of the press (press-to-sway 3, at any
    # frequency of the band, so as fast as the fastest breath or as slow as the slowest): the
    # presses stand clear of it, so the count is within one whatever the cycle. Let-offs from a
    # fifth up: a staircase under sway this fast still miscounts in about 1 % of draws (issue
    # 10, left open; the clean staircases above and the one at 4 s under slow sway count)
    cycles = [cycle * (1.0 + j) for j in jitter[:n]]
    found = recount(*draw(cycles, duty=duty, let_off=let_off, sway_pp=PRESS / 3.0, sway_hz=sway_hz,
                          seed=seed))
    assert abs(found.count - n) <= 1


def _wide_visit_counts(seed: int, rate: float) -> list[tuple[int, bool]]:
    """(breaths, breaths_sure) of each stretch of one wide visit (DESIGN §2's ranges, synthetic
    sway, the person's sensor faults) drawn from `seed` and rendered at `rate`."""
    from firmware.analysis import analyze_samples
    from firmware.sensors.simulated import scenario
    from firmware.sensors.simulated.wide import DESIGN_RANGES, draw_person

    rng = random.Random(seed)
    person = draw_person(rng, rate, DESIGN_RANGES)
    sim = scenario("wide", seed=seed, rate_hz=rate, ranges=DESIGN_RANGES, holds=3, **person)
    found = analyze_samples(sim.samples(), rate_hz=rate)["stretches"]
    return [(s["breaths"], s["breaths_sure"]) for s in found]


@pytest.mark.parametrize("seed", [2, 9])
def test_a_hold_rendered_at_10_hz_counts_as_it_does_at_80_hz(seed: int) -> None:
    # The same visit (same draws: person, holds, sway, sensor faults) sampled at the two rates
    # the device runs at: the 1 s mean, the 0.1 s blocks and the 2 Hz hold record are sized in
    # seconds, so the count and its sureness do not depend on the rate (975 paired holds of
    # the two generators at press-to-sway >= 1.5: 14 counts differed, none worse at 10 Hz).
    # Seeds whose three stretches are all found at both rates (a few visits lose one at 10 Hz)
    at_10, at_80 = _wide_visit_counts(seed, 10.0), _wide_visit_counts(seed, 80.0)
    assert len(at_10) == 3 and at_10 == at_80


@pytest.mark.parametrize("cycle, small", [(4.5, 0.3), (6.0, 0.4)])
@pytest.mark.parametrize("let_off", [0.0, 0.7])
def test_small_presses_between_clear_ones_make_the_count_unsure(cycle: float, small: float,
                                                                let_off: float) -> None:
    # every other press a third of the others, under a little sway: through the view fitted
    # to twice the cycle the small ones are part of the slope, and the chain is the big ones,
    # far clear of the sway. Seen through the view fitted to half that gap, a small press rises
    # on its own in the gap's middle: the count may be short by them, so it is not sure; with
    # nothing between, presses two cycles apart are a sure count
    sizes = [1.0, small, 1.0, small, 1.0]
    found = recount(*draw([cycle] * 5, sizes=sizes, let_off=let_off, lead=1.5, tail=0.5, sway_pp=0.2 * PRESS))
    assert found.count == 5 or not found.sure
    apart = recount(*draw([2 * cycle] * 3, let_off=let_off, lead=1.5, tail=0.5, sway_pp=0.2 * PRESS))
    assert apart.count == 3 and apart.sure
