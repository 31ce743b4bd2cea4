"""bench/sway.py: its band filter passes breathing-band swings and stops the rest, and the
script reports a one-plate-per-foot recording in % BW (a synthetic one here, so the test does
not depend on ../shared being beside the clone)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.realdata import G as G_KG
from bench.sway import RATE_HZ, band

ROOT = Path(__file__).resolve().parents[1]


def sine(hz: float, seconds: float = 120.0) -> list[float]:
    return [math.sin(2 * math.pi * hz * k / RATE_HZ) for k in range(int(seconds * RATE_HZ))]


def middle_pp(x: list[float]) -> float:
    mid = x[len(x) // 4: -len(x) // 4]
    return max(mid) - min(mid)


@pytest.mark.parametrize(("hz", "lo", "hi"), [(0.14, 1.6, 2.05), (0.01, 0.0, 0.1), (1.5, 0.0, 0.1)])
def test_band_passes_breathing_swings_and_stops_drift_and_quick_sway(hz: float, lo: float, hi: float) -> None:
    assert lo <= middle_pp(band(sine(hz))) <= hi  # a unit sine is 2 peak to peak


def test_the_script_reports_each_foot_and_both_in_percent_of_body_weight(tmp_path: Path) -> None:
    # 60 s, right and left feet shifting 2 kg (amplitude) against each other at 0.15 Hz
    lines = ["Time\tRGRF_Y\tLGRF_Y"]
    for k in range(int(60 * RATE_HZ)):
        t = k / RATE_HZ
        shift = 2.0 * math.sin(2 * math.pi * 0.15 * t)
        lines.append(f"{t:.2f}\t{(30.0 + shift) * G_KG:.4f}\t{(30.0 - shift) * G_KG:.4f}")
    (tmp_path / "PDS13OR1grf.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "sway.py"), "--data", str(tmp_path)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    rows = {line.split()[1]: line for line in out.stdout.splitlines() if line.startswith("PDS13OR1grf ")}
    assert set(rows) == {"right", "left", "both"}
    right_pp = float(rows["right"].split()[3])
    both_pp = float(rows["both"].split()[3])
    assert right_pp == pytest.approx(4.0 / 60.0 * 100, rel=0.15)  # 4 kg pp of a 60 kg person
    assert both_pp < 0.1  # the shift cancels in the sum
    assert "missing" in out.stdout  # the other two recordings are not in tmp_path


def test_the_script_says_so_when_the_recordings_are_absent(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "sway.py"), "--data", str(tmp_path / "nope")],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 2 and "not found" in out.stderr


def test_breath_snr_measures_the_breathing_band_swing_under_a_hold() -> None:
    from bench.breath_snr import sway_pp

    def sway(t: float) -> float:  # 1 kg peak to peak at 0.15 Hz on a 4 kg swing at 0.01 Hz
        return 0.5 * math.sin(2 * math.pi * 0.15 * t) + 2.0 * math.sin(2 * math.pi * 0.01 * t)

    assert 0.75 <= sway_pp(sway, 100.0, 140.0) <= 1.1  # the band-pass passes ~0.8 at 0.15 Hz
    assert sway_pp(lambda t: 0.3, 100.0, 140.0) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(("ratio", "label"), [(0.3, "< 0.5"), (0.5, "0.5 - 0.75"), (1.2, "1 - 1.5"),
                                              (7.0, ">= 2")])
def test_breath_snr_bins_holds_by_press_over_sway(ratio: float, label: str) -> None:
    from bench.breath_snr import bin_label

    assert " ".join(bin_label(ratio).split()) == label
