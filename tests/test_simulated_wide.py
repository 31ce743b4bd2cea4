"""The wide simulator: seeded draws stay inside DESIGN §2's ranges (and a corpus's narrowed
corners), and the lever turns known feet into the load the model says."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.sensors.simulated import Hold, Off, SimulatedPerson, Stand, StepOff, StepOn, scenario
from firmware.sensors.simulated.sway import (
    NOSING_M,
    TOWARD_TOES,
    Foot,
    Geometry,
    LeverSway,
    MirroredSeries,
    band_pp,
    lever_load,
    recorded_foot,
)
from firmware.sensors.simulated.wide import BURST_MAX, DESIGN_RANGES, draw_hold, draw_person

EPS = 1e-6


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**9), stand=st.floats(0.2, 0.6), bounces=st.integers(0, 1))
def test_every_drawn_hold_is_inside_design_ranges(seed: int, stand: float, bounces: int) -> None:
    hold = draw_hold(random.Random(seed), stand, bounces=bounces)
    assert 0 <= hold.breaths <= 8 and 4.0 <= hold.cycle_s <= 12.0 and hold.vary == 0.25
    assert 0.3 <= hold.exhale_share <= 0.6 and 0.0 <= hold.let_off <= 1.0
    assert 0.02 <= hold.press_frac <= 0.06 and 0.5 <= hold.damping <= 1.0
    assert 1.0 <= hold.ramp_s <= 4.0 and 1.0 <= hold.release_s <= 4.0
    assert hold.plateau_frac >= max(0.6, stand + 0.15) - 1e-4
    top = hold.press_frac * (hold.breaths * (1 - hold.let_off) + 1) * 1.1
    assert hold.plateau_frac + top <= 1.0 + 1e-3 or hold.press_frac == 0.02  # presses fit the body weight
    assert len(hold.bounces) == bounces
    assert all(1.0 <= b.hz <= 3.0 and 1 <= b.cycles <= 8 and 0.05 <= b.pp_frac <= 0.3 for b in hold.bounces)


def wide_truth(seed: int, ranges=DESIGN_RANGES, name: str = "wide", **kw) -> dict:
    person = draw_person(random.Random(seed), 10.0, ranges)
    return scenario(name, seed=seed, rate_hz=10.0, ranges=ranges, **person, **kw).truth


@pytest.mark.parametrize("seed", range(8))
def test_wide_visits_stay_inside_design_ranges(seed: int) -> None:
    truth = wide_truth(seed)
    bw, r = truth["body_kg"], DESIGN_RANGES
    assert 45.0 <= bw <= 120.0 and 0.25 * bw - EPS <= truth["stand_kg"] <= 0.6 * bw + EPS
    stretches = truth["stretches"]
    assert stretches
    for s in stretches:
        assert 0 <= s["breaths"] <= 8 and r.damping[0] <= s["damping"] <= r.damping[1]
        assert 1.0 - EPS <= s["hold_start"] - s["start"] <= 4.0 + EPS
        assert s["plateau_kg"] >= 0.58 * bw and s["peak_kg"] <= 1.35 * bw  # a bounce may top the body weight
        if s["breaths"]:
            assert 4.0 * 0.75 <= s["cycle_s"] <= 12.0 * 1.25
            assert 0.3 - EPS <= s["exhale_share"] <= 0.6 + EPS and 0.0 <= s["let_off"] <= 1.0
            assert 0.02 * 0.9 * bw <= s["press_kg"] <= 0.06 * 1.1 * bw
            assert s["sway_pp_kg"] > 0 and s["sway_source"] == "synthetic"
            assert s["press_to_sway"] == pytest.approx(s["press_kg"] / s["sway_pp_kg"], rel=0.01)
    for before, after in zip(stretches, stretches[1:], strict=False):
        assert after["start"] - before["end"] >= 3.0 - EPS  # pauses as short as 3 s, never shorter
    for b in truth["bounces"]:
        assert 1.0 <= b["hz"] <= 3.0 and 0.05 * bw - EPS <= b["pp_kg"] <= 0.3 * bw + EPS
        assert 1 <= b["cycles"] <= 8


@pytest.mark.parametrize("seed", range(6))
def test_walking_standing_shifts_in_rows_stay_in_the_model(seed: int) -> None:
    truth = wide_truth(seed, name="walking", minutes=2.0)
    bw = truth["body_kg"]
    assert truth["idle"] and truth["shifts"]
    level = truth["stand_kg"]
    row_start, last_end = level, -math.inf
    for shift in truth["shifts"]:
        assert abs(shift["delta_kg"]) <= 0.1 * bw + EPS
        assert 0.3 - EPS <= shift["end"] - shift["t"] <= 1.0 + EPS
        if shift["t"] - last_end > 3.05:  # a new row after quiet standing
            row_start = level
        level += shift["delta_kg"]
        assert 0.2 * bw - EPS <= level <= 0.6 * bw + EPS
        assert abs(level - row_start) < BURST_MAX * bw + EPS  # a row never makes a stretch's rise
        last_end = shift["end"]


@pytest.mark.parametrize(("field", "span", "truth_key", "lo", "hi"), [
    ("cycle_s", (4.0, 6.0), "cycle_s", 3.0, 7.5),
    ("cycle_s", (6.0, 12.0), "cycle_s", 4.5, 15.0),
    ("let_off", (0.0, 0.2), "let_off", 0.0, 0.2),
    ("let_off", (0.2, 1.0), "let_off", 0.2, 1.0),
])
def test_a_narrowed_corner_is_respected(field: str, span: tuple, truth_key: str, lo: float,
                                        hi: float) -> None:
    ranges = replace(DESIGN_RANGES, **{field: span})
    values = [s[truth_key] for seed in range(4)
              for s in wide_truth(seed, ranges)["stretches"] if s["breaths"]]
    assert values and all(lo - EPS <= v <= hi + EPS for v in values)


def test_short_pauses_corner_gives_pauses_of_three_to_six_seconds() -> None:
    ranges = replace(DESIGN_RANGES, pause_s=(3.0, 6.0))
    truth = wide_truth(3, ranges, off_p=0.0, holds=4)
    gaps = [b["start"] - a["end"] for a, b in zip(truth["stretches"], truth["stretches"][1:], strict=False)]
    assert gaps and all(3.0 - EPS <= g <= 6.0 + EPS for g in gaps)


def test_lever_load_is_the_moment_over_the_board_depth() -> None:
    # 40 kg on the nosing (x = 0.25 m), 30 kg mid-board (0.14 m), board 0.28 m
    assert lever_load([(40.0, 0.25), (30.0, 0.14)], 0.28) == pytest.approx((10.0 + 4.2) / 0.28)
    assert lever_load([(70.0, 0.14)], 0.28) == pytest.approx(35.0)  # mid-board: half the weight


def _foot(mean: float, force, cop, fb: float, cb: float) -> Foot:
    return Foot(mean, force, cop, fb, cb)


def test_weight_shifting_shows_only_when_the_feet_stand_apart() -> None:
    def shift(t: float) -> float:
        return 2.0 * math.sin(t)

    geometry = Geometry(0.28, 0.14, 0.14)
    sway = LeverSway(_foot(35.0, shift, lambda t: 0.0, 2.0, 0.0),
                     _foot(35.0, lambda t: -shift(t), lambda t: 0.0, 2.0, 0.0), geometry)
    t = 1.3
    assert sway(t) == pytest.approx(0.0, abs=1e-9)  # level feet: left/right shifting cancels
    apart = (0.28 - NOSING_M - 0.14) / 0.28
    assert sway.stretching(t, "right") == pytest.approx(shift(t) * apart)
    assert sway.stretching(t, "left") == pytest.approx(-shift(t) * apart)
    assert sway.bound >= abs(sway.stretching(t, "right"))


def test_an_antero_posterior_sway_moves_the_load_by_body_weight_times_cop_over_depth() -> None:
    geometry = Geometry(0.28, 0.14, 0.14)
    sway = LeverSway(_foot(35.0, lambda t: 0.0, lambda t: 0.01, 0.0, 0.01),
                     _foot(35.0, lambda t: 0.0, lambda t: 0.01, 0.0, 0.01), geometry)
    # 1 cm towards the toes (towards the hinge: the user faces it) takes 70 * 0.01 / 0.28 = 2.5 kg off
    assert sway(0.0) == pytest.approx(TOWARD_TOES * 2.5)
    assert sway.stretching(0.0, "left") == pytest.approx(TOWARD_TOES * 2.5)


def test_recorded_feet_are_taken_about_their_means_and_played_mirrored() -> None:
    force = [30.0 + (k % 20) / 10 for k in range(200)]
    cop = [0.1 + 0.001 * math.sin(k / 7) for k in range(200)]
    foot = recorded_foot(force, cop, 100.0)
    assert foot.mean_kg == pytest.approx(sum(force) / 200)
    assert abs(sum(foot.force(k / 100) for k in range(200))) / 200 < 1e-6
    series = MirroredSeries([0.0, 1.0, 2.0], 1.0)
    assert [series(t) for t in (0.0, 1.0, 2.0, 3.0, 4.0, 4.5)] == pytest.approx([0, 1, 2, 1, 0, 0.5])


def test_truth_sway_is_the_breathing_band_swing_under_the_hold_and_the_rail_damps_it() -> None:
    amp = 1.0  # kg per foot, left/right at 0.15 Hz: in the stretch it shows scaled by how far apart

    def shift(t: float) -> float:
        return amp * math.sin(2 * math.pi * 0.15 * t)

    geometry = Geometry(0.28, 0.14, 0.14)
    apart = (0.28 - NOSING_M - 0.14) / 0.28
    pps = []
    for damping in (1.0, 0.5):
        sway = LeverSway(_foot(35.0, shift, lambda t: 0.0, amp, 0.0),
                         _foot(35.0, lambda t: -shift(t), lambda t: 0.0, amp, 0.0), geometry)
        hold = Hold(breaths=4, cycle_s=8.0, press_frac=0.04, damping=damping, lead_s=2.0)
        person = SimulatedPerson([Off(2.0), StepOn(), Stand(5.0), hold, Stand(5.0), StepOff(), Off(2.0)],
                                 body_kg=70.0, sway=sway, rate_hz=10.0, noise_kg=0.0)
        (stretch,) = person.truth["stretches"]
        pps.append(stretch["sway_pp_kg"])
        assert stretch["press_kg"] == pytest.approx(0.04 * 70.0, rel=0.15)
    assert 0.8 * 2 * amp * apart <= pps[0] <= 1.05 * 2 * amp * apart  # the band passes ~0.9 at 0.15 Hz
    assert pps[1] == pytest.approx(pps[0] / 2, rel=0.02)


def test_band_pp_passes_breathing_swings_and_stops_drift() -> None:
    def breath_swing(t: float) -> float:
        return 0.5 * math.sin(2 * math.pi * 0.15 * t) + 2.0 * math.sin(2 * math.pi * 0.01 * t)

    assert 0.75 <= band_pp(breath_swing, 100.0, 140.0) <= 1.1
    assert band_pp(lambda t: 0.3, 100.0, 140.0) == pytest.approx(0.0, abs=1e-6)
