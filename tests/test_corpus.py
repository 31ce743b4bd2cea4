"""The benchmark corpus: the tuning and test parts are drawn differently (no person in both,
corners held out), both parts hold both rates and idle traces, and the recordings are read
the way their README says (small stand-in files in the real formats, so the test does not
depend on ../shared being beside the clone)."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import pytest

from bench import realdata
from bench.corpus import TEST_SLICES, TUNE_RANGES, build_corpus, main, split_people
from firmware.sensors.simulated.sway import Geometry
from firmware.sensors.trace import read_trace

G = realdata.G
ROWS = 1500  # 15 s at 100 Hz


def _pds(lines: list[str], k: int, person: int) -> None:
    """The feet shift 20 N against each other at 0.14 Hz; their centres of pressure stay put."""
    t = 0.01 * k
    right = 300.0 + 20.0 * math.sin(0.9 * t + person)
    left = 320.0 - 20.0 * math.sin(0.9 * t + person)
    lines.append(f"{t:.6f}\t0\t{right:.3f}\t0\t0\t{left:.3f}\t0\t0.2\t0.21")


def write_recordings(folder: Path) -> None:
    """Stand-ins in the real files' formats: PDS13 (3 trials), two older-adult controls
    (3 trials), both BDS subjects, a jump."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in ("OR1", "CR2", "OF3"):
        lines = ["Time\tRGRF_X\tRGRF_Y\tRGRF_Z\tLGRF_X\tLGRF_Y\tLGRF_Z\tRCOP_X\tLCOP_X"]
        for k in range(ROWS):
            _pds(lines, k, 0)
        (folder / f"PDS13{n}grf.txt").write_text("\n".join(lines) + "\n")
    for person in (1, 2):
        for trial in range(3):
            lines = ["time (s)\tdominant Fap (N)\tdominant Fvert (N)\tdominant CPap (m)\tnon-dominant Fap (N)"
                     "\tnon-dominant Fvert (N)\tnon-dominant CPap (m)"]
            for k in range(ROWS):
                t = 0.01 * k
                dom, non = 350 + 10 * math.sin(t + person), 330 - 10 * math.sin(t + person)
                lines.append(f"{t:.6f}\t0\t{dom:.3f}\t{0.19 + 0.004 * math.sin(t):.6f}\t0\t{non:.3f}\t0.19")
            (folder / f"pds_control0{person}_trial{trial}.txt").write_text("\n".join(lines) + "\n")
    for stem in ("BDS00001", "BDS00002", "BDS00003", "BDS00101", "BDS00102"):
        lines = ["Time[s]\tFx[N]\tFy[N]\tFz[N]\tMx[Nm]\tMy[Nm]\tMz[Nm]\tCOPx[cm]\tCOPy[cm]"]
        lines += [f"{0.01 * (k + 1):.3f}\t0\t0\t{600.0 + (k % 2):.3f}\t0\t0\t0\t"
                  f"{-8 + 0.3 * math.sin(k / 90):.4f}\t1" for k in range(ROWS)]
        (folder / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    # Off 1 s, on 3 s, a 0.6 s flight, on 2 s, off 1 s, at 450 Hz.
    levels = [0.0] * 450 + [700.0] * 1350 + [0.0] * 270 + [700.0] * 900 + [0.0] * 450
    for stem in ("jump1", "jump2"):
        jump = ["Time[s]\tGRF[N]"] + [f"{i / 450}\t{v}" for i, v in enumerate(levels)]
        (folder / f"{stem}.txt").write_text("\n".join(jump) + "\n")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("real")
    write_recordings(folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRETCHSTEP_REAL_DATA", str(folder))
        yield folder


@pytest.fixture(scope="module")
def corpus(recordings, tmp_path_factory) -> tuple[Path, list[Path], str]:
    """One quick corpus (seed 1) that several tests read."""
    out = tmp_path_factory.mktemp("corpus")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        paths = build_corpus(out, quick=True, seed=1)
    return out, paths, printed.getvalue()


def truths(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.truth.json"))]


def test_the_split_leaves_people_out_and_holds_both_rates_and_idle_in_each_part(recordings, corpus):
    out, paths, printed = corpus
    assert "test people:" in printed
    parts = {part: truths(out / part) for part in ("tune", "test")}
    found = realdata.people(recordings)
    assert {p.id for p in found} == {"PDS13", "control01", "control02", "BDS-s1", "BDS-s9"}
    split = split_people(1, found)
    assert not set(map(id, split["test"])) & set(map(id, split["tune"]))
    assert {p.id for p in split["test"]} | {p.id for p in split["tune"]} == {p.id for p in found}
    for part, items in parts.items():
        mine = {p.id for p in split[part]}
        assert {t["rate_hz"] for t in items} == {10.0, 80.0}
        assert any(t["idle"] for t in items) and any(t["stretches"] for t in items)
        recorded = [t for t in items if t["sway_person"]]
        assert recorded and all(t["sway_person"] in mine for t in recorded)  # never another part's person
        assert all(t["part"] == part for t in items)
    assert len(paths) == sum(len(v) for v in parts.values())


def test_the_tuning_part_never_draws_the_held_out_corners(corpus):
    holds = [s for t in truths(corpus[0] / "tune") for s in t["stretches"] if s["breaths"]]
    assert holds
    lo_cycle = TUNE_RANGES.cycle_s[0] * (1 - TUNE_RANGES.cycle_vary)
    assert all(s["let_off"] >= TUNE_RANGES.let_off[0] - 1e-6 and s["cycle_s"] >= lo_cycle for s in holds)
    assert TEST_SLICES["short_cycles"].cycle_s[1] <= TUNE_RANGES.cycle_s[0]
    assert TEST_SLICES["staircase"].let_off[1] <= TUNE_RANGES.let_off[0]
    assert TEST_SLICES["short_pauses"].pause_s[1] <= TUNE_RANGES.pause_s[0]


def test_traces_and_truth_read_back_consistently(corpus):
    for path in sorted((corpus[0] / "test").glob("*.csv")):
        truth = json.loads(path.with_suffix(".truth.json").read_text())
        trace = read_trace(path)
        assert trace.rate_hz == truth["rate_hz"] and len(trace.samples) == truth["samples"]
        assert trace.samples[-1].t <= truth["duration_s"] + 0.01
        assert truth["idle"] == (not truth["stretches"])
        for s in truth["stretches"]:
            assert s["sway_pp_kg"] >= 0 and s["sway_source"] == truth["sway_source"]


def test_same_seed_rebuilds_the_same_corpus(tmp_path, corpus):
    again = build_corpus(tmp_path / "again", quick=True, seed=1, parts=("tune",))
    first = [p for p in corpus[1] if p.parent.name == "tune"]
    assert [p.name for p in again] == [p.name for p in first]
    assert [p.read_text() for p in again] == [p.read_text() for p in first]


def test_without_the_recordings_the_command_line_builds_synthetic_parts_and_says_so(tmp_path, monkeypatch,
                                                                                     capsys):
    monkeypatch.setenv("STRETCHSTEP_REAL_DATA", str(tmp_path / "nowhere"))
    assert realdata.people() == []
    assert main([str(tmp_path / "c"), "--quick", "--seed", "2"]) == 0
    printed = capsys.readouterr().out
    assert "not found" in printed and "wrote" in printed
    items = truths(tmp_path / "c" / "test")
    assert items and all(t["sway_person"] is None for t in items)


def test_each_kind_of_recording_becomes_two_feet_in_kg_and_metres(recordings):
    right, rcop, left, lcop = realdata.read_feet(recordings / "PDS13OR1grf.txt")
    assert right[0] == pytest.approx(300.0 / G) and left[0] == pytest.approx(320.0 / G)
    assert rcop[0] == pytest.approx(0.2) and lcop[0] == pytest.approx(0.21)
    dom, _, non, _ = realdata.read_feet(recordings / "pds_control01_trial0.txt")
    assert dom[0] == pytest.approx((350 + 10 * math.sin(1)) / G, abs=1e-3)
    assert non[0] == pytest.approx((330 - 10 * math.sin(1)) / G, abs=1e-3)
    half, cop, other, cop2 = realdata.read_feet(recordings / "BDS00001.txt")
    assert half[0] == pytest.approx(300.0 / G) and half == other and cop == cop2  # a net plate split evenly
    assert cop[0] == pytest.approx(-0.08, abs=1e-3)  # cm -> m
    assert realdata.body_kg_of(recordings / "BDS00001.txt") == pytest.approx(600.5 / G, abs=0.01)


def test_recorded_sway_goes_through_the_lever(recordings):
    sway = realdata.recorded_sway(recordings / "PDS13OR1grf.txt", Geometry(0.28, 0.14, 0.14))
    assert sway.source == "PDS13OR1grf.txt"
    standing = [sway(k / 10) for k in range(150)]
    stretching = [sway.stretching(k / 10, "right") for k in range(150)]
    # the feet shift 20 N against each other: level feet cancel it, a foot on the nosing shows it
    assert max(standing) - min(standing) < 0.01
    apart = (0.28 - 0.03 - 0.14) / 0.28
    assert max(stretching) - min(stretching) == pytest.approx(2 * 20.0 / G * apart, rel=0.02)


def test_jumps_keep_their_steps_and_a_flight_is_not_a_step_off(recordings):
    jump = realdata.jump_case("jump1", 80.0, recordings)
    steps = jump.truth["steps"]
    assert jump.truth["idle"] and len(steps) == 1
    assert steps[0]["on"] == pytest.approx(1.0, abs=0.02) and steps[0]["off"] == pytest.approx(6.6, abs=0.02)
    assert realdata.steps_from([(0.0, 30.0), (0.1, 30.0)]) == [{"on": 0.0, "off": None}]


def test_resample_interpolates_where_the_source_is_sparse():
    out = realdata.resample([0.0, 1.0], [0.0, 10.0], 4.0)
    assert [t for t, _ in out] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [v for _, v in out] == pytest.approx([0.0, 2.5, 5.0, 7.5, 10.0])


def test_bad_recording_names_the_missing_column(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("Time\tA\n0\t1\n")
    with pytest.raises(ValueError, match="no column 'B'"):
        realdata.read_column(path, "B")


def test_trials_of_one_person_are_spliced_without_a_jump():
    first, second = [1.0] * 300, [5.0] * 300
    joined = realdata.splice([first, second])
    n = int(realdata.SPLICE_S * realdata.RATE_HZ)
    assert len(joined) == 600 - n
    assert joined == pytest.approx([1.0] * len(joined))  # each trial about the first's mean
    ends = [[math.sin(k / 50) for k in range(400)], [3 + math.cos(k / 50) for k in range(400)]]
    wave = realdata.splice(ends)
    assert max(abs(b - a) for a, b in zip(wave, wave[1:], strict=False)) < 0.05


def test_a_visit_over_recorded_feet_plays_all_the_persons_trials(recordings):
    sway = realdata.recorded_sway([recordings / f"PDS13{n}grf.txt" for n in ("OR1", "CR2", "OF3")],
                                  Geometry(0.28, 0.14, 0.14))
    assert sway.source == "PDS13OR1grf.txt+PDS13CR2grf.txt+PDS13OF3grf.txt"
    assert sway.right.force.period == 3 * ROWS - 2 * int(realdata.SPLICE_S * realdata.RATE_HZ) - 1
