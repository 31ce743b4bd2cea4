"""Replay only the hold-wide breath count over cached holds: a change to recount.py in seconds.

The whole detector takes ~75 s a seed of the second generator; the count at a hold's end sees
only the hold's 2 Hz record and the standing before it. So `cache` runs the detector once per
trace and keeps, for every hold matched to a true stretch, what it counted from
(`HoldDetector.last_hold`) and the truth; `score` re-runs `count_presses` over those files with
the code as it is now and prints bench/accuracy.py's breath rows (per press-to-sway bin, cycle
and let-off band, sure or not) beside the plain timer (hold / 7 s) on the same holds, and how
many counts differ from the detector's at caching time (0 on unchanged code: the replay is
exact).

    python bench/recount.py cache holds_s3.json.gz --seed 3 [--visits 60] [--rate 10]
    python bench/recount.py cache holds_c7.json.gz --corpus D7 [--part test]
    python bench/recount.py score holds_*.json.gz
    python bench/recount.py --quick          (CI smoke: a few visits cached and replayed)

The cache is tuning data like the sets it came from: a rule chosen on it is judged on fresh
sets with `bench/independent.py` and `bench/accuracy.py`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import independent  # noqa: E402
from bench.accuracy import BREATH_HEAD, breath_row  # noqa: E402
from bench.baseline import plain_timer  # noqa: E402
from bench.score import HOLD_VIEWS, HoldScore, holds_by, match_stretches, press_to_sway  # noqa: E402
from firmware import events as ev  # noqa: E402
from firmware.analysis import summarize  # noqa: E402
from firmware.detector import DetectorConfig, HoldDetector  # noqa: E402
from firmware.detector.recount import count_presses  # noqa: E402


def detect(samples: list[Any], rate: float) -> tuple[dict[str, Any], dict[tuple[float, float], Any]]:
    """The analyze dict of a trace, and each hold's count input keyed by its (start, end)."""
    detector = HoldDetector(DetectorConfig(rate_hz=rate))
    events: list[ev.Event] = []
    inputs: dict[tuple[float, float], Any] = {}

    def took(out: Any) -> None:
        for e in out or ():
            events.append(e)
            if e.kind == ev.STRETCH_END and e.data.get("hold_start") is not None:
                inputs[(e.data["start"], e.data["end"])] = detector.last_hold

    for s in samples:
        took(detector.feed(s.t, s.kg))
    took(detector.finish())
    span = samples[-1].t - samples[0].t if samples else 0.0
    return summarize(events, rate_hz=rate, samples=len(samples), duration_s=span), inputs


def matched_holds(name: str, samples: list[Any], truth: dict[str, Any], rate: float) -> list[dict[str, Any]]:
    """One record per found hold matched to a true stretch: its count input and truth."""
    result, inputs = detect(samples, rate)
    found, true = result["stretches"], truth.get("stretches", [])
    out = []
    for i, j in match_stretches(found, true):
        f, t = found[i], true[j]
        held = inputs.get((f["start"], f["end"]))
        if held is None:
            continue
        times, x, step, floor, standing = held
        out.append({"name": name, "rate": rate, "t": times, "x": x, "step": step, "floor": floor,
                    "standing": list(standing), "found": f["breaths"], "found_sure": f["breaths_sure"],
                    "hold_s": f["hold_s"], "true": t["breaths"], "ratio": press_to_sway(t),
                    "cycle_s": t.get("cycle_s"), "let_off": t.get("let_off")})
    return out


def cache_seed(seed: int, visits: int, rates: list[float]) -> list[dict[str, Any]]:
    holds = []
    for case_seed, _kind, rate, who in independent.plan(seed, visits, 0, rates):
        rng = random.Random(case_seed)
        person = None
        if who is not None:
            p = next(p for p in independent.PEOPLE if p.id == who)
            person = (p.id, [independent.real_data_dir() / f for f in p.files])
        visit = independent.draw_visit(rng, rate, person)
        samples, truth = independent.render(visit, rng)
        holds += matched_holds(f"{visit.person}_{case_seed}", samples, truth, rate)
    return holds


