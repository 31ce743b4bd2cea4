"""The simulated person: deterministic per seed, and its truth matches the signal it plays."""

from __future__ import annotations

import json
import math
from itertools import islice

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.sensors.base import SampleSource
from firmware.sensors.simulated import (
    SCENARIOS,
    Bag,
    Bounce,
    Hold,
    Off,
    ScriptError,
    ShiftFoot,
    SimulatedPerson,
    Stand,
    StepOff,
    StepOn,
    Unplug,
    forever_person,
    scenario,
)

QUIET = dict(noise_kg=0.0, sway_frac=0.0)


def one_hold(hold: Hold, **kw) -> SimulatedPerson:
    return SimulatedPerson([Off(2.0), StepOn(), Stand(3.0), hold, Stand(3.0), StepOff(), Off(2.0)], **kw)


def between(samples, t0: float, t1: float) -> list[float]:
    return [s.kg for s in samples if t0 <= s.t <= t1]


def local_peaks(values: list[float], prominence: float) -> int:
    """Peaks that rise `prominence` above the lowest point since the last peak (a simple oracle)."""
    count, low, high, rising = 0, values[0], values[0], True
    for v in values[1:]:
        if rising:
            high = max(high, v)
            if high - v >= prominence and high - low >= prominence:
                count, rising, low = count + 1, False, v
        else:
            low = min(low, v)
            if v - low >= prominence:
                rising, high = True, v
    return count


@pytest.mark.parametrize("name", [*SCENARIOS, "forever"])
def test_same_seed_same_samples_other_seed_differs(name):
    first = list(islice(scenario(name, seed=3, rate_hz=10).samples(), 600))
    again = list(islice(scenario(name, seed=3, rate_hz=10).samples(), 600))
    other = list(islice(scenario(name, seed=4, rate_hz=10).samples(), 600))
    assert first == again
    assert [s.kg for s in first] != [s.kg for s in other]


def test_finite_person_replays_identically_and_truth_is_json():
    person = scenario("mixed", seed=2, rate_hz=10, glitch_rate=0.01, drop_rate=0.01, jitter_s=0.01)
    assert list(person.samples()) == list(person.samples())
    assert json.loads(json.dumps(person.truth)) == person.truth


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_rates_give_t_equal_i_over_rate_from_zero(rate):
    person = scenario("step_on_off", seed=1, rate_hz=rate)
    samples = list(person.samples())
    assert isinstance(person, SampleSource) and person.live is False and person.rate_hz == rate
    assert samples[0].t == 0.0
    assert all(s.t == pytest.approx(i / rate, abs=1e-6) for i, s in enumerate(samples))
    assert len(samples) == person.truth["samples"]
    assert samples[-1].t <= person.truth["duration_s"] < samples[-1].t + 1 / rate


def test_plateau_and_standing_levels_match_truth():
    hold = Hold(breaths=3, cycle_s=8.0, plateau_frac=0.8, lead_s=3.0)
    person = one_hold(hold, body_kg=80.0, stand_frac=0.4, noise_kg=0.05, seed=5)
    samples = list(person.samples())
    truth = person.truth["stretches"][0]
    lead = between(samples, truth["hold_start"] + 0.5, truth["hold_start"] + 2.5)
    assert sum(lead) / len(lead) == pytest.approx(truth["plateau_kg"], abs=1.5)
    assert truth["plateau_kg"] == pytest.approx(64.0)
    stand = between(samples, 4.0, truth["start"] - 0.2)
    assert sum(stand) / len(stand) == pytest.approx(32.0, abs=1.0)
    assert max(between(samples, truth["start"], truth["end"])) == pytest.approx(truth["peak_kg"], abs=2.0)


def outside_bounces(samples, truth: dict, t0: float, t1: float) -> list[float]:
    """The load over [t0, t1] with bounce episodes cut out (held at the last value before)."""
    values, last = [], None
    for s in samples:
        if t0 <= s.t <= t1:
            if not any(b["t"] - 0.05 <= s.t <= b["end"] + 0.05 for b in truth["bounces"]):
                last = s.kg
            if last is not None:
                values.append(last)
    return values


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("name", "rate"), [("good_routine", 10.0), ("good_routine", 80.0), ("mixed", 10.0),
                                            ("bouncy", 10.0), ("early_release", 80.0)])
