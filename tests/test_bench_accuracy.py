"""The benchmark's scoring: hand-built analyses against hand-built truth (matching, breaths per
ratio bin beside the plain timer, `breaths_sure`, bounces), the threshold baseline on a known
load, and bench/accuracy.py's bar table and exit status (made-up scores, no corpus)."""

from __future__ import annotations

import math

import pytest

from bench.accuracy import bar_table, main, report
from bench.baseline import plain_timer, threshold_stretches
from bench.score import HoldScore, Tally, TraceScore, press_to_sway, score_trace, verdicts, wilson
from firmware.sensors.base import Sample


def true_stretch(start: float, end: float, breaths: int, press: float = 2.0, sway: float = 1.0,
                 **kw) -> dict:
    return {"start": start, "hold_start": start + 2, "end": end, "hold_s": end - start - 4,
            "breaths": breaths, "completed": end - start - 4 >= 30, "press_kg": press if breaths else 0.0,
            "sway_pp_kg": sway, "cycle_s": 7.0, "let_off": 0.5, "bounces": 0, **kw}


def found_stretch(start: float, end: float, breaths: int, **kw) -> dict:
    return {"start": start, "end": end, "hold_s": end - start - 4, "breaths": breaths, "bounces": 0,
            "completed": end - start - 4 >= 30, **kw}


def test_a_hold_is_scored_against_its_truth_beside_the_plain_timer() -> None:
    truth = {"stretches": [true_stretch(10, 50, 4, press=3.0, sway=1.5), true_stretch(100, 130, 3),
                           true_stretch(200, 240, 5, cycle_s=4.5, let_off=0.1)],
             "bounces": [{"t": 20.0, "end": 21.5}], "idle": False}
    found = {"stretches": [found_stretch(10.3, 49.6, 4, breaths_sure=True),
                           found_stretch(60, 70, 1),                   # no true stretch there
                           found_stretch(201, 240, 3, breaths_sure=False)],
             "bounces": [{"t": 20.5}, {"t": 120.0}]}
    sc = score_trace("x", found, truth)
    assert (sc.found, sc.true, sc.matched) == (3, 3, 2)
    assert sc.start_errs == pytest.approx([0.3, 1.0]) and sc.end_errs == pytest.approx([0.4, 0.0])
    first, third = sc.holds
    assert first.error == 0 and first.ratio == pytest.approx(2.0) and first.sure
    assert first.timer == plain_timer(35.6) == 5 and first.timer_error == 1
    assert third.error == -2 and not third.sure and third.cycle_s == 4.5 and third.let_off == 0.1
    assert (sc.episodes, sc.flagged, sc.false_bounces) == (1, 1, 1)
    assert any("false stretch 60.0" in n for n in sc.notes)
    assert any("missed stretch 100.0" in n for n in sc.notes)


def test_press_to_sway_needs_breaths_and_a_recorded_sway() -> None:
    assert press_to_sway(true_stretch(0, 40, 3, press=1.2, sway=0.8)) == pytest.approx(1.5)
    assert press_to_sway(true_stretch(0, 40, 0)) is None
    assert press_to_sway(true_stretch(0, 40, 3, sway=0.0)) == math.inf
    assert press_to_sway({"breaths": 3, "press_kg": 2.0}) is None  # an old truth file


def hold(error: int, ratio: float | None, sure: bool = True, true: int = 4) -> HoldScore:
    return HoldScore(found=true + error, true=true, timer=true, sure=sure, ratio=ratio, cycle_s=7.0,
                     let_off=0.5)


def labelled(holds: list[HoldScore], name: str = "t", stretch_s: float = 3600.0) -> TraceScore:
    n = len(holds)
    return TraceScore(name, idle=False, found=n, true=n, matched=n, start_errs=[0.1] * n, end_errs=[0.1] * n,
                      holds=holds, completed_ok=[True] * n, stretch_s=stretch_s)