def cache_corpus(folder: Path, part: str) -> list[dict[str, Any]]:
    from firmware.sensors.trace import read_trace

    truths = sorted((folder / part).glob("*.truth.json"))
    if not truths:
        raise SystemExit(f"no labelled traces in {folder / part}; make a corpus with "
                         f"python bench/corpus.py {folder}")
    holds = []
    for truth_path in truths:
        truth = json.loads(truth_path.read_text())
        trace = read_trace(truth_path.with_name(truth_path.name.replace(".truth.json", ".csv")))
        holds += matched_holds(truth_path.stem, list(trace.samples), truth, trace.rate_hz)
    return holds


def replay(holds: list[dict[str, Any]]) -> tuple[list[HoldScore], int]:
    """Each hold counted again by the code as it is now, scored as bench/accuracy.py scores it,
    and how many counts (or sure marks) differ from the detector's when cached."""
    scores, differ = [], 0
    for h in holds:
        pc = count_presses(h["t"], h["x"], h["step"], h["floor"], h["standing"])
        differ += (pc.count, pc.sure) != (h["found"], h["found_sure"])
        scores.append(HoldScore(pc.count, h["true"], plain_timer(h["hold_s"]), sure=pc.sure,
                                ratio=h["ratio"], cycle_s=h.get("cycle_s"), let_off=h.get("let_off")))
    return scores, differ


def report(label: str, holds: list[dict[str, Any]]) -> None:
    """The breath rows of bench/accuracy.py (timer beside the count) over the replayed holds."""
    scores, differ = replay(holds)
    print(f"{label}: {len(holds)} holds replayed, {differ} counts differ from the detector's when cached")
    print(f"  {'':26}" + "".join(f"{h:>10}" for h in BREATH_HEAD))
    breath_row("all holds", scores, print)
    for view, key in HOLD_VIEWS.items():
        for name, members in sorted(holds_by(scores, key).items()):
            breath_row(name if view != "marked" else f"marked {name}", members, print)


def save(path: Path, holds: list[dict[str, Any]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(holds, f)


def load(path: Path) -> list[dict[str, Any]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"cannot read {path}: {exc}; make it with bench/recount.py cache") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="cache a few visits and replay them (CI smoke)")
    sub = ap.add_subparsers(dest="what")
    c = sub.add_parser("cache", help="run the detector once, keep each matched hold's count input")
    c.add_argument("out", type=Path)
    c.add_argument("--seed", type=int, help="a second-generator seed")
    c.add_argument("--visits", type=int, default=60)
    c.add_argument("--rate", type=float, choices=(10.0, 80.0), help="only this rate")
    c.add_argument("--corpus", type=Path, help="a corpus folder (bench/corpus.py) instead")
    c.add_argument("--part", choices=("test", "tune"), default="test")
    s = sub.add_parser("score", help="replay the count over cached holds")
    s.add_argument("files", type=Path, nargs="+")
    args = ap.parse_args(argv)
    rates = [args.rate] if getattr(args, "rate", None) else [10.0, 80.0]
    if args.quick:
        holds = cache_seed(0, 2, [10.0, 80.0])
        with tempfile.TemporaryDirectory() as tmp:
            save(Path(tmp) / "quick.json.gz", holds)
            report("quick, seed 0, 2 visits per rate", load(Path(tmp) / "quick.json.gz"))
        return 0
    if args.what == "cache":
        if (args.seed is None) == (args.corpus is None):
            ap.error("cache needs one of --seed N or --corpus DIR")
        if args.seed is not None:
            print(independent.sway_said())
        holds = cache_seed(args.seed, args.visits, rates) if args.seed is not None else \
            cache_corpus(args.corpus, args.part)
        save(args.out, holds)
        print(f"kept {len(holds)} matched holds in {args.out}")
        return 0
    if args.what == "score":
        pooled = []
        for path in args.files:
            holds = load(path)
            report(str(path), holds)
            pooled += holds
        if len(args.files) > 1:
            report("pooled", pooled)
        return 0
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
