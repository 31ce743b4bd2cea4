"""How accurate is the detector? Scores `analyze` over the corpus's test part against DESIGN §6.

    python bench/accuracy.py [--part test|tune] [--corpus DIR ...] [--rate 10|80] [--jobs N] [-v] [--quick]

Builds the corpus first if DIR holds none (bench/corpus/ by default; a temporary folder with
--quick; see bench/corpus.py for how the tuning and test parts differ). Runs the analysis
`stretchstep analyze` runs (no body weight given) over every trace of the part, and beside it,
in the same run, the naive baselines (bench/baseline.py): the plain timer (breaths = hold / 7 s)
on the very same holds, and a threshold at 0.6 BW given the body weight for stretches. Prints

- stretches (F1 at IoU >= 0.5, median start/end error), bounces (recall, false per hour of
  stretching) and idle traces (false stretches / bounces), per rate, detector and baseline;
- breaths per matched hold, per rate: by press-to-sway ratio (< 1, 1-1.5, >= 1.5), by breath
  cycle (4-6, 6-9, 9-12 s), by let-off (< 20 %, >= 20 %) and by what `breaths_sure` said, each
  beside the plain timer;
- per slice of the part and per sway source (synthetic or recorded feet);
- the bar table of DESIGN §6 for both rates together and each alone.

Exit status: 1 when a bar is missed on the test part (0 with --part tune or --quick, which are
for looking, not judging). `--corpus` may be given more than once (corpora of other seeds): the
parts are scored together, so each bin holds more holds and its figure wobbles less.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.baseline import threshold_stretches  # noqa: E402
from bench.score import (  # noqa: E402
    BARS,
    HOLD_VIEWS,
    Tally,
    TraceScore,
    breath_figures,
    holds_by,
    score_trace,
    verdicts,
    wilson,
)
from firmware.analysis import analyze_samples  # noqa: E402
from firmware.sensors.trace import read_trace  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parent / "corpus"
Scored = list[tuple[TraceScore, TraceScore | None, dict[str, Any]]]
Out = Callable[[str], None]


def ensure_corpus(folder: Path, part: str, quick: bool) -> list[Path]:
    """The part's truth files in folder, building the corpus there first when it has none."""
    where = folder / part
    truths = sorted(where.glob("*.truth.json")) if where.exists() else []
    if not truths:
        from bench.corpus import build_corpus

        print(f"building the {'quick ' if quick else ''}corpus in {folder} ...", flush=True)
        build_corpus(folder, quick=quick)
        truths = sorted(where.glob("*.truth.json"))
    return truths


def score_one(truth_path: Path) -> tuple[TraceScore, TraceScore | None, dict[str, Any]]:
    """Analyse one trace (no body weight: the bars hold without it), run the threshold baseline
    on it (given the body weight, when the truth knows it) and score both."""
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    trace_name = truth.get("trace") or truth_path.name.replace(".truth.json", ".csv")
    trace = read_trace(truth_path.with_name(trace_name))
    result = analyze_samples(trace.samples, rate_hz=trace.rate_hz)
    name = Path(trace.path).stem
    score = score_trace(name, result, truth)
    body = truth.get("body_kg")
    baseline = score_trace(name, threshold_stretches(trace.samples, body), truth) if body else None
    info = {"rate": f"{float(truth.get('rate_hz') or trace.rate_hz):g} Hz",
            "group": truth.get("group", "sim"), "slice": truth.get("slice", "?"),
            "person": truth.get("sway_person") or "synthetic"}
    return score, baseline, info


def run(truths: list[Path], jobs: int) -> Scored:
    if jobs <= 1 or len(truths) < 4:
        return [score_one(p) for p in truths]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(score_one, truths, chunksize=2))


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key.endswith("_s"):
        return f"{value:.2f} s"
    if key.endswith("per_h"):
        return f"{value:.2f}/h"
    if isinstance(value, int):
        return f"{value}"
    return pct(value)


