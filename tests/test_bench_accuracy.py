"""bench/accuracy.py's verdicts: the exit status stands on all traces; the bars within DESIGN
§2's signal model are shown beside them, never instead (made-up trace scores, no corpus)."""

from __future__ import annotations

from bench.accuracy import report
from bench.score import TraceScore


def holds(name: str, breath_diffs: list[int]) -> TraceScore:
    """A labelled trace whose every stretch was found exactly, breaths off by breath_diffs."""
    n = len(breath_diffs)
    return TraceScore(name, idle=False, found=n, true=n, matched=n, start_errs=[0.1] * n,
                      end_errs=[0.1] * n, breath_diffs=breath_diffs, completed_ok=[True] * n,
                      stretch_s=40.0 * n)


def scored(realsway_diffs: list[int]) -> list:
    out = []
    for rate in ("10 Hz", "80 Hz"):
        out.append((holds(f"sim {rate}", [0] * 20), {"rate": rate, "group": "sim", "scenario": "mixed"}))
        out.append((holds(f"realsway {rate}", realsway_diffs),
                    {"rate": rate, "group": "realsway", "scenario": "mixed"}))
    return out


def test_miscounts_over_real_sway_fail_the_run_but_the_in_model_bars_still_show() -> None:
    lines: list[str] = []
    ok = report(scored([0, 2, -2, 1, 0]), verbose=False, out=lines.append)
    text = "\n".join(lines)
    assert not ok
    everything, in_model = text.split("bars within DESIGN")
    assert "breaths_exact" in everything and "FAIL" in everything
    assert "FAIL" not in in_model and in_model.count("PASS") == 10


def test_a_clean_run_passes_and_the_model_table_agrees() -> None:
    lines: list[str] = []
    assert report(scored([0, 0, 0]), verbose=False, out=lines.append)
    assert "FAIL" not in "\n".join(lines)
