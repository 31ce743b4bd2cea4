"""The benchmark corpus: a quick build writes trace + truth pairs that read back consistently,
and the real-recording conversion (on small stand-in files in the real format) is right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import realdata
from bench.corpus import build_corpus, main
from firmware.sensors.trace import read_trace

G = realdata.G


def write_recordings(folder: Path) -> None:
    """Tiny stand-ins in the real files' formats: a BDS plate, a PDS pair of plates, a jump."""
    folder.mkdir(parents=True, exist_ok=True)
    bds = ["Time[s]\tFx[N]\tFy[N]\tFz[N]\tMx[Nm]"]
    bds += [f"{0.01 * (i + 1):.3f}\t0\t0\t{600.0 + (i % 2):.3f}\t0" for i in range(1000)]
    (folder / "BDS00001.txt").write_text("\n".join(bds) + "\n")
    pds = ["Time\tRGRF_X\tRGRF_Y\tRGRF_Z\tLGRF_X\tLGRF_Y\tLGRF_Z"]
    pds += [f"{0.01 * i:.6f}\t0\t{300.0 + (i % 50) / 10:.3f}\t0\t0\t{320.0:.3f}\t0" for i in range(1000)]
    (folder / "PDS13OR1grf.txt").write_text("\n".join(pds) + "\n")
    # Off 1 s, on 3 s, a 0.6 s flight, on 2 s, off 1 s, at 450 Hz.
    levels = [0.0] * 450 + [700.0] * 1350 + [0.0] * 270 + [700.0] * 900 + [0.0] * 450
    jump = ["Time[s]\tGRF[N]"] + [f"{i / 450}\t{v}" for i, v in enumerate(levels)]
    (folder / "jump1.txt").write_text("\n".join(jump) + "\n")


@pytest.fixture
def recordings(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "real"
    write_recordings(folder)
    monkeypatch.setenv("STRETCHSTEP_REAL_DATA", str(folder))
    return folder


def test_quick_build_writes_trace_and_truth_pairs_that_read_back(tmp_path, recordings, capsys):
    out = tmp_path / "corpus"
    paths = build_corpus(out, quick=True, seed=1)
    assert "corpus:" in capsys.readouterr().out
    assert len(paths) >= 8 and sorted(out.glob("*.csv")) == sorted(paths)
    kinds = set()
    for path in paths:
        truth = json.loads(path.with_suffix(".truth.json").read_text())
        trace = read_trace(path)
        assert trace.meta["scenario"] and trace.rate_hz == truth["rate_hz"] in (10.0, 80.0)
        assert len(trace.samples) == truth["samples"]
        assert trace.samples[0].t == 0.0 and trace.samples[-1].t <= truth["duration_s"] + 0.01
        assert {"stretches", "bounces", "steps", "idle"} <= truth.keys()
        assert truth["idle"] == (not truth["stretches"])
        kinds.add(trace.meta["scenario"].split(":")[0].split("+")[0])
    assert {"good_routine", "mixed", "bouncy", "bag", "standing", "real"} <= kinds
    assert any("realsway" in json.loads(p.with_suffix(".truth.json").read_text())["scenario"] for p in paths)


def test_same_seed_rebuilds_the_same_corpus(tmp_path, recordings):
    first = build_corpus(tmp_path / "a", quick=True, seed=3)
    second = build_corpus(tmp_path / "b", quick=True, seed=3)
    assert [p.read_text() for p in first] == [p.read_text() for p in second]


def test_command_line_builds_quick(tmp_path, recordings, capsys):
    assert main([str(tmp_path / "c"), "--quick", "--seed", "2"]) == 0
    assert "wrote" in capsys.readouterr().out and list((tmp_path / "c").glob("*.truth.json"))


def test_missing_real_folder_is_skipped_with_a_note(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STRETCHSTEP_REAL_DATA", str(tmp_path / "nowhere"))
    assert realdata.real_cases() == [] and realdata.real_sway_cases() == []
    assert "not found" in capsys.readouterr().out


def test_real_recordings_become_idle_cases_in_kg_at_both_rates(recordings):
    cases = {c.name: c for c in realdata.real_cases(data_dir=recordings)}
    assert {"real_BDS00001_half_10hz", "real_BDS00001_full_80hz", "real_PDS13OR1grf_right_80hz",
            "real_PDS13OR1grf_left_10hz", "real_jump1_grf_80hz"} <= cases.keys()
    half = list(cases["real_BDS00001_half_10hz"].make_samples())
    full = list(cases["real_BDS00001_full_10hz"].make_samples())
    assert half[0].t == 0.0 and half[1].t == pytest.approx(0.1)
    assert full[5].kg == pytest.approx(600.5 / G, abs=0.01)  # box average of 600 and 601 N
    assert half[5].kg == pytest.approx(full[5].kg / 2)
    left = list(cases["real_PDS13OR1grf_left_80hz"].make_samples())
    assert all(s.kg == pytest.approx(320.0 / G) for s in left)
    for case in cases.values():
        assert case.truth["idle"] and case.truth["stretches"] == [] and case.truth["bounces"] == []


def test_real_steps_come_from_the_threshold_and_a_jump_flight_is_not_a_step_off(recordings):
    jump = next(c for c in realdata.real_cases(data_dir=recordings) if c.name == "real_jump1_grf_80hz")
    steps = jump.truth["steps"]
    assert len(steps) == 1
    assert steps[0]["on"] == pytest.approx(1.0, abs=0.02) and steps[0]["off"] == pytest.approx(6.6, abs=0.02)
    standing = realdata.steps_from([(0.0, 30.0), (0.1, 30.0)])
    assert standing == [{"on": 0.0, "off": None}]  # on from the start, never left


def test_resample_interpolates_where_the_source_is_sparse():
    out = realdata.resample([0.0, 1.0], [0.0, 10.0], 4.0)
    assert [t for t, _ in out] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [v for _, v in out] == pytest.approx([0.0, 2.5, 5.0, 7.5, 10.0])


def test_real_sway_lays_scripted_stretches_on_real_one_foot_noise(recordings):
    cases = realdata.real_sway_cases(seed=1, rates=(10.0,), data_dir=recordings)
    assert len(cases) == 2  # right and left foot of the one PDS file
    case = cases[0]
    assert case.truth["stretches"] and not case.truth["idle"]
    assert case.truth["body_kg"] == pytest.approx(2 * (300.0 + 2.45) / G, abs=0.2)
    sway, mean = realdata.real_sway(recordings / "PDS13OR1grf.txt", "RGRF_Y")
    assert abs(sum(sway(i / 10) for i in range(100)) / 100) < 0.2  # mean removed
    assert sway(9.99) == pytest.approx(sway(10.01), abs=0.1)  # mirrored at the end: no jump


def test_bad_recording_names_the_missing_column(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("Time\tA\n0\t1\n")
    with pytest.raises(ValueError, match="no column 'B'"):
        realdata.read_column(path, "B")