def _by_rate(scored: Scored) -> dict[str, Scored]:
    rates: dict[str, Scored] = {}
    for item in scored:
        rates.setdefault(item[2]["rate"], []).append(item)
    return {**dict(sorted(rates.items())), "both rates": scored}


def _tally(items: Scored, baseline: bool = False) -> Tally:
    tally = Tally()
    for score, base, _ in items:
        chosen = base if baseline else score
        if chosen is not None:
            tally.add(chosen)
    return tally


STRETCH_KEYS = ("traces", "stretch_f1", "start_err_median_s", "end_err_median_s", "bounce_recall",
                "false_bounces_per_h", "idle_false_stretches", "idle_false_bounces")
STRETCH_HEAD = ("traces", "F1", "start", "end", "bounces", "false/h", "idle str.", "idle bnc.")


def stretch_table(scored: Scored, out: Out) -> None:
    out("stretches, bounces, idle (detector without the body weight; baseline: 0.6 BW threshold given it):")
    out(f"  {'':26}" + "".join(f"{h:>10}" for h in STRETCH_HEAD))
    for rate, items in _by_rate(scored).items():
        for who, tally in (("detector", _tally(items)), ("threshold baseline", _tally(items, baseline=True))):
            m = tally.metrics()
            cells = ["n/a" if who != "detector" and k.startswith(("bounce", "false", "idle_false_b")) else
                     _fmt(k, m[k]) for k in STRETCH_KEYS]
            out(f"  {rate + ' ' + who:26}" + "".join(f"{c:>10}" for c in cells))


BREATH_HEAD = ("holds", "exact", "+-1", "timer ex.", "timer +-1", "unsure", "mean err")


def breath_row(label: str, holds: list, out: Out) -> None:
    f = breath_figures(holds)
    mean = "n/a" if f["mean_error"] is None else f"{f['mean_error']:+.2f}"
    cells = [str(f["holds"]), pct(f["exact"]), pct(f["within1"]), pct(f["timer_exact"]),
             pct(f["timer_within1"]), pct(f["unsure"]), mean]
    out(f"  {label:26}" + "".join(f"{c:>10}" for c in cells))


def breath_tables(scored: Scored, out: Out) -> None:
    for rate, items in _by_rate(scored).items():
        holds = _tally(items).holds
        out(f"\nbreaths per matched hold, {rate} (timer: breaths = round(hold_s / 7 s) on the same hold):")
        out(f"  {'':26}" + "".join(f"{h:>10}" for h in BREATH_HEAD))
        breath_row("all holds", holds, out)
        for view, key in HOLD_VIEWS.items():
            for label, members in sorted(holds_by(holds, key).items()):
                breath_row(label if view != "marked" else f"marked {label}", members, out)


def slice_table(scored: Scored, out: Out) -> None:
    """Per slice and sway source, then per person whose feet the sway came from."""
    for title, key in (("slice and sway source", lambda info: f"{info['slice']} / {info['group']}"),
                       ("sway person", lambda info: info.get("person", "?"))):
        out(f"\nper {title} (both rates):")
        group_table(scored, key, out)


def group_table(scored: Scored, key: Callable[[dict[str, Any]], str], out: Out) -> None:
    out(f"  {'':26}" + "".join(f"{h:>10}" for h in ("traces", "F1", "br.exact", "br.+-1", "timer +-1",
                                                     "idle str.")))
    groups: dict[str, Scored] = {}
    for item in scored:
        groups.setdefault(key(item[2]), []).append(item)
    for label, items in sorted(groups.items()):
        m = _tally(items).metrics()
        cells = [str(m["traces"]), pct(m["stretch_f1"]), pct(m["breaths_exact"]), pct(m["breaths_within1"]),
                 pct(m["timer_within1"]), str(m["idle_false_stretches"])]
        out(f"  {label:26}" + "".join(f"{c:>10}" for c in cells))


