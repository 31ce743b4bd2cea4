"""How big is real postural sway next to a breath press? Measured on the real recordings.

    python bench/sway.py [--data DIR]

For each one-plate-per-foot recording (PDS*, ../shared/data/real), prints each foot's and
both feet's vertical force as % of body weight (BW = mean of both feet): peak to peak and SD
in the breathing band (0.08-0.25 Hz: 4-12 s breath cycles; 2nd-order high- and low-pass run
forwards and backwards) and peak to peak of the 1 s mean. DESIGN §2 puts an out-breath press
at 2-6 % BW and standing sway at ~1 % BW; the breath detector's accuracy over real sway
(bench/accuracy.py, group "realsway") should be read next to these figures. Pure Python.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.realdata import RECORDINGS, read_column, real_data_dir  # noqa: E402

BAND_HZ = (0.08, 0.25)
RATE_HZ = 100.0  # the PDS recordings' rate
EDGE_S = 5.0     # filter start-up trimmed from each end


def biquad(kind: str, f0: float, fs: float, q: float = math.sqrt(0.5)) -> tuple[list[float], list[float]]:
    """RBJ audio-EQ-cookbook 2nd-order low- or high-pass: (b, a) with a[0] = 1."""
    w = 2.0 * math.pi * f0 / fs
    alpha, cw = math.sin(w) / (2.0 * q), math.cos(w)
    b1 = 1.0 - cw if kind == "low" else -(1.0 + cw)
    b0 = b1 / 2.0 if kind == "low" else (1.0 + cw) / 2.0
    a0 = 1.0 + alpha
    return [b0 / a0, b1 / a0, b0 / a0], [1.0, -2.0 * cw / a0, (1.0 - alpha) / a0]


def run_filter(ba: tuple[list[float], list[float]], x: list[float]) -> list[float]:
    (b0, b1, b2), (_, a1, a2) = ba
    out, x1, x2, y1, y2 = [], x[0], x[0], 0.0, 0.0
    if b0 + b1 + b2 > 0.5:  # low-pass: start settled at the first value
        y1 = y2 = x[0]
    for v in x:
        y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2, x1, y2, y1 = x1, v, y1, y
        out.append(y)
    return out


def band(x: list[float], lo: float = BAND_HZ[0], hi: float = BAND_HZ[1], fs: float = RATE_HZ) -> list[float]:
    """Zero-phase band-pass: high-pass at lo, low-pass at hi, forwards then backwards."""
    y = x
    for ba in (biquad("high", lo, fs), biquad("low", hi, fs)):
        y = run_filter(ba, y)
        y = run_filter(ba, y[::-1])[::-1]
    return y


def box_mean(x: list[float], n: int) -> list[float]:
    out, acc = [], 0.0
    for i, v in enumerate(x):
        acc += v - (x[i - n] if i >= n else 0.0)
        if i >= n - 1:
            out.append(acc / n)
    return out


def figures(kg: list[float], body_kg: float) -> dict[str, float]:
    """Band peak to peak and SD, and 1 s-mean peak to peak, each as % BW."""
    edge = int(EDGE_S * RATE_HZ)
    b = band(kg)[edge:-edge]
    mean_b = sum(b) / len(b)
    sd = math.sqrt(sum((v - mean_b) ** 2 for v in b) / len(b))
    slow = box_mean(kg, int(RATE_HZ))[edge:-edge]
    pct = 100.0 / body_kg
    return {"band_pp": (max(b) - min(b)) * pct, "band_sd": sd * pct,
            "mean1s_pp": (max(slow) - min(slow)) * pct}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Real postural sway in % BW next to DESIGN's presses.")
    parser.add_argument("--data", type=Path, default=None,
                        help="recordings folder (default ../shared/data/real)")
    args = parser.parse_args(argv)
    folder = args.data or real_data_dir()
    if folder is None or not folder.is_dir():
        print("real recordings not found (../shared/data/real or $STRETCHSTEP_REAL_DATA)", file=sys.stderr)
        return 2
    stems = sorted({stem for stem, *_ in RECORDINGS if stem.startswith("PDS")})
    lo, hi = BAND_HZ
    print(f"{'recording':14} {'force':6} {'BW kg':>6}  band {lo:g}-{hi:g} Hz pp / SD   1 s mean pp")
    for stem in stems:
        path = folder / f"{stem}.txt"
        if not path.exists():
            print(f"{stem}: missing, skipped")
            continue
        _, right = read_column(path, "RGRF_Y")
        _, left = read_column(path, "LGRF_Y")
        both = [r + v for r, v in zip(right, left, strict=True)]
        body = sum(both) / len(both)
        for label, kg in (("right", right), ("left", left), ("both", both)):
            f = figures(kg, body)
            print(f"{stem:14} {label:6} {body:6.1f}  {f['band_pp']:6.2f} % / {f['band_sd']:4.2f} %"
                  f"          {f['mean1s_pp']:6.2f} %")
    print("DESIGN §2: out-breath press 2-6 % BW; standing sway ~1 % BW")
    return 0


if __name__ == "__main__":
    sys.exit(main())