def test_bars_are_judged_per_ratio_bin_and_on_what_breaths_sure_says() -> None:
    clear = [hold(0, 3.0)] * 19 + [hold(1, 3.0)]           # 95 % exact, all +-1
    middle = [hold(1, 1.2)] * 9 + [hold(2, 1.2)]           # 90 % +-1
    low = [hold(-2, 0.5, sure=False)] * 4 + [hold(-2, 0.5)]  # 80 % marked unsure
    m = Tally([labelled(clear + middle + low)]).metrics()
    assert m["clear_exact"] == pytest.approx(0.95) and m["clear_within1"] == 1.0
    assert m["middle_within1"] == pytest.approx(0.9) and m["unsure_below1"] == pytest.approx(0.8)
    sure = [h for h in clear + middle + low if h.sure]
    assert m["sure_exact"] == pytest.approx(19 / len(sure))
    v = verdicts(m)
    assert v["clear_exact"] and v["middle_within1"] and v["unsure_below1"] and not v["sure_exact"]
    only_clear = verdicts(Tally([labelled(clear)]).metrics())
    assert only_clear["middle_within1"] is None and only_clear["unsure_below1"] is None  # nothing to judge


def scored(holds: list[HoldScore]) -> list:
    return [(labelled(holds, f"t{rate}"), None, {"rate": rate, "group": "sim", "slice": "full"})
            for rate in ("10 Hz", "80 Hz")]


def test_the_bar_table_fails_on_a_missed_bar_and_passes_a_clean_run() -> None:
    lines: list[str] = []
    assert not report(scored([hold(0, 3.0)] * 8 + [hold(2, 3.0)] * 2), verbose=False, out=lines.append)
    text = "\n".join(lines)
    assert "breaths exact, ratio >= 1.5" in text and "FAIL" in text and "timer" in text
    lines.clear()
    assert bar_table(scored([hold(0, 3.0)] * 10), out=lines.append)
    assert "FAIL" not in "\n".join(lines) and "n/a" in "\n".join(lines)


def test_the_threshold_baseline_finds_a_plateau_given_the_body_weight() -> None:
    body, rate = 70.0, 10.0
    load = [0.45] * 100 + [0.85] * 210 + [0.45] * 100 + [0.62] * 20 + [0.45] * 100  # 21 s, then 2 s
    samples = [Sample(k / rate, f * body) for k, f in enumerate(load)]
    result = threshold_stretches(samples, body)
    (stretch,) = result["stretches"]  # the 2 s excursion is too short to be a stretch
    assert stretch["start"] == pytest.approx(10.0, abs=0.6) and stretch["end"] == pytest.approx(31.0, abs=0.6)
    assert stretch["breaths"] == plain_timer(stretch["hold_s"]) == 3
    assert threshold_stretches([Sample(k / rate, 0.55 * body) for k in range(600)], body)["stretches"] == []


def test_the_test_part_exit_status_says_whether_the_bars_hold(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("bench.accuracy.run", lambda truths, jobs: scored([hold(2, 3.0)] * 4))
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "a.truth.json").write_text('{"rate_hz": 10}')
    (tmp_path / "tune").mkdir()
    (tmp_path / "tune" / "a.truth.json").write_text('{"rate_hz": 10}')
    assert main(["--corpus", str(tmp_path)]) == 1
    assert main(["--corpus", str(tmp_path), "--part", "tune"]) == 0  # looking, not judging


def test_a_share_is_reported_with_the_interval_its_sample_size_allows() -> None:
    lo, hi = wilson(0.9, 100)
    assert lo == pytest.approx(0.826, abs=0.002) and hi == pytest.approx(0.945, abs=0.002)
    assert wilson(1.0, 10)[1] == 1.0 and wilson(1.0, 10)[0] < 0.75  # ten of ten is not certainty
    assert wilson(0.5, 0) == (0.0, 1.0)
    lines: list[str] = []
    bar_table(scored([hold(0, 3.0)] * 9 + [hold(2, 3.0)]), out=lines.append)
    row = next(line for line in lines if "breaths exact, ratio >= 1.5" in line)
    assert "n=20, 69.9-97.2 %" in row  # 18 of 20 over both rates
