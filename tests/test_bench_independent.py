"""The second generator (bench/independent.py) must draw what DESIGN §2 says, or a figure on it
means nothing: its holds, plateaus, presses, cycles, bounces and sway are checked against §2's
ranges here, over many drawn visits (recorded feet where the data is there)."""

import math
import random

from bench.independent import band_pp, draw_idle, draw_visit, plan, render
from bench.realdata import PEOPLE, real_data_dir


def _person(who):
    if who is None:
        return None
    p = next(p for p in PEOPLE if p.id == who)
    return p.id, [real_data_dir() / f for f in p.files]


def test_drawn_visits_keep_to_design_section_2():
    holds = 0
    for seed, _, rate, who in plan(3, 24, 0, [10.0]):
        rng = random.Random(seed)
        v = draw_visit(rng, rate, _person(who))
        samples, truth = render(v, rng)
        bw = truth["body_kg"]
        assert truth["stretches"] and not truth["idle"]
        assert all(b.t > a.t for a, b in zip(samples, samples[1:], strict=False))  # monotonic
        for s in truth["stretches"]:
            holds += 1
            assert 1.0 <= s["hold_start"] - s["start"] <= 4.0 + 1e-6         # ramp 1-4 s
            assert 0.6 * bw - 0.01 <= s["plateau_kg"] <= 1.16 * bw
            assert 0 <= s["breaths"] <= 8
            assert all(s["hold_start"] < b < s["hold_start"] + s["hold_s"] for b in s["breath_times"])
            if s["breaths"]:
                assert 0.8 * 0.02 * bw <= s["press_kg"] <= 1.2 * 0.06 * bw
                assert 4.0 * 0.75 <= s["cycle_s"] <= 12.0 * 1.25
                assert 0.0 <= s["let_off"] <= 1.0
            assert s["sway_pp_kg"] >= 0.0
        for b in truth["bounces"]:
            assert 1.0 <= b["hz"] <= 3.0 and 0.05 * bw <= b["pp_kg"] <= 0.30 * bw
            assert any(s["hold_start"] <= b["t"] and b["end"] <= s["hold_start"] + s["hold_s"]
                       for s in truth["stretches"])
    assert holds >= 40


def test_idle_traces_hold_no_stretch_and_stay_in_standing_range():
    for seed, kind, rate, who in plan(4, 0, 9, [10.0]):
        rng = random.Random(seed)
        v = draw_idle(rng, rate, kind, _person(who))
        _, truth = render(v, rng)
        assert truth["idle"] and truth["stretches"] == [] and truth["bounces"] == []
        level = v.level.sampler()  # the modelled load, before sway, noise and wild samples
        top = max(level(k / 10.0) for k in range(int(v.duration * 10)))
        assert top <= (40.0 if kind == "bag" else 0.6 * v.body) + 1e-6


def test_breathing_band_measure_passes_a_breath_and_stops_drift_and_tremor():
    fs = 10.0
    def pp_of(hz):
        x = [math.sin(2 * math.pi * hz * k / fs) for k in range(600)]
        return band_pp(x, fs, 150, 450)
    assert pp_of(1 / 7) > 1.0          # a 7 s cycle comes through (peak to peak of 2 in)
    assert pp_of(0.01) < 0.3           # slow drift is stopped
    assert pp_of(1.5) < 0.3            # bounce-speed sway is stopped


def test_counts_that_draw_nothing_are_refused_in_one_line(capsys):
    import pytest

    from bench.independent import main
    with pytest.raises(SystemExit) as stop:
        main(["--visits", "0", "--idle", "0"])
    assert stop.value.code == 2
    assert "not negative, and not both 0" in capsys.readouterr().err


def test_a_run_without_the_recordings_says_its_sway_is_synthetic_only(monkeypatch, tmp_path):
    """Found when worktree runs silently drew every visit synthetic: the header must say so."""
    import bench.independent as independent

    monkeypatch.setenv("STRETCHSTEP_REAL_DATA", str(tmp_path / "absent"))
    assert "SYNTHETIC ONLY" in independent.sway_said()
    assert all(who is None for *_, who in independent.plan(0, 4, 3, [10.0]))
    (tmp_path / "real").mkdir()
    monkeypatch.setenv("STRETCHSTEP_REAL_DATA", str(tmp_path / "real"))
    assert "recorded feet" in independent.sway_said()
    assert any(who is not None for *_, who in independent.plan(0, 4, 3, [10.0]))


def test_the_body_weight_reaches_the_detector_only_when_asked(monkeypatch):
    """--body-weight runs the detector as a user who configured their weight would: the case
    hands the truth's body weight to analyze_samples, and only then."""
    import bench.independent as independent

    seen = []
    real = independent.analyze_samples

    def spy(samples, **kw):
        seen.append(kw.get("body_kg"))
        return real(samples, **kw)

    monkeypatch.setattr(independent, "analyze_samples", spy)
    seed, kind, rate, who = independent.plan(3, 0, 3, [10.0])[1]  # a standing trace
    independent.case((seed, kind, rate, None, True))
    independent.case((seed, kind, rate, None, False))
    assert seen[0] is not None and 20.0 <= seen[0] <= 300.0 and seen[1] is None
