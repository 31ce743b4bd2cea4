"""The detector, rule by rule, on short hand-made traces (table-driven where it helps).

`Script` builds a load curve from pieces (flat, ramp, hold with breath presses, bounce
overlay) and samples it at 10 or 80 Hz with a little seeded noise, so each test states the
truth it expects next to the signal that carries it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from firmware import events as ev
from firmware.detector import DetectorConfig, HoldDetector

BODY = 70.0
STAND = 0.45 * BODY


def smooth(x: float) -> float:
    return 0.0 if x <= 0 else 1.0 if x >= 1 else 0.5 - 0.5 * math.cos(math.pi * x)


class Script:
    """Pieces of load in time order, plus additive overlays (bounces), sampled on demand."""

    def __init__(self) -> None:
        self.pieces: list[tuple[float, float, Callable[[float], float]]] = []
        self.overlays: list[tuple[float, float, Callable[[float], float]]] = []
        self.t = 0.0
        self.level = 0.0
        self.marks: dict[str, list[float]] = {"breaths": [], "bounces": []}

    def _add(self, seconds: float, fn: Callable[[float], float]) -> Script:
        self.pieces.append((self.t, self.t + seconds, fn))
        self.t += seconds
        return self

    def flat(self, kg: float, seconds: float) -> Script:
        self.level = kg
        return self._add(seconds, lambda t: kg)

    def ramp(self, to: float, seconds: float) -> Script:
        t0, a = self.t, self.level
        self.level = to
        return self._add(seconds, lambda t: a + (to - a) * smooth((t - t0) / seconds))

    def hold(self, seconds: float, breaths: int = 0, press: float = 0.04 * BODY, cycle: float = 6.0,
             let_off: float = 0.7, lead: float = 2.0, duty: float = 0.4) -> Script:
        """A hold at the current level with `breaths` presses (peak at `duty` of each cycle)."""
        t0, base = self.t, self.level
        starts = [t0 + lead + k * cycle for k in range(breaths)]
        self.marks["breaths"] += [s + duty * cycle for s in starts]

        def level(t: float) -> float:
            total = base
            for s in starts:
                x = t - s
                if x <= 0:
                    break
                rise = duty * cycle
                total += press * smooth(x / rise) - let_off * press * smooth((x - rise) / (cycle - rise))
            return total

        self._add(seconds, level)
        self.level = level(self.t)
        return self

    def bounce(self, at: float, hz: float = 2.0, pp: float = 0.15 * BODY, cycles: int = 3) -> Script:
        """An oscillation starting `at` seconds after the start of the last piece."""
        t0 = self.pieces[-1][0] + at
        t1 = t0 + cycles / hz
        self.marks["bounces"].append(t0)
        self.overlays.append((t0, t1, lambda t: 0.5 * pp * math.sin(2 * math.pi * hz * (t - t0))))
        return self

    def stretch(self, breaths: int = 4, top: float = 0.8 * BODY, hold_s: float = 33.0, **kw) -> Script:
        stand = self.level
        hold_s = max(hold_s, kw.get("lead", 2.0) + breaths * kw.get("cycle", 6.0) + 1.5)
        self.ramp(top, 2.0).hold(hold_s, breaths, **kw)
        return self.ramp(stand, 2.0)

    def samples(self, rate: float = 80.0, noise: float = 0.05, sway: float = 0.0,
                seed: int = 1) -> list[tuple[float, float]]:
        rng = random.Random(seed)
        out = []
        k = 0
        n = int(self.t * rate)
        for i in range(n):
            t = i / rate
            while k < len(self.pieces) - 1 and t >= self.pieces[k][1]:
                k += 1
            kg = self.pieces[k][2](t)
            kg += sum(fn(t) for t0, t1, fn in self.overlays if t0 <= t < t1)
            kg += sway * math.sin(2 * math.pi * 0.23 * t) * (1.0 if kg > 5 else 0.0)
            out.append((t, kg + rng.gauss(0.0, noise)))
        return out


def run(samples: list[tuple[float, float]], **config) -> list[ev.Event]:
    detector = HoldDetector(DetectorConfig(**config))
    out: list[ev.Event] = []
    for t, kg in samples:
        out.extend(detector.feed(t, kg))
    out.extend(detector.finish())
    return out


def kinds(events: list[ev.Event], *only: str) -> list[str]:
    return [e.kind for e in events if not only or e.kind in only]


def routine(breaths: int = 4, **kw) -> Script:
    return Script().flat(0.0, 3.0).ramp(STAND, 0.6).flat(STAND, 5.0).stretch(breaths, **kw) \
        .flat(STAND, 5.0).ramp(0.0, 0.6).flat(0.0, 3.0)


# ------------------------------------------------------------------ onset, hold, release
@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_one_clean_stretch_gives_the_whole_event_story(rate: float) -> None:
    events = run(routine(4).samples(rate))
    assert kinds(events, ev.STEP_ON, ev.STRETCH_START, ev.HOLD_START, ev.HOLD_COMPLETE, ev.STRETCH_END,
                 ev.STEP_OFF) == [ev.STEP_ON, ev.STRETCH_START, ev.HOLD_START, ev.HOLD_COMPLETE,
                                  ev.STRETCH_END, ev.STEP_OFF]
    end = next(e for e in events if e.kind == ev.STRETCH_END).data
    # truth: step on at 3.0, ramp 8.6-10.6, hold to 43.6, release to 45.6
    assert abs(end["start"] - 8.6) < 0.5
    assert abs(end["hold_start"] - 10.6) < 0.7
    assert abs(end["end"] - 45.6) < 0.5
    assert abs(end["hold_s"] - 33.0) < 1.0
    assert end["breaths"] == 4 and end["completed"] is True and end["bounces"] == 0
    assert end["peak_kg"] == pytest.approx(0.8 * BODY + (3 * 0.3 + 1) * 0.04 * BODY, abs=0.5)  # 4th press
    on = next(e for e in events if e.kind == ev.STEP_ON)
    off = next(e for e in events if e.kind == ev.STEP_OFF)
    assert abs(on.t - 3.0) < 0.4 and abs(off.t - 51.2) < 0.5


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("breaths", [0, 1, 3, 5, 6])
def test_breaths_are_counted_exactly(rate: float, breaths: int) -> None:
    events = run(routine(breaths).samples(rate, noise=0.1))
    assert len(kinds(events, ev.BREATH)) == breaths
    assert next(e for e in events if e.kind == ev.STRETCH_END).data["breaths"] == breaths


def test_breath_events_carry_their_number_and_press_peak_time() -> None:
    script = routine(3)
    events = run(script.samples(80.0))
    breaths = [e for e in events if e.kind == ev.BREATH]
    assert [e.data["n"] for e in breaths] == [1, 2, 3]
    for event, truth in zip(breaths, script.marks["breaths"], strict=True):
        assert abs(event.t - truth) < 1.0


@pytest.mark.parametrize(("press_frac", "expected"), [(0.0, 0), (0.005, 0), (0.02, 4), (0.06, 4)])
def test_presses_below_the_floor_are_sway_not_breaths(press_frac: float, expected: int) -> None:
    events = run(routine(4, press=press_frac * BODY).samples(80.0))
    assert len(kinds(events, ev.BREATH)) == expected


# ------------------------------------------------------------------ hold_complete
@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_hold_complete_fires_on_the_first_sample_at_or_after_the_target(rate: float) -> None:
    detector = HoldDetector(DetectorConfig(target_s=20.0))
    hold_start = None
    for t, kg in routine(2).samples(rate):
        for event in detector.feed(t, kg):
            if event.kind == ev.HOLD_START:
                hold_start = event.t
            if event.kind == ev.HOLD_COMPLETE:
                assert hold_start is not None
                assert event.t == round(t, 4)  # emitted on the very sample, with its time
                assert hold_start + 20.0 <= t + 1e-9 < hold_start + 20.0 + 1.0 / rate
                assert event.data["hold_s"] == pytest.approx(t - hold_start, abs=1e-3)
                return
    pytest.fail("no hold_complete")


def test_a_hold_shorter_than_the_target_is_not_completed() -> None:
    events = run(routine(2, hold_s=15.0).samples(80.0))
    assert ev.HOLD_COMPLETE not in kinds(events)
    assert next(e for e in events if e.kind == ev.STRETCH_END).data["completed"] is False


def test_breath_target_completes_the_hold_at_that_breath() -> None:
    events = run(routine(5).samples(80.0), target_s=300.0, target_breaths=3)
    story = kinds(events, ev.BREATH, ev.HOLD_COMPLETE)
    assert story[:4] == [ev.BREATH, ev.BREATH, ev.BREATH, ev.HOLD_COMPLETE]
    assert story.count(ev.HOLD_COMPLETE) == 1


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_a_breath_target_on_an_unsure_count_falls_back_to_the_time_target(rate: float) -> None:
    # breathing-band sway as big as the presses, before and during the hold: the live counter
    # may reach 2 early, but the count is not sure, so the cue waits for target_s
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 20.0).stretch(5, cycle=6.0, hold_s=40.0) \
        .flat(STAND, 5.0)
    events = run(script.samples(rate, sway=0.03 * BODY), target_s=25.0, target_breaths=2)
    hold = next(e for e in events if e.kind == ev.HOLD_START)
    (complete,) = [e for e in events if e.kind == ev.HOLD_COMPLETE]
    assert complete.t == pytest.approx(hold.t + 25.0, abs=1.0 / rate + 1e-3)
    assert next(e for e in events if e.kind == ev.STRETCH_END).data["breaths_sure"] is False


def test_set_target_takes_effect_from_the_next_hold() -> None:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 5.0).stretch(2, hold_s=25.0) \
        .flat(STAND, 6.0).stretch(2, hold_s=25.0).flat(STAND, 3.0)
    detector = HoldDetector(DetectorConfig(target_s=30.0))
    completes = []
    for t, kg in script.samples(80.0):
        for event in detector.feed(t, kg):
            if event.kind == ev.HOLD_START and len(completes) == 0:
                detector.set_target(20.0)  # mid-hold: this hold keeps 30 s
            if event.kind == ev.HOLD_COMPLETE:
                completes.append(event.t)
    assert len(completes) == 1 and completes[0] > 40.0  # only the second hold (starts ~43 s)


# ------------------------------------------------------------------ bounces
@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize(("hz", "pp_frac", "cycles"), [(1.0, 0.10, 2), (2.0, 0.15, 3), (3.0, 0.30, 6),
                                                       (2.5, 0.06, 4), (1.5, 0.2, 1)])
def test_a_bounce_in_a_hold_is_flagged_once(rate: float, hz: float, pp_frac: float, cycles: int) -> None:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 5.0).ramp(0.8 * BODY, 2.0) \
        .hold(30.0, 2, lead=3.0).bounce(15.0, hz, pp_frac * BODY, cycles).ramp(STAND, 2.0).flat(STAND, 4.0)
    events = run(script.samples(rate))
    bounces = [e for e in events if e.kind == ev.BOUNCE]
    assert len(bounces) == 1
    truth = script.marks["bounces"][0]
    assert truth - 0.5 <= bounces[0].t <= truth + cycles / hz + 1.0
    assert bounces[0].data["pp_kg"] > 0.3 * pp_frac * BODY
    assert next(e for e in events if e.kind == ev.STRETCH_END).data["bounces"] == 1


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize(("cycle", "let_off", "hz"), [(4.5, 0.5, 2.5), (5.0, 0.6, 2.5), (4.5, 0.5, 1.5)])
def test_a_bounce_over_an_in_breath_does_not_merge_the_presses_around_it(rate: float, cycle: float,
                                                                         let_off: float, hz: float) -> None:
    # The bounce starts 0.3 s after the 2nd press's peak and stops 0.5 s before the 3rd press.
    peak2 = 2.0 + cycle + 0.4 * cycle
    at = peak2 + 0.3
    cycles = int((2.0 + 2 * cycle - 0.5 - at) * hz)
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 5.0).ramp(0.8 * BODY, 2.0) \
        .hold(30.0, 5, cycle=cycle, let_off=let_off).bounce(at, hz, 0.2 * BODY, cycles) \
        .ramp(STAND, 2.0).flat(STAND, 4.0)
    end = next(e for e in run(script.samples(rate)) if e.kind == ev.STRETCH_END).data
    assert (end["breaths"], end["bounces"]) == (5, 1)


@pytest.mark.parametrize("period", [2.0, 3.5, 5.0])
def test_a_slow_heel_raise_and_drop_repetition_is_not_a_bounce(period: float) -> None:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 5.0).ramp(0.8 * BODY, 2.0).hold(30.0, 0)
    script.overlays.append((15.0, 15.0 + 3 * period,
                            lambda t: 0.05 * BODY * math.sin(2 * math.pi * (t - 15.0) / period)))
    script.ramp(STAND, 2.0).flat(STAND, 4.0)
    assert ev.BOUNCE not in kinds(run(script.samples(80.0)))


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_bounces_are_only_reported_inside_a_stretch(rate: float) -> None:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 20.0).bounce(5.0, 2.0, 0.04 * BODY, 4)
    script.flat(STAND, 5.0)
    assert ev.BOUNCE not in kinds(run(script.samples(rate)))


# ------------------------------------------------------------------ stepping off, shifts, bags
def test_stepping_off_mid_stretch_ends_the_stretch_then_the_visit() -> None:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 5.0).ramp(0.8 * BODY, 2.0).hold(12.0, 1) \
        .ramp(0.0, 1.5).flat(0.0, 4.0)
    events = run(script.samples(80.0))
    assert kinds(events)[-2:] == [ev.STRETCH_END, ev.STEP_OFF]
    end = next(e for e in events if e.kind == ev.STRETCH_END)
    off = next(e for e in events if e.kind == ev.STEP_OFF)
    assert abs(end.data["end"] - 23.1) < 0.5 and off.t == pytest.approx(end.t, abs=0.05)


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("shift_frac", [0.1, -0.1, 0.05])
def test_a_foot_shift_is_not_a_stretch(rate: float, shift_frac: float) -> None:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 8.0).ramp(STAND + shift_frac * BODY, 0.3) \
        .flat(STAND + shift_frac * BODY, 15.0).ramp(0.0, 0.6).flat(0.0, 2.0)
    events = run(script.samples(rate, sway=0.005 * BODY))
    assert kinds(events) == [ev.STEP_ON, ev.STEP_OFF]


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_a_stretch_after_a_foot_shift_starts_from_the_new_level(rate: float) -> None:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 6.0).ramp(STAND + 0.07 * BODY, 0.3) \
        .flat(STAND + 0.07 * BODY, 6.0).stretch(3).flat(STAND + 0.07 * BODY, 5.0)
    events = run(script.samples(rate))
    assert kinds(events, ev.STRETCH_START, ev.STRETCH_END) == [ev.STRETCH_START, ev.STRETCH_END]
    assert abs(next(e for e in events if e.kind == ev.STRETCH_END).data["start"] - 14.9) < 0.5


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("shift_s", [0.3, 0.6, 1.0])
@pytest.mark.parametrize("stance", [0.25, 0.3])
def test_a_whole_foot_shift_from_a_low_stance_is_not_a_stretch(rate: float, shift_s: float,
                                                                stance: float) -> None:
    # DESIGN §2: a shift steps the level by up to 10 % BW in 0.3-1 s; from a standing of
    # 0.25-0.3 BW that is a third or more of the standing, as much as a stretch's ramp from a
    # high stance
    low = stance * BODY
    script = Script().flat(0.0, 2.0).ramp(low, 0.6).flat(low, 8.0).ramp(low + 0.1 * BODY, shift_s) \
        .flat(low + 0.1 * BODY, 20.0).ramp(0.0, 0.6).flat(0.0, 2.0)
    events = run(script.samples(rate, sway=0.005 * BODY))
    assert kinds(events) == [ev.STEP_ON, ev.STEP_OFF]


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_standing_that_walks_in_shifts_is_never_a_stretch_nor_a_bounce(rate: float, seed: int) -> None:
    # several shifts in a row walk the level about 0.2-0.6 BW, never rising 0.14 BW in a row
    rng = random.Random(seed)
    level = 0.4 * BODY
    script = Script().flat(0.0, 2.0).ramp(level, 0.6).flat(level, 5.0)
    for _ in range(14):
        step = rng.uniform(-0.1, 0.1) * BODY
        level = min(max(level + step, 0.2 * BODY), 0.6 * BODY)
        script.ramp(level, rng.uniform(0.3, 1.0)).flat(level, rng.uniform(0.3, 3.0))
    script.flat(level, 5.0).ramp(0.0, 0.6).flat(0.0, 2.0)
    events = run(script.samples(rate, sway=0.005 * BODY, seed=seed))
    assert kinds(events) == [ev.STEP_ON, ev.STEP_OFF]


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("pause_s", [3.0, 5.0])
def test_stretches_a_short_pause_apart_stay_apart(rate: float, pause_s: float) -> None:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 5.0)
    for _ in range(3):
        script.stretch(3, hold_s=24.0).flat(STAND, pause_s)
    events = run(script.samples(rate, sway=0.005 * BODY))
    ends = [e for e in events if e.kind == ev.STRETCH_END]
    assert len(ends) == 3 and all(e.data["breaths"] == 3 for e in ends)


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("seed", [1, 3])
def test_stretches_3_s_apart_over_real_sized_sway_stay_apart(rate: float, seed: int) -> None:
    # DESIGN §2: pauses between stretches can be as short as 3 s, over an older adult's sway
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 5.0)
    for _ in range(3):
        script.stretch(3, hold_s=24.0).flat(STAND, 3.0)
    script.overlays.append((2.6, script.t, real_sized_sway(seed)))
    events = run(script.samples(rate, seed=seed))
    assert kinds(events, ev.STRETCH_START, ev.STRETCH_END) == [ev.STRETCH_START, ev.STRETCH_END] * 3


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("settle_s", [0.8, 1.5])
def test_a_row_of_shifts_up_from_a_shift_down_is_not_a_stretch(rate: float, settle_s: float) -> None:
    # DESIGN §2: shifts (<= 0.1 BW in 0.3-1 s) in a row; up twice after a shift down the level
    # rises 0.2 BW from the dip, as much as a stretch's ramp, but pausing between its steps
    level = 0.4 * BODY
    script = Script().flat(0.0, 2.0).ramp(level, 0.6).flat(level, 8.0).ramp(level - 0.1 * BODY, 0.5) \
        .flat(level - 0.1 * BODY, 2.0).ramp(level, 0.5).flat(level, settle_s) \
        .ramp(level + 0.1 * BODY, 0.5).flat(level + 0.1 * BODY, 20.0).ramp(0.0, 0.6).flat(0.0, 2.0)
    events = run(script.samples(rate, sway=0.005 * BODY))
    assert kinds(events) == [ev.STEP_ON, ev.STEP_OFF]


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_a_quick_heel_drop_just_after_foot_shifts_is_one_whole_stretch(rate: float) -> None:
    # a 1 s ramp from a low stance, 3 s after two shifts: judged on its whole rise, not on the
    # part seen when it crossed the onset threshold (which once took it for a shift)
    low = 0.25 * BODY
    script = Script().flat(0.0, 2.0).ramp(low, 0.6).flat(low, 6.0).ramp(low + 0.07 * BODY, 0.5) \
        .flat(low + 0.07 * BODY, 2.0).ramp(low, 0.5).flat(low, 3.0).ramp(0.85 * BODY, 1.0) \
        .hold(25.0, 3, lead=2.0).ramp(low, 2.0).flat(low, 5.0)
    events = run(script.samples(rate, sway=0.005 * BODY))
    ends = [e for e in events if e.kind == ev.STRETCH_END]
    assert len(ends) == 1 and abs(ends[0].data["start"] - 14.6) < 0.5
    assert ends[0].data["hold_s"] > 20.0


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_stretches_with_shifts_in_a_short_pause_stay_apart(rate: float) -> None:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 5.0)
    level = STAND
    for k in range(3):
        script.stretch(3, hold_s=20.0)
        step = (0.08 if k % 2 == 0 else -0.08) * BODY
        script.flat(level, 1.0).ramp(level + step, 0.5).flat(level + step, 2.5)
        level += step
    events = run(script.samples(rate, sway=0.005 * BODY))
    ends = [e for e in events if e.kind == ev.STRETCH_END]
    assert len(ends) == 3 and all(e.data["breaths"] == 3 for e in ends)


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_a_ramp_rising_out_of_a_hold_ends_it_and_is_a_stretch_of_its_own(rate: float) -> None:
    # no breath adds 0.3 BW in 2 s: the level held (0.6 BW) was not the stretch the ramp from
    # it is, so the two are told apart rather than merged into one long hold
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 6.0).ramp(0.6 * BODY, 2.0) \
        .flat(0.6 * BODY, 12.0).ramp(0.9 * BODY, 2.0).hold(24.0, 3, lead=2.0).ramp(STAND, 2.0) \
        .flat(STAND, 5.0)
    events = run(script.samples(rate, sway=0.005 * BODY))
    ends = [e.data for e in events if e.kind == ev.STRETCH_END]
    assert len(ends) == 2
    assert abs(ends[0]["end"] - 22.6) < 1.0 and abs(ends[1]["start"] - 22.6) < 1.0
    assert ends[1]["breaths"] == 3


def real_sized_sway(seed: int) -> Callable[[float], float]:
    """Sway as a standing older adult shows it (DESIGN §2): 3 % BW peak to peak in the breathing
    band, and swings at about 1 Hz of up to ~4 % BW that wax and wane (random phases, seeded)."""
    rng = random.Random(seed)
    slow = [(rng.uniform(0.08, 0.25), rng.uniform(0, 2 * math.pi)) for _ in range(4)]
    quick = [(rng.uniform(0.8, 1.2), rng.uniform(0, 2 * math.pi)) for _ in range(5)]

    def sway(t: float) -> float:
        return (0.015 * BODY * sum(math.sin(2 * math.pi * f * t + p) for f, p in slow) / 2.0
                + 0.012 * BODY * sum(math.sin(2 * math.pi * f * t + p) for f, p in quick) / 2.5)
    return sway


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(("hz", "pp_frac", "cycles"), [(2.5, 0.12, 3), (1.5, 0.08, 3), (1.5, 0.15, 1)])
def test_a_hold_with_real_sized_sway_gives_no_bounce_and_a_bounce_in_it_is_flagged(
        rate: float, seed: int, hz: float, pp_frac: float, cycles: int) -> None:
    def visit(with_bounce: bool) -> list[ev.Event]:
        script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 20.0).ramp(0.8 * BODY, 2.0) \
            .hold(40.0, 4, lead=3.0)
        if with_bounce:
            script.bounce(20.0, hz, pp_frac * BODY, cycles)
        script.ramp(STAND, 2.0).flat(STAND, 5.0)
        script.overlays.append((2.6, script.t, real_sized_sway(seed)))
        return run(script.samples(rate))

    assert ev.BOUNCE not in kinds(visit(with_bounce=False))
    assert kinds(visit(with_bounce=True)).count(ev.BOUNCE) == 1


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("hz", [0.75, 0.85])
@pytest.mark.parametrize("pp_frac", [0.06, 0.08])
def test_sway_as_big_as_a_breath_below_1_hz_is_no_bounce(rate: float, hz: float, pp_frac: float) -> None:
    # swings as big as the biggest press (6 % BW peak to peak) or bigger, slower than a bounce
    # (DESIGN §2: 1-3 Hz), in bursts of 3 s over the real-sized sway of an older adult
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 20.0).ramp(0.8 * BODY, 2.0) \
        .hold(40.0, 4, lead=3.0).ramp(STAND, 2.0).flat(STAND, 5.0)
    script.overlays.append((2.6, script.t, real_sized_sway(4)))
    amp = 0.5 * pp_frac * BODY
    for t0 in (30.0, 45.0):
        script.overlays.append((t0, t0 + 3.0, lambda t: amp * math.sin(2 * math.pi * hz * t)))
    events = run(script.samples(rate))
    assert kinds(events, ev.STRETCH_START, ev.BOUNCE) == [ev.STRETCH_START]


@pytest.mark.parametrize("kg", [3.0, 15.0, 40.0])
def test_a_bag_on_the_step_is_never_a_stretch(kg: float) -> None:
    script = Script().flat(0.0, 3.0).ramp(kg, 0.3).flat(kg, 120.0).ramp(0.0, 0.3).flat(0.0, 3.0)
    events = run(script.samples(10.0, noise=0.1))
    assert not set(kinds(events)) & {ev.STRETCH_START, ev.BREATH, ev.BOUNCE, ev.HOLD_COMPLETE}


def test_plain_standing_with_sway_is_never_a_stretch() -> None:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 180.0).ramp(0.0, 0.6).flat(0.0, 2.0)
    events = run(script.samples(80.0, sway=0.012 * BODY))
    assert kinds(events) == [ev.STEP_ON, ev.STEP_OFF]


# ------------------------------------------------------------------ bad samples
@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("glitch_kg", [6.5, -13.0, 52.0, -105.0, 210.0])
def test_isolated_glitches_change_nothing(rate: float, glitch_kg: float) -> None:
    samples = routine(4).samples(rate)
    clean = kinds(run(samples))
    rng = random.Random(3)
    for i in rng.sample(range(2, len(samples) - 2, 4), 25):  # isolated: never two in a row
        samples[i] = (samples[i][0], samples[i][1] + glitch_kg)
    assert kinds(run(samples)) == clean


def test_missing_samples_and_a_gap_are_survived() -> None:
    samples = routine(4).samples(80.0)
    holed = [(t, math.nan if 20.0 < t < 21.5 or i % 7 == 0 else kg) for i, (t, kg) in enumerate(samples)]
    holed = [s for i, s in enumerate(holed) if i % 11]  # dropped samples too
    events = run(holed)
    assert kinds(events, ev.STRETCH_START, ev.STRETCH_END) == [ev.STRETCH_START, ev.STRETCH_END]
    assert next(e for e in events if e.kind == ev.STRETCH_END).data["breaths"] == 4


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e300, -1e300])
def test_wild_values_and_bad_times_never_crash(bad: float) -> None:
    detector = HoldDetector()
    for i in range(400):
        detector.feed(i / 80, bad if i % 3 else 30.0)
        detector.feed(bad, 30.0)  # NaN/inf/backwards time is ignored
    detector.finish()


# ------------------------------------------------------------------ interface
def test_feed_returns_nothing_most_of_the_time_and_finish_closes_everything() -> None:
    detector = HoldDetector()
    samples = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 5.0).ramp(0.8 * BODY, 2.0) \
        .hold(10.0, 1).samples(80.0)
    returned = [detector.feed(t, kg) for t, kg in samples]
    assert sum(1 for r in returned if r) < 8
    assert detector.state == "holding"
    closing = detector.finish()
    assert [e.kind for e in closing] == [ev.STRETCH_END, ev.STEP_OFF]
    assert closing[0].data["completed"] is False
    assert detector.state == "empty"
    assert detector.finish() == []


def test_status_follows_the_states() -> None:
    detector = HoldDetector()
    seen = []
    for t, kg in routine(2).samples(80.0):
        detector.feed(t, kg)
        status = detector.status()
        if not seen or seen[-1] != status["state"]:
            seen.append(status["state"])
        assert set(status) == {"state", "hold_s", "breaths", "bounces", "standing_kg", "stretch_start"}
        if status["state"] == "holding":
            assert status["hold_s"] >= 0 and status["stretch_start"] is not None
    assert seen == ["empty", "standing", "stretching", "holding", "stretching", "standing", "empty"]


@pytest.mark.parametrize(("field", "value"), [("target_s", 0.0), ("target_breaths", -1), ("body_kg", 5.0),
                                              ("rate_hz", 0.0), ("rise_frac", 2.0), ("target_breaths", 2.5),
                                              ("reject_glitches", "yes")])
def test_bad_config_names_the_field_and_the_allowed_range(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        DetectorConfig(**{field: value})


def test_set_target_rejects_nonsense() -> None:
    detector = HoldDetector()
    with pytest.raises(ValueError, match="seconds"):
        detector.set_target(-1.0)
    with pytest.raises(ValueError, match="breaths"):
        detector.set_target(30.0, breaths=-2)


def test_body_weight_is_optional_and_may_be_given() -> None:
    samples = routine(3).samples(80.0)
    assert kinds(run(samples, body_kg=BODY)) == kinds(run(samples))


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_a_rise_that_ends_below_the_standing_stepped_on_at_is_not_a_stretch(rate: float) -> None:
    # DESIGN §2: standing <= 0.6 BW <= a plateau, so no stretch of this person ends below a
    # level they stood at: after walking down from 0.5 to 0.3 BW, one smooth 1.5 s rise of
    # 0.18 BW (ramp-shaped, ramp-sized) back up to 0.48 BW is standing, not a heel drop
    high, low = 0.5 * BODY, 0.3 * BODY
    script = Script().flat(0.0, 2.0).ramp(high, 0.6).flat(high, 10.0).ramp(high - 0.1 * BODY, 0.5) \
        .flat(high - 0.1 * BODY, 3.0).ramp(low, 0.5).flat(low, 8.0).ramp(low + 0.18 * BODY, 1.5) \
        .flat(low + 0.18 * BODY, 25.0).ramp(0.0, 0.6).flat(0.0, 2.0)
    events = run(script.samples(rate, sway=0.005 * BODY))
    assert kinds(events) == [ev.STEP_ON, ev.STEP_OFF]


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_a_level_reached_by_a_rise_judged_no_stretch_does_not_bound_the_next_stretch(rate: float) -> None:
    # a creep too slow for a heel drop (12 s) up to 0.75 BW is not a stretch, and so the level it
    # reached proves nothing about the body weight: the real stretch after it, to 0.7 BW, counts
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 8.0).ramp(0.75 * BODY, 12.0) \
        .flat(0.75 * BODY, 15.0).ramp(STAND, 2.0).flat(STAND, 8.0).stretch(3, top=0.7 * BODY, hold_s=24.0) \
        .flat(STAND, 5.0).ramp(0.0, 0.6).flat(0.0, 2.0)
    events = run(script.samples(rate, sway=0.005 * BODY))
    ends = [e.data for e in events if e.kind == ev.STRETCH_END]
    assert len(ends) == 1 and ends[0]["breaths"] == 3 and ends[0]["hold_s"] > 20.0
