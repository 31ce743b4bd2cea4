"""BreathCounter rule by rule, fed the detector's 0.1 s blocks of the 1 s mean directly.

A hold is drawn as DESIGN §2 describes it: a plateau; each out-breath presses `press` kg more
over 40 % of its cycle, the in-breath lets 70 % of it off; plus optional sway and noise.
"""

from __future__ import annotations

import math
import random

import pytest

from firmware.detector.breaths import MAX_PRESS_S, BreathCounter

PLATEAU = 56.0   # kg at the cell in the hold (0.8 of a 70 kg person)
PRESS = 2.8      # kg: a 4 % BW press
FLOOR = 0.015 * PLATEAU
HYST = 0.004 * PLATEAU


def smooth(x: float) -> float:
    return 0.0 if x <= 0 else 1.0 if x >= 1 else 0.5 - 0.5 * math.cos(math.pi * x)


def press_train(t: float, starts: list[float], cycle: float, press: float = PRESS) -> float:
    total = 0.0
    for s in starts:
        x = t - s
        if x <= 0:
            break
        rise = 0.4 * cycle
        total += press * smooth(x / rise) - 0.7 * press * smooth((x - rise) / (cycle - rise))
    return total


def hold(seconds: float, starts: list[float] = (), cycle: float = 7.0, press: float = PRESS,
         extra=lambda t: 0.0, noise: float = 0.02, seed: int = 3) -> list[tuple[float, float]]:
    """(t, 1 s mean) every 0.1 s over a hold of `seconds`."""
    rng = random.Random(seed)
    out = []
    for k in range(int(seconds * 10)):
        t = k / 10
        out.append((t, PLATEAU + press_train(t, list(starts), cycle, press) + extra(t) + rng.gauss(0, noise)))
    return out


def count(blocks: list[tuple[float, float]], release_t: float | None = None) -> tuple[BreathCounter, list]:
    counter = BreathCounter(FLOOR, HYST)
    peaks = [p for t, y in blocks if (p := counter.feed(t, y)) is not None]
    end = counter.finish(release_t if release_t is not None else blocks[-1][0] + 0.7)
    return counter, peaks + ([end] if end else [])


@pytest.mark.parametrize("cycle", [4.0, 5.5, 7.0, 9.0, 12.0])
@pytest.mark.parametrize("n", [1, 3, 6])
def test_presses_are_counted_exactly_at_any_breath_cycle(cycle: float, n: int) -> None:
    starts = [1.5 + k * cycle for k in range(n)]
    counter, peaks = count(hold(1.5 + n * cycle + 2.0, starts, cycle))
    assert counter.count == n and len(peaks) == n
    for (peak_t, _), s in zip(peaks, starts, strict=True):
        assert abs(peak_t - (s + 0.4 * cycle)) < 1.0  # the event carries the press's peak


def test_the_hold_teaches_its_cycle_and_the_smoothing_follows() -> None:
    counter, _ = count(hold(40.0, [1.5 + k * 5.0 for k in range(7)], cycle=5.0))
    assert counter.cycle == pytest.approx(5.0, abs=0.4)
    assert counter.box() == round(0.35 * counter.cycle / 0.1)


@pytest.mark.parametrize("hz", [0.3, 0.5, 0.8])
def test_sway_swings_quicker_than_a_breath_are_not_presses(hz: float) -> None:
    # 2 % BW peak to peak: as big as the smallest press, but a 1-3 s swing
    counter, _ = count(hold(40.0, extra=lambda t: 0.7 * math.sin(2 * math.pi * hz * t)))
    assert counter.count == 0


def test_a_rise_off_the_breathing_rhythm_is_not_a_press() -> None:
    starts = [1.5 + k * 8.0 for k in range(4)]
    # a press-sized extra bump 3.6 s after the second press's peak: past min_gap, but off-beat
    bump_at = starts[1] + 0.4 * 8.0 + 3.6

    def bump(t: float) -> float:
        return 2.0 * math.exp(-((t - bump_at) / 0.8) ** 2)

    counter, peaks = count(hold(36.0, starts, cycle=8.0, extra=bump))
    assert counter.count == 4
    assert all(abs(p - bump_at) > 1.0 for p, _ in peaks)


def test_a_slow_creep_of_the_whole_hold_is_not_a_press() -> None:
    creep_s = MAX_PRESS_S + 6.0
    counter, _ = count(hold(creep_s + 8.0, extra=lambda t: 3.0 * smooth(t / creep_s)))
    assert counter.count == 0


def test_presses_under_the_floor_are_not_counted() -> None:
    counter, _ = count(hold(30.0, [1.5 + k * 7.0 for k in range(4)], press=0.5 * FLOOR))
    assert counter.count == 0


def test_at_the_release_a_held_press_counts_but_a_rise_still_going_does_not() -> None:
    def held_press(t: float) -> float:  # the last out-breath held to the release: no let-off
        return PRESS * smooth((t - 8.5) / 2.8)

    held = hold(8.5 + 2.8 + 3.0, [1.5], cycle=7.0, extra=held_press)
    still_rising = hold(8.5 + 2.6, [1.5], cycle=7.0, extra=held_press)
    assert count(held)[0].count == 2
    assert count(still_rising)[0].count == 1


def test_after_a_quiet_spell_only_a_press_sized_rise_counts() -> None:
    def late_rise(size: float) -> object:
        def extra(t: float) -> float:  # one rise, 20 s after the only press, lasting 3 s
            return size * smooth((t - 22.0) / 3.0) - size * smooth((t - 25.0) / 4.0)
        return extra

    small, _ = count(hold(34.0, [1.5], cycle=7.0, extra=late_rise(0.35 * PRESS)))
    big, _ = count(hold(34.0, [1.5], cycle=7.0, extra=late_rise(0.9 * PRESS)))
    assert small.count == 1  # sway in the quiet tail of a one-breath hold
    assert big.count == 2    # a real press after a pause
