"""How big is real postural sway next to a breath press, as the edge cell sees it?

    python bench/sway.py [--data DIR] [--board-m L]

For each recorded person (../shared/data/real: the PDS per-foot people, the BDS subjects),
lays every trial through the step's lever (DESIGN §2: load = sum F_i * x_i / L, feet mid-board
when standing; in a stretch the stretching forefoot at L - 3 cm, the other mid-board) and prints
the sway in % of body weight: peak to peak and SD in the breathing band (0.08-0.25 Hz, where
4-12 s breath cycles live) standing and stretching each leg, and the SD of the whole. DESIGN §2
puts an out-breath press at 2-6 % BW; the corpus files each hold by its press-to-sway ratio.
Pure Python.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.realdata import PEOPLE, body_kg_of, real_data_dir, recorded_sway  # noqa: E402
from firmware.sensors.simulated.sway import BAND_HZ, Geometry, band  # noqa: E402

RATE_HZ = 10.0   # the sway is sampled this fast for the figures (the band is far below 5 Hz)
EDGE_S = 5.0     # filter start-up trimmed from each end
SECONDS = 60.0   # each trial's length


def figures(values: list[float], body_kg: float) -> dict[str, float]:
    """Breathing-band peak to peak and SD, and the whole series' SD, each as % BW."""
    edge = int(EDGE_S * RATE_HZ)
    b = band(values, fs=RATE_HZ)[edge:-edge]
    mean_b = sum(b) / len(b)
    mean = sum(values) / len(values)
    pct = 100.0 / body_kg
    return {"band_pp": (max(b) - min(b)) * pct,
            "band_sd": math.sqrt(sum((v - mean_b) ** 2 for v in b) / len(b)) * pct,
            "sd": math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) * pct}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Real postural sway through the step's lever, in % BW.")
    parser.add_argument("--data", type=Path, default=None,
                        help="recordings folder (default ../shared/data/real)")
    parser.add_argument("--board-m", type=float, default=0.28, help="board depth L in metres (default 0.28)")
    args = parser.parse_args(argv)
    folder = args.data or real_data_dir()
    if folder is None or not folder.is_dir():
        print("real recordings not found (../shared/data/real or $STRETCHSTEP_REAL_DATA)", file=sys.stderr)
        return 2
    board = args.board_m
    geometry = Geometry(board, board / 2, board / 2)
    lo, hi = BAND_HZ
    print(f"L = {board:g} m, feet mid-board; band {lo:g}-{hi:g} Hz peak to peak / SD, % BW")
    print(f"{'person':10} {'trial':26} {'BW kg':>6}   {'standing':>15}   {'right on nosing':>15}"
          f"   {'left on nosing':>15}   {'SD all':>6}")
    for person in PEOPLE:
        for file in person.files:
            path = folder / file
            if not path.exists():
                print(f"{person.id:10} {file:26} missing, skipped")
                continue
            body = body_kg_of(path)
            sway = recorded_sway(path, geometry)
            times = [k / RATE_HZ for k in range(int(SECONDS * RATE_HZ))]
            cells = []
            for leg in (None, "right", "left"):
                values = [sway(t) if leg is None else sway.stretching(t, leg) for t in times]
                f = figures(values, body)
                cells.append(f"{f['band_pp']:6.2f} / {f['band_sd']:4.2f}")
            whole = figures([sway(t) for t in times], body)["sd"]
            print(f"{person.id:10} {file:26} {body:6.1f}   " + "   ".join(f"{c:>15}" for c in cells)
                  + f"   {whole:6.2f}")
    print("DESIGN §2: out-breath press 2-6 % BW")
    return 0


if __name__ == "__main__":
    sys.exit(main())
