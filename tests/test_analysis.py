"""analyze_samples / analyze_trace / format_table: the DESIGN §5 JSON, from samples or a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_detector import BODY, STAND, Script, routine

from firmware.analysis import TraceError, analyze_samples, analyze_trace, format_table
from firmware.sensors.base import Sample
from firmware.sensors.trace import TraceWriter

STRETCH_KEYS = {"start", "hold_start", "end", "hold_s", "breaths", "breaths_sure", "bounces", "completed",
                "peak_kg"}


def two_stretches() -> Script:
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 5.0).stretch(3).flat(STAND, 6.0)
    script.ramp(0.8 * BODY, 2.0).hold(20.0, 2, lead=3.0).bounce(12.0, 2.0, 0.15 * BODY, 3)
    return script.ramp(STAND, 2.0).flat(STAND, 4.0).ramp(0.0, 0.6).flat(0.0, 2.0)


def write(path: Path, samples: list[tuple[float, float]], rate: float = 80.0) -> Path:
    with TraceWriter(path, rate) as writer:
        for t, kg in samples:
            writer.write(Sample(t, kg))
    return path


def test_the_result_has_exactly_the_design_shape() -> None:
    result = analyze_samples(two_stretches().samples(80.0))
    assert set(result) == {"rate_hz", "samples", "duration_s", "stretches", "bounces", "steps"}
    assert result["rate_hz"] == pytest.approx(80.0)
    assert result["samples"] == len(two_stretches().samples(80.0))
    assert result["duration_s"] == pytest.approx(two_stretches().t, abs=0.05)
    assert len(result["stretches"]) == 2
    for stretch in result["stretches"]:
        assert set(stretch) >= STRETCH_KEYS
    first, second = result["stretches"]
    assert (first["breaths"], first["completed"], first["bounces"]) == (3, True, 0)
    assert first["breaths_sure"] is True  # clean presses, no sway: nothing could hide one
    assert (second["breaths"], second["completed"], second["bounces"]) == (2, False, 1)
    assert [set(b) for b in result["bounces"]] == [{"t", "hz", "pp_kg"}]
    assert len(result["steps"]) == 1 and set(result["steps"][0]) == {"on", "off"}
    json.dumps(result)  # JSON-able as is


def test_an_unsure_count_is_shown_as_a_guess() -> None:
    # breathing-band sway as big as the presses: the count is a best guess, and says so
    swaying = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 20.0).stretch(4, cycle=7.0) \
        .flat(STAND, 6.0).ramp(0.0, 0.6).flat(0.0, 2.0)
    result = analyze_samples(swaying.samples(10.0, sway=0.03 * BODY))
    (stretch,) = result["stretches"]
    assert stretch["breaths_sure"] is False
    assert f"~{stretch['breaths']}" in format_table(result)


def test_tuples_and_samples_give_the_same_answer() -> None:
    pairs = routine(2).samples(10.0)
    assert analyze_samples(pairs) == analyze_samples([Sample(t, kg) for t, kg in pairs])


def test_events_on_request() -> None:
    result = analyze_samples(routine(2).samples(10.0), keep_events=True)
    assert [e["kind"] for e in result["events"]][:2] == ["step_on", "stretch_start"]


def test_a_trace_file_is_analysed_like_its_samples(tmp_path: Path) -> None:
    samples = two_stretches().samples(80.0)
    trace = write(tmp_path / "two.csv", samples)
    from_file = analyze_trace(trace)
    assert from_file["trace"] == str(trace)
    direct = analyze_samples([(round(t, 4), round(kg, 4)) for t, kg in samples], rate_hz=80.0)
    assert {k: v for k, v in from_file.items() if k != "trace"} == direct


def test_body_weight_may_be_given(tmp_path: Path) -> None:
    trace = write(tmp_path / "r.csv", routine(3).samples(10.0), rate=10.0)
    assert len(analyze_trace(trace, body_kg=BODY)["stretches"]) == 1
    with pytest.raises(ValueError, match="body_kg"):
        analyze_samples([], body_kg=5.0)


@pytest.mark.parametrize(("text", "where"), [
    ("# stretchstep trace v1\nt,kg\n0.0,1.0\n0.1,oops\n", ":4"),
    ("# stretchstep trace v1\nt,kg\n0.5,1.0\n0.1,1.0\n", ":4"),
    ("hello\n", ""),
    ("# stretchstep trace v1\nt,kg\n", ": the trace has no samples"),
])
def test_a_bad_trace_raises_trace_error_naming_the_file(tmp_path: Path, text: str, where: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(TraceError, match="bad.csv" + where):
        analyze_trace(bad)


def test_a_missing_file_is_a_trace_error(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="nope.csv"):
        analyze_trace(tmp_path / "nope.csv")


def test_the_table_lists_stretches_bounces_and_visits() -> None:
    table = format_table(analyze_samples(two_stretches().samples(80.0)))
    lines = table.splitlines()
    assert "2 stretches, 1 completed" in table
    assert any(line.split()[:1] == ["1"] and "yes" in line for line in lines)
    assert "bounces: " in table and "1 step visit" in table


def test_the_table_says_so_when_nothing_happened() -> None:
    table = format_table(analyze_samples([(i / 10, 0.01) for i in range(100)]))
    assert "no stretches" in table and "no bounces" in table and "0 step visits" in table
