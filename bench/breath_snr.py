"""How breath counting depends on the press's size next to the sway beneath it, finely.

    python bench/breath_snr.py [--part test|tune] [--corpus DIR] [--jobs N] [--quick]

Scores the corpus part as bench/accuracy.py does (building it first if needed) and files every
matched hold with breaths by its press-to-sway ratio -- the truth's mean press over the
breathing-band peak to peak of the sway alone under the hold (DESIGN §2) -- in finer bins than
the bars use, per sway source (synthetic feet, recorded feet): breaths exact / within +-1, over-
and under-counts, the share marked unsure, and the plain timer beside it.

Why: no counter can tell a press from sway of the same size and rhythm, so this shows where the
errors sit -- in holds whose presses stand above the sway, or in holds where they do not.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.accuracy import DEFAULT_CORPUS, ensure_corpus, pct, run  # noqa: E402
from bench.score import HoldScore, breath_figures  # noqa: E402

BINS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)  # press / sway edges


def bin_label(ratio: float) -> str:
    lo = max((b for b in BINS if b <= ratio), default=None)
    hi = min((b for b in BINS if b > ratio), default=None)
    if lo is None:
        return f"      < {hi:g}"
    return f"{lo:>4g} - {hi:<4g}" if hi is not None else f"   >= {lo:g}"


def row(label: str, holds: list[HoldScore]) -> str:
    f = breath_figures(holds)
    over = sum(h.error > 0 for h in holds)
    under = sum(h.error < 0 for h in holds)
    return (f"  {label:14}{f['holds']:>7}{pct(f['exact']):>10}{pct(f['within1']):>10}{over:>7}{under:>7}"
            f"{pct(f['unsure']):>10}{pct(f['timer_within1']):>11}")


def report(groups: dict[str, list[HoldScore]]) -> list[str]:
    head = (f"  {'press/sway':14}{'holds':>7}{'exact':>10}{'+-1':>10}{'over':>7}{'under':>7}{'unsure':>10}"
            f"{'timer +-1':>11}")
    lines = []
    for group, holds in sorted(groups.items()):
        lines += ["", f"sway from {group} feet ({len(holds)} holds with breaths):", head]
        bins: dict[str, list[HoldScore]] = {}
        for h in sorted(holds, key=lambda h: h.ratio or 0.0):
            bins.setdefault(bin_label(h.ratio or 0.0), []).append(h)
        lines += [row(label, members) for label, members in bins.items()]
        lines.append(row("all", holds))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Breath counting against press size / sway size.")
    parser.add_argument("--quick", action="store_true", help="a small corpus in a temp dir (CI smoke)")
    parser.add_argument("--corpus", type=Path, default=None, help=f"corpus folder (default {DEFAULT_CORPUS})")
    parser.add_argument("--part", choices=("test", "tune"), default="test", help="which part (default test)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stretchstep-corpus-") as tmp:
        folder = args.corpus or (Path(tmp) if args.quick else DEFAULT_CORPUS)
        scored = run(ensure_corpus(folder, args.part, args.quick), args.jobs)
    groups: dict[str, list[HoldScore]] = {}
    for score, _, info in scored:
        source = "recorded" if info["group"] == "real" else "synthetic"
        groups.setdefault(source, []).extend(h for h in score.holds if h.true and h.ratio is not None)
    total = sum(len(h) for h in groups.values())
    print(f"part {args.part}: {len(scored)} traces, {total} matched holds with breaths; press = truth's mean "
          f"press rise, sway = peak to peak of the sway alone in the 0.08-0.25 Hz band under the hold")
    print("\n".join(report(groups)))
    print(f"\nin {time.perf_counter() - started:.1f} s")
    return 0 if total or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
