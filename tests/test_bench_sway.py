"""bench/sway.py reports each recorded person's sway through the lever in % BW (synthetic
stand-in recordings here, so the test does not depend on ../shared being beside the clone)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.realdata import G as G_KG

ROOT = Path(__file__).resolve().parents[1]


def test_the_script_shows_weight_shifting_only_with_a_foot_on_the_nosing(tmp_path: Path) -> None:
    # 60 s, right and left feet shifting 2 kg (amplitude) against each other at 0.15 Hz, COP still
    lines = ["Time\tRGRF_Y\tLGRF_Y\tRCOP_X\tLCOP_X"]
    for k in range(6000):
        t = k / 100
        shift = 2.0 * math.sin(2 * math.pi * 0.15 * t)
        lines.append(f"{t:.2f}\t{(30.0 + shift) * G_KG:.4f}\t{(30.0 - shift) * G_KG:.4f}\t0.2\t0.2")
    for name in ("PDS13OR1grf.txt", "PDS13CR2grf.txt", "PDS13OF3grf.txt"):
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "sway.py"), "--data", str(tmp_path)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    row = next(line for line in out.stdout.splitlines() if line.startswith("PDS13 ") and "OR1" in line)
    cells = row.split()
    standing_pp, right_pp, left_pp = float(cells[3]), float(cells[6]), float(cells[9])
    apart = (0.28 - 0.03 - 0.14) / 0.28
    assert standing_pp < 0.05  # level feet: the shifting cancels at the cell
    assert right_pp == pytest.approx(4.0 * apart / 60.0 * 100, rel=0.15)  # 4 kg pp of a 60 kg person
    assert left_pp == pytest.approx(right_pp, rel=0.05)
    assert "missing" in out.stdout  # the other people are not in tmp_path


def test_the_script_says_so_when_the_recordings_are_absent(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "sway.py"), "--data", str(tmp_path / "nope")],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 2 and "not found" in out.stderr


@pytest.mark.parametrize(("ratio", "label"), [(0.3, "< 0.5"), (0.5, "0.5 - 0.75"), (1.2, "1 - 1.5"),
                                              (7.0, ">= 3")])
def test_breath_snr_bins_holds_by_press_over_sway(ratio: float, label: str) -> None:
    from bench.breath_snr import bin_label

    assert " ".join(bin_label(ratio).split()) == label