def test_breath_presses_in_the_hold_equal_truth_breaths(name, rate, seed):
    kw = {"reps": 1} if name == "good_routine" else {}
    person = scenario(name, seed=seed, rate_hz=rate, body_kg=45.0 + 20 * seed, **QUIET, **kw)
    samples = list(person.samples())
    truth = person.truth
    for stretch in truth["stretches"]:
        hold = outside_bounces(samples, truth, stretch["hold_start"], stretch["end"] - 0.01)
        assert local_peaks(hold, prominence=0.005 * person.body_kg) == stretch["breaths"]
        assert stretch["breaths"] == len(stretch["breath_times"])
        for peak_t in stretch["breath_times"]:  # each truth time is a local maximum of the signal
            near = [s for s in samples if abs(s.t - peak_t) <= 1.0
                    and not any(b["t"] - 0.05 <= s.t <= b["end"] + 0.05 for b in truth["bounces"])]
            top = max(near, key=lambda s: s.kg)
            assert abs(top.t - peak_t) <= 0.2


@pytest.mark.parametrize("name", ["bouncy", "mixed", "good_routine"])
@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_peak_kg_is_the_highest_load_a_noise_free_sensor_samples(name, rate):
    person = scenario(name, seed=11, rate_hz=rate, noise_kg=0.0)  # sway is real load: kept
    samples = list(person.samples())
    for stretch in person.truth["stretches"]:
        top = max(between(samples, stretch["start"], stretch["end"]))
        assert top == pytest.approx(stretch["peak_kg"], abs=1e-3)
        assert top > stretch["plateau_kg"]


def test_breath_presses_are_let_off_partly_so_the_load_ratchets_up():
    hold = Hold(breaths=4, cycle_s=8.0, press_frac=0.05, let_off=0.6, vary=0.0, lead_s=2.0, tail_s=2.0)
    person = one_hold(hold, body_kg=70.0, **QUIET)
    samples = list(person.samples())
    s = person.truth["stretches"][0]
    before = between(samples, s["hold_start"] + 0.5, s["hold_start"] + 1.5)[0]
    after = between(samples, s["end"] - hold.release_s - 1.0, s["end"] - hold.release_s - 0.5)[0]
    assert after - before == pytest.approx(4 * 0.05 * 70.0 * 0.4, abs=0.2)


@pytest.mark.parametrize(("hz", "cycles"), [(1.0, 2), (2.0, 5), (3.0, 8)])
def test_bounce_frequency_by_zero_crossings(hz, cycles):
    hold = Hold(breaths=0, hold_s=20.0, bounces=[Bounce(at_s=5.0, hz=hz, pp_frac=0.2, cycles=cycles)])
    person = one_hold(hold, rate_hz=80.0, **QUIET)
    samples = list(person.samples())
    bounce = person.truth["bounces"][0]
    plateau = person.truth["stretches"][0]["plateau_kg"]
    wave = [kg - plateau for kg in between(samples, bounce["t"] + 0.001, bounce["end"] - 0.001)]
    crossings = sum(1 for a, b in zip(wave, wave[1:], strict=False) if (a < 0) != (b < 0))
    measured_hz = (crossings + 1) / 2 / (bounce["end"] - bounce["t"])  # 2 per cycle, the last at the end
    assert measured_hz == pytest.approx(hz, rel=0.15)
    assert max(wave) - min(wave) == pytest.approx(bounce["pp_kg"], rel=0.05)
    assert person.truth["stretches"][0]["bounces"] == 1


def test_every_scripted_bounce_is_played_whatever_order_the_script_lists_them():
    later = Bounce(at_s=0.3, hz=2.0, pp_frac=0.2, cycles=2, after_breath=1)
    lead_in = Bounce(at_s=0.5, hz=2.0, pp_frac=0.2, cycles=2)
    hold = Hold(breaths=2, cycle_s=10.0, lead_s=3.0, vary=0.0, bounces=[later, lead_in])
    person = one_hold(hold, rate_hz=80.0, **QUIET)
    samples = list(person.samples())
    episodes = person.truth["bounces"]
    assert [b["t"] for b in episodes] == sorted(b["t"] for b in episodes) and len(episodes) == 2
    for b in episodes:
        wave = between(samples, b["t"], b["end"])
        assert max(wave) - min(wave) >= 0.9 * b["pp_kg"]


def test_bag_is_constant_with_no_sway_or_breathing():
    person = scenario("bag", seed=7, kg=12.0, minutes=1.0, noise_kg=0.02)
    samples = list(person.samples())
    bag = person.truth["bags"][0]
    on = between(samples, bag["on"] + 1.0, bag["off"] - 1.0)
    assert sum(on) / len(on) == pytest.approx(12.0, abs=0.02)
    assert max(on) - min(on) < 0.2  # noise only: 10 sigma
    assert person.truth["idle"] and not person.truth["stretches"] and not person.truth["steps"]


