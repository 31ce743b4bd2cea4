"""BounceWatch.hides_breath: breath counting holds the load flat around an isolated quick
swing (a lurch), but not inside a bounce episode (table-driven, hand-made band-passed load)."""

from __future__ import annotations

import math

import pytest

from firmware.detector.bounces import BounceWatch

RATE = 80.0


def watch_over(swing, seconds: float = 20.0) -> BounceWatch:
    """A watch (min_amp 1 kg) fed `swing(t)` (kg around a steady 40 kg mean) for `seconds`."""
    watch = BounceWatch(1.0)
    for k in range(int(seconds * RATE)):
        t = k / RATE
        watch.feed(t, swing(t), 40.0)
    return watch


def lurch(t: float) -> float:  # one 0.7 kg swing in 0.3 s at 10 s: quick enough, too small to bounce
    return 0.35 * math.sin(2 * math.pi * (t - 10.0) / 0.6) if 10.0 <= t <= 10.6 else 0.0


def bounce(t: float) -> float:  # 2 Hz, 2 kg peak to peak, 4 cycles from 10 s
    return math.sin(2 * math.pi * 2.0 * (t - 10.0)) if 10.0 <= t <= 12.0 else 0.0


@pytest.mark.parametrize(("swing", "episodes", "hidden"), [
    (lurch, 0, {5.0: False, 10.1: True, 10.8: True, 12.0: False}),
    (bounce, 1, {5.0: False, 10.5: False, 11.5: False, 13.5: False}),
    (lambda t: 0.0, 0, {5.0: False, 10.1: False}),
])
def test_breaths_are_held_flat_only_around_isolated_quick_swings(swing, episodes, hidden):
    watch = watch_over(swing)
    assert watch.episodes == episodes
    assert {t: watch.hides_breath(t) for t in sorted(hidden)} == hidden


def test_quick_sway_as_big_as_the_watch_minimum_is_no_bounce_and_does_not_start_one_early() -> None:
    # real one-foot sway has 1-1.3 Hz swings as big as the smallest bounce: 1.1 kg peak to peak
    # all along here, then a real bounce five times bigger from 12 s
    def sway_then_bounce(t: float) -> float:
        sway = 0.55 * math.sin(2 * math.pi * 1.2 * t) * (0.6 + 0.4 * math.sin(0.3 * t))
        return sway + (2.8 * math.sin(2 * math.pi * 1.5 * (t - 12.0)) if 12.0 <= t <= 14.0 else 0.0)

    found = []
    watch = BounceWatch(1.0, quick_sway=0.9)  # what standing showed of that sway
    for k in range(int(20.0 * RATE)):
        t = k / RATE
        hit = watch.feed(t, sway_then_bounce(t), 40.0)
        if hit is not None:
            found.append(hit)
    assert len(found) == 1
    start, _, pp = found[0]
    assert 12.0 <= start <= 12.8 and pp > 4.0  # (its rate is blurred by the sway beneath)



def swings_over(quick_sway: float, swing, seconds: float = 20.0) -> list[tuple[float, float, float]]:
    watch = BounceWatch(1.0, quick_sway=quick_sway)
    found = []
    for k in range(int(seconds * RATE)):
        t = k / RATE
        hit = watch.feed(t, swing(t), 40.0)
        if hit is not None:
            found.append(hit)
    return found


@pytest.mark.parametrize(("quick_sway", "sway_hz", "pp_kg", "seconds"), [
    # quiet hold (0.4 kg quick swings), then 2 Hz swings of 1.2 kg for 1.5 s: 3x the sway
    # before them; had the pair's own swings joined the sway first, its bar would have risen
    # past them
    (0.4, 1.7, 1.2, 1.5),
    # one 2 Hz cycle of 4 kg over sway whose quick swings are 0.8 kg: its quarter swings (2 kg)
    # are 2.5x the sway and half its half swing (4 kg, 5x)
    (0.8, 1.3, 4.0, 0.5),
])
def test_a_bounce_is_flagged_against_the_sway_before_it(quick_sway: float, sway_hz: float, pp_kg: float,
                                                        seconds: float) -> None:
    def swing(t: float) -> float:  # the sway's swings are as big as what the watch was told
        sway = 0.5 * quick_sway * math.sin(2 * math.pi * sway_hz * t)
        on = 12.0 <= t <= 12.0 + seconds
        return sway + (0.5 * pp_kg * math.sin(2 * math.pi * 2.0 * (t - 12.0)) if on else 0.0)

    found = swings_over(quick_sway, swing)
    assert len(found) == 1 and 11.8 <= found[0][0] <= 12.8


@pytest.mark.parametrize("hz", [0.8, 0.9])
def test_sway_swings_as_big_as_a_bounce_but_slower_than_1_hz_are_no_bounce(hz: float) -> None:
    # DESIGN §2: a bounce is 1-3 Hz; sway grows towards low frequencies, and below 1 Hz its
    # swings may be several times its usual quick sway (here 5x, in bursts)
    def swing(t: float) -> float:
        burst = 1.0 if 8.0 <= t % 10.0 <= 10.0 else 0.2
        return 1.0 * burst * math.sin(2 * math.pi * hz * t)

    assert swings_over(0.4, swing, seconds=60.0) == []


def zigzag(swings: list[float], half_s: float = 0.25) -> BounceWatch:
    """A watch (min_amp 1 kg, told 0.4 kg quick sway) fed straight swings of these sizes (kg,
    alternately up and down, each `half_s` long) after 10 s of its 0.4 kg sway."""
    watch = BounceWatch(1.0, quick_sway=0.4)
    tops = [0.0]
    for k, amp in enumerate([0.4] * 40 + swings + [0.4] * 8):
        tops.append(tops[-1] + (amp if k % 2 == 0 else -amp))
    for k in range(int((len(tops) - 1) * half_s * RATE)):
        t = k / RATE
        j = int(t / half_s)
        watch.feed(t, tops[j] + (tops[j + 1] - tops[j]) * (t / half_s - j), 40.0)
    return watch


@pytest.mark.parametrize(("lurch", "bounce", "episodes"), [(0.4, 1.3, 1), (2.4, 1.3, 1), (2.4, 0.4, 0)])
def test_a_lurch_just_before_a_bounce_does_not_lift_the_bar_past_it(lurch: float, bounce: float,
                                                                     episodes: int) -> None:
    # a quick 2.4 kg lurch (6x the 0.4 kg sway: a foot shift) two swings before a bounce whose
    # swings are 1.3 kg (3.25x the sway). The lurch began no bounce and joins the sway, but only
    # as the bar (ABOVE_SWAY times it): taken whole it lifted the bar past the bounce, and the
    # bounce's own swings, joining in turn as its pairs fell short, kept it there
    # (the lurch alone, in sway, is no bounce)
    assert zigzag([lurch, 0.4, 0.4] + [bounce] * 6).episodes == episodes
