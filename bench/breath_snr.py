"""How breath counting depends on the press's size next to the sway beneath it.

    python bench/breath_snr.py [--quick] [--seed N] [--sim-sway FRAC] [--jobs N]

Builds the corpus's stretch cases in memory (simulated, and simulated over real one-foot sway
when ../shared/data/real is there), runs `analyze` over each (no body weight), and for every
matched hold sets the truth's mean press rise (`press_kg`) against the peak to peak of the
sway under that hold in the breathing band (0.08-0.25 Hz, the band of 4-12 s breath cycles;
the band-pass of bench/sway.py). Prints breaths exact / within +-1 and over- / under-counts
per press-to-sway bin and per group. `--sim-sway` sets the simulated sway's RMS share of body
weight (default: the simulator's, as in the corpus) to see how the counter holds up under more sway.

Why: no counter can tell a press from sway of the same size and rhythm, so this shows where
the errors sit -- in holds whose presses stand above the sway, or in holds where they do not.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import simulated_cases  # noqa: E402
from bench.realdata import Case, real_sway_cases  # noqa: E402
from bench.score import match_stretches  # noqa: E402
from bench.sway import band  # noqa: E402
from firmware.analysis import analyze_samples  # noqa: E402
from firmware.sensors.simulated import SWAY_FRAC  # noqa: E402

SWAY_RATE_HZ = 10.0
SETTLE_S = 30.0  # sway filtered this far either side of a hold, so the filter has settled
BINS = (0.5, 0.75, 1.0, 1.5, 2.0)  # press / sway edges
Hold = dict[str, Any]  # group, ratio, error (found - true breaths)

_cases: list[Case] = []


def build_cases(seed: int, quick: bool, sim_sway: float) -> list[Case]:
    """The corpus's cases that hold stretches: simulated, then over real sway."""
    cases = [c for c in simulated_cases(seed, quick, sway_frac=sim_sway) if c.truth.get("stretches")]
    scenarios = ("mixed",) if quick else ("mixed", "good_routine")
    return cases + real_sway_cases(seed, rates=(10.0,) if quick else (10.0, 80.0), scenarios=scenarios)


def sway_pp(sway: Callable[[float], float], t0: float, t1: float) -> float:
    """Peak to peak (kg) over [t0, t1] of the sway's breathing-band part."""
    n0 = int((t0 - SETTLE_S) * SWAY_RATE_HZ)
    n1 = int((t1 + SETTLE_S) * SWAY_RATE_HZ) + 1
    times = [n / SWAY_RATE_HZ for n in range(n0, n1)]
    banded = band([sway(t) for t in times], fs=SWAY_RATE_HZ)
    inside = [v for t, v in zip(times, banded, strict=True) if t0 <= t <= t1]
    return max(inside) - min(inside) if inside else 0.0


def holds_of(index: int) -> list[Hold]:
    """Each matched hold of case `index` with breaths to count: its press/sway and its error."""
    case = _cases[index]
    found = analyze_samples(case.make_samples(), rate_hz=case.rate_hz)["stretches"]
    truth = case.truth["stretches"]
    out = []
    for i, j in match_stretches(found, truth):
        t = truth[j]
        if not t["breaths"] or case.sway is None:
            continue
        pp = sway_pp(case.sway, t["hold_start"], t["hold_start"] + t["hold_s"])
        out.append({"group": case.group, "ratio": t["press_kg"] / pp if pp > 0 else float("inf"),
                    "error": found[i]["breaths"] - t["breaths"], "bounced": t["bounces"] > 0})
    return out


def _init(seed: int, quick: bool, sim_sway: float) -> None:
    global _cases
    _cases = build_cases(seed, quick, sim_sway)


def bin_label(ratio: float) -> str:
    lo = max((b for b in BINS if b <= ratio), default=None)
    hi = min((b for b in BINS if b > ratio), default=None)
    if lo is None:
        return f"      < {hi:g}"
    return f"{lo:>4g} - {hi:<4g}" if hi is not None else f"   >= {lo:g}"


def row(label: str, holds: list[Hold]) -> str:
    n = len(holds)
    exact = sum(h["error"] == 0 for h in holds)
    near = sum(abs(h["error"]) <= 1 for h in holds)
    over = sum(h["error"] > 0 for h in holds)
    return (f"  {label:14}{n:>7}{100 * exact / n:>10.1f} %{100 * near / n:>9.1f} %"
            f"{over:>7}{n - exact - over:>7}")


def report(holds: list[Hold]) -> list[str]:
    head = f"  {'press/sway':14}{'holds':>7}{'exact':>12}{'+-1':>11}{'over':>7}{'under':>7}"
    lines = []
    for group in sorted({h["group"] for h in holds}):
        mine = [h for h in holds if h["group"] == group]
        lines += ["", f"{group} ({len(mine)} holds with breaths):", head]
        bins: dict[str, list[Hold]] = {}
        for h in sorted(mine, key=lambda h: h["ratio"]):
            bins.setdefault(bin_label(h["ratio"]), []).append(h)
        lines += [row(label, members) for label, members in bins.items()]
        lines.append(row("all", mine))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Breath counting against press size / sway size.")
    parser.add_argument("--quick", action="store_true", help="a few cases (CI smoke)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0, as bench/corpus)")
    parser.add_argument("--sim-sway", type=float, default=SWAY_FRAC,
                        help=f"simulated sway, RMS share of body weight (default {SWAY_FRAC:g})")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    _init(args.seed, args.quick, args.sim_sway)
    indices = range(len(_cases))
    if args.jobs <= 1 or args.quick:
        per_case = [holds_of(i) for i in indices]
    else:
        with ProcessPoolExecutor(args.jobs, initializer=_init,
                                 initargs=(args.seed, args.quick, args.sim_sway)) as pool:
            per_case = list(pool.map(holds_of, indices, chunksize=2))
    holds = [h for hs in per_case for h in hs]
    print(f"{len(_cases)} cases, {len(holds)} matched holds with breaths; press = truth's mean press "
          f"rise, sway = peak to peak of the sway in the 0.08-0.25 Hz band over the hold")
    print("\n".join(report(holds)))
    print(f"\nin {time.perf_counter() - started:.1f} s")
    return 0 if holds or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