def test_standing_sways_about_one_percent_and_shifts_stay_in_range():
    person = scenario("standing", seed=2, minutes=2.0, body_kg=60.0, noise_kg=0.0, rate_hz=10)
    samples = list(person.samples())
    step = person.truth["steps"][0]
    on = between(samples, step["on"] + 1.0, step["off"] - 1.0)
    assert all(0.2 * 60 <= kg <= 0.65 * 60 for kg in on)
    assert person.truth["shifts"] and all(abs(s["delta_kg"]) <= 6.0 for s in person.truth["shifts"])
    level = person.truth["stand_kg"]
    for shift in person.truth["shifts"]:  # shifts wander about the usual stance, never drift off
        level += shift["delta_kg"]
        assert abs(level - person.truth["stand_kg"]) <= 0.1 * 60 + 1e-6
    first_shift = person.truth["shifts"][0]["t"]
    still = between(samples, step["on"] + 1.0, first_shift)
    assert 0.1 < max(still) - min(still) < 0.06 * 60  # sway present, a few % BW at most


def test_a_foot_shift_towards_a_share_steps_at_most_ten_percent():
    segs = [StepOn(), Stand(2.0), ShiftFoot(to_frac=0.6), Stand(2.0), ShiftFoot(delta_frac=-0.05), Stand(1.0)]
    person = SimulatedPerson(segs, body_kg=50.0, stand_frac=0.3, **QUIET)
    assert [s["delta_kg"] for s in person.truth["shifts"]] == pytest.approx([5.0, -2.5])
    samples = list(person.samples())
    assert samples[-1].kg == pytest.approx(0.35 * 50.0)


def test_early_release_is_not_completed_and_stepping_off_ends_the_visit():
    person = scenario("early_release", seed=4, holds=5)
    truth = person.truth
    assert all(not s["completed"] and s["hold_s"] < truth["target_s"] for s in truth["stretches"])
    offs = {step["off"] for step in truth["steps"]}
    for s in truth["stretches"]:
        if s["release_to"] == "off":
            assert s["end"] in offs


def test_glitches_drops_jitter_and_faults_are_where_truth_says():
    segs = [Off(5.0), Unplug(2.0), Off(5.0), StepOn(), Stand(20.0), StepOff(), Off(3.0)]
    person = SimulatedPerson(segs, rate_hz=80.0, glitch_rate=0.005, drop_rate=0.02, jitter_s=0.002, seed=9)
    samples = list(person.samples())
    truth = person.truth
    assert truth["glitches"] and truth["dropped"] > 0
    assert len(samples) == truth["samples"]
    assert all(b.t > a.t for a, b in zip(samples, samples[1:], strict=False))
    faults = [s for s in samples if s.fault]
    assert faults and all(s.fault == "unplugged" and math.isnan(s.kg) for s in faults)
    assert all(5.0 - 0.01 <= s.t <= 7.0 + 0.01 for s in faults)
    wild = {round(s.t * 80) for s in samples
            if s.ok and not _near_step(truth, s.t) and abs(s.kg - _expected(truth, s.t)) > 5.0}
    assert wild <= {round(t * 80) for t in truth["glitches"]}
    assert len(wild) >= len(truth["glitches"]) // 2  # most glitches survive the drops


@pytest.mark.parametrize("seed", range(4))
def test_an_unplugged_sensor_never_falls_inside_a_stretch(seed):
    person = scenario("mixed", seed=seed, unplug=True, rate_hz=10.0)
    truth = person.truth
    (fault,) = truth["faults"]
    assert not any(s["start"] < fault["end"] and fault["start"] < s["end"] for s in truth["stretches"])
    bad = [s for s in person.samples() if s.fault]
    assert len(bad) == pytest.approx((fault["end"] - fault["start"]) * 10.0, abs=1)


def _near_step(truth: dict, t: float) -> bool:
    step = truth["steps"][0]
    return abs(t - step["on"]) < 1.0 or abs(t - step["off"]) < 1.0


def _expected(truth: dict, t: float) -> float:
    step = truth["steps"][0]
    return truth["stand_kg"] if step["on"] < t < step["off"] else 0.0


def test_forever_person_is_lazy_and_keeps_producing_stretches():
    person = forever_person(seed=1, rate_hz=10.0)
    assert person.duration_s is None and person.truth["stretches"] == []  # nothing precomputed
    stream = person.samples()
    first_hour = list(islice(stream, 10 * 3600))
    starts = [s["start"] for s in person.truth["stretches"]]
    assert len(starts) >= 30 and starts[0] < 12.0
    assert any(s["bounces"] for s in person.truth["stretches"])
    list(islice(stream, 10 * 600))
    assert person.truth["stretches"][-1]["start"] > first_hour[-1].t  # still stretching after an hour
    with pytest.raises(RuntimeError, match="once"):
        next(person.samples())