def bar_table(scored: Scored, out: Out) -> bool:
    """DESIGN §6 per rate and for both; True when no bar is missed anywhere."""
    columns = {rate: _tally(items).metrics() for rate, items in _by_rate(scored).items()}
    out("\nbars (DESIGN §6):")
    out(f"  {'':32}{'bar':>8}" + "".join(f"{rate:>18}" for rate in columns) + "   both: n, 95 % interval")
    ok, pooled = True, columns["both rates"]
    for key, op, bar, label in BARS:
        cells = []
        for m in columns.values():
            verdict = verdicts(m)[key]
            ok = ok and verdict is not False
            mark = "n/a" if verdict is None else "PASS" if verdict else "FAIL"
            cells.append(f"{_fmt(key, m[key])} {mark}")
        shown = f"{op} {bar:g}" if not key.startswith(("clear", "middle", "sure", "unsure", "stretch_f1",
                                                        "bounce_r")) else f"{op} {100 * bar:g} %"
        out(f"  {label:32}{shown:>8}" + "".join(f"{c:>18}" for c in cells) + _interval(key, pooled))
    return ok


def _interval(key: str, m: dict[str, Any]) -> str:
    """How far the pooled share could move on another draw of the same size (Wilson, 95 %)."""
    n = m["counted"].get(key)
    if not n or m[key] is None:
        return ""
    lo, hi = wilson(m[key], n)
    return f"   n={n}, {100 * lo:.1f}-{100 * hi:.1f} %"


def report(scored: Scored, verbose: bool, out: Out) -> bool:
    if verbose:
        for score, _, _ in scored:
            if score.notes:
                out(f"{score.name}: " + "; ".join(score.notes))
    m = _tally(scored).metrics()
    out(f"\n{m['traces']} traces ({m['idle_traces']} idle), {m['true_stretches']} true stretches, "
        f"{m['holds_matched']} matched holds, {m['bounce_episodes']} bounce episodes, "
        f"{m['stretch_hours']:.2f} h of stretching\n")
    stretch_table(scored, out)
    breath_tables(scored, out)
    slice_table(scored, out)
    return bar_table(scored, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score the detector against the labelled corpus.")
    parser.add_argument("--quick", action="store_true", help="a small corpus in a temp dir (CI smoke)")
    parser.add_argument("--corpus", type=Path, action="append", default=None,
                        help=f"corpus folder (default {DEFAULT_CORPUS}); repeat to score several together")
    parser.add_argument("--part", choices=("test", "tune"), default="test",
                        help="which part to score (default test: the one the bars are judged on)")
    parser.add_argument("--rate", type=float, choices=(10.0, 80.0), default=None, help="only this rate")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss per trace")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stretchstep-corpus-") as tmp:
        folders = args.corpus or [Path(tmp) if args.quick else DEFAULT_CORPUS]
        missing = [f for f in folders if not list((f / args.part).glob("*.truth.json"))]
        if len(folders) > 1 and missing:  # one folder is built (seed 0); several are each a seed's
            print(f"accuracy: no {args.part} part in {missing[0]}: build it first with "
                  f"python bench/corpus.py {missing[0]} --seed N", file=sys.stderr)
            return 2
        truths = [p for folder in folders for p in ensure_corpus(folder, args.part, args.quick)]
        if args.rate is not None:
            truths = [p for p in truths if _rate_of(p) == args.rate]
        where = ", ".join(str(folder / args.part) for folder in folders)
        if not truths:
            print(f"no traces to score in {where}")
            return 0 if args.quick else 1
        scored = run(truths, args.jobs)
    print(f"part: {args.part} ({where})")
    ok = report(scored, args.verbose, print)
    print(f"\n{len(scored)} traces scored in {time.perf_counter() - started:.1f} s: "
          f"{'every bar met' if ok else 'some bars not met'}")
    return 0 if (ok or args.quick or args.part != "test") else 1


def _rate_of(truth_path: Path) -> float:
    return float(json.loads(truth_path.read_text(encoding="utf-8")).get("rate_hz") or 0.0)


if __name__ == "__main__":
    sys.exit(main())