def test_close_ends_the_stream():
    person = forever_person(seed=1, rate_hz=80.0)
    stream = person.samples()
    next(stream)
    person.close()
    person.close()
    assert next(stream, None) is None


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Hold(breaths=-1), "Hold.breaths"),
        (lambda: Hold(plateau_frac=1.5), "Hold.plateau_frac"),
        (lambda: Hold(leg="middle"), "Hold.leg"),
        (lambda: Bounce(at_s=1.0, hz=9.0), "Bounce.hz"),
        (lambda: ShiftFoot(0.5), "ShiftFoot.delta_frac"),
        (lambda: Bag(kg=-1.0, seconds=5.0), "Bag.kg"),
        (lambda: SimulatedPerson([Off(1.0)], rate_hz=0.0), "rate_hz"),
        (lambda: SimulatedPerson([Off(1.0)], glitch_rate=0.9), "glitch_rate"),
        (lambda: scenario("dancing"), "known scenarios"),
        (lambda: scenario("bag", reps=2), "does not take reps; it takes minutes, kg"),
    ],
)
def test_bad_input_names_what_is_wrong(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_impossible_scripts_are_refused():
    with pytest.raises(ScriptError, match="StepOn"):
        SimulatedPerson([Off(1.0), Hold()])
    with pytest.raises(ScriptError, match="after_breath"):
        one_hold(Hold(breaths=1, bounces=[Bounce(at_s=0.3, after_breath=2)]))


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(SCENARIOS)), seed=st.integers(0, 10_000),
       body=st.floats(45.0, 120.0), stand=st.floats(0.25, 0.6))
def test_truth_is_consistent_for_any_seed(name, seed, body, stand):
    truth = scenario(name, seed=seed, body_kg=body, stand_frac=stand, rate_hz=10).truth
    last_end = 0.0
    for s in truth["stretches"]:
        assert last_end <= s["start"] < s["hold_start"] < s["end"] <= truth["duration_s"]
        assert 1.0 <= _release(s) <= 4.0 and 1.0 <= s["hold_start"] - s["start"] <= 4.0
        assert all(s["hold_start"] < t < s["end"] for t in s["breath_times"])
        assert 0 <= s["breaths"] <= 8 and s["completed"] == (s["hold_s"] >= truth["target_s"])
        assert s["peak_kg"] <= 1.2 * body
        assert s["plateau_kg"] > truth["stand_kg"] - 0.11 * body  # above standing even after shifts
        last_end = s["end"]
    for b in truth["bounces"]:
        assert 1.0 <= b["hz"] <= 3.0 and 0.05 * body - 1e-6 <= b["pp_kg"] <= 0.3 * body + 1e-6
        assert any(s["start"] <= b["t"] <= s["end"] for s in truth["stretches"])
    assert truth["idle"] == (not truth["stretches"])


def _release(stretch: dict) -> float:
    return stretch["end"] - stretch["hold_start"] - stretch["hold_s"]


def test_an_early_release_stays_short_of_the_target_whatever_the_script_asks():
    hold = Hold(breaths=7, cycle_s=10.0, lead_s=40.0, early_release=True)
    truth = one_hold(hold, target_s=30.0).truth["stretches"][0]
    assert truth["hold_s"] <= 27.0 and not truth["completed"] and truth["breaths"] == 0


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), rate=st.sampled_from([10.0, 80.0]), jitter=st.floats(0.0, 0.05),
       drop=st.floats(0.0, 0.3), glitch=st.floats(0.0, 0.05), noise=st.floats(0.02, 0.15))
def test_any_sensor_settings_give_an_increasing_stream_of_the_counted_length(seed, rate, jitter, drop,
                                                                             glitch, noise):
    person = scenario("step_on_off", seed=seed, rate_hz=rate, visits=2, jitter_s=jitter, drop_rate=drop,
                      glitch_rate=glitch, noise_kg=noise)
    samples = list(person.samples())
    assert len(samples) == person.truth["samples"]
    assert all(b.t > a.t for a, b in zip(samples, samples[1:], strict=False))
    assert all(abs(s.t * rate - round(s.t * rate)) <= 0.45 + 1e-6 for s in samples)
    assert all(s.ok for s in samples)


@pytest.mark.parametrize(("press_frac", "breaths"), [(0.02, 3), (0.06, 5), (0.04, 0)])
def test_truth_gives_each_hold_its_mean_press_rise(press_frac, breaths):
    # vary=0: every press rises exactly press_frac of body weight; no breaths, no press
    person = one_hold(Hold(breaths=breaths, press_frac=press_frac, vary=0.0), body_kg=80.0, **QUIET)
    (stretch,) = person.truth["stretches"]
    assert stretch["press_kg"] == pytest.approx(press_frac * 80.0 if breaths else 0.0, abs=1e-3)
