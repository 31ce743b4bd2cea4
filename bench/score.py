"""Scoring analyze results against ground truth (the benchmark's definitions, in one place).

- A detected stretch matches a true one when their [start, end] intervals overlap with
  IoU >= 0.5 (one-to-one, best overlaps first).
- Breaths are compared over matched holds, each hold filed by its press-to-sway ratio (the
  truth's mean press over the breathing-band peak to peak of the sway alone under it, DESIGN
  §2), its breath cycle and its let-off; beside each count, the plain timer's (hold / 7 s) on
  the same hold. A stretch without `breaths_sure` counts as sure.
- A bounce episode is flagged when a bounce event lies within 0.5 s before its start to 1 s
  after its end; a bounce event that flags no episode is a false bounce, normalised by the
  hours of (true) stretching.
- The bars are DESIGN §6's; a bar over a bin with no holds is not judged (shown as n/a).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from bench.baseline import plain_timer

IOU_MIN = 0.5
BOUNCE_BEFORE_S = 0.5
BOUNCE_AFTER_S = 1.0

Band = tuple[float, float, str]
RATIO_BINS: tuple[Band, ...] = ((0.0, 1.0, "ratio < 1"), (1.0, 1.5, "ratio 1-1.5"),
                                (1.5, math.inf, "ratio >= 1.5"))
CYCLE_BANDS: tuple[Band, ...] = ((0.0, 6.0, "cycle 4-6 s"), (6.0, 9.0, "cycle 6-9 s"),
                                 (9.0, math.inf, "cycle 9-12 s"))
LET_OFF_BANDS: tuple[Band, ...] = ((0.0, 0.2, "let-off < 20 %"), (0.2, math.inf, "let-off >= 20 %"))


def band_of(value: float | None, bands: tuple[Band, ...]) -> str | None:
    if value is None:
        return None
    return next((label for lo, hi, label in bands if lo <= value < hi), None)


def iou(a0: float, a1: float, b0: float, b1: float) -> float:
    inter = min(a1, b1) - max(a0, b0)
    if inter <= 0:
        return 0.0
    union = max(a1, b1) - min(a0, b0)
    return inter / union if union > 0 else 0.0


def match_stretches(found: list[dict[str, Any]], truth: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """One-to-one (found index, truth index) pairs with IoU >= 0.5, best overlaps first."""
    pairs = []
    for i, f in enumerate(found):
        for j, t in enumerate(truth):
            v = iou(f["start"], f["end"], t["start"], t["end"])
            if v >= IOU_MIN:
                pairs.append((v, i, j))
    pairs.sort(reverse=True)
    used_f: set[int] = set()
    used_t: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
            out.append((i, j))
    return sorted(out, key=lambda p: p[1])


def unplayed_bounces(episodes: list[dict[str, Any]]) -> set[int]:
    """Truth episodes an old simulator never played (an episode listed after a later-starting
    one); left out of recall and counted apart, so a corpus bug is not charged to the detector."""
    return {k for k, ep in enumerate(episodes)
            if any(episodes[j]["t"] > ep.get("end", ep["t"]) for j in range(k))}


def press_to_sway(stretch: dict[str, Any]) -> float | None:
    """The hold's press-to-sway ratio from its truth; None without breaths or without a
    recorded sway (an old truth file); infinite when there was no sway at all."""
    if not stretch.get("breaths") or stretch.get("sway_pp_kg") is None:
        return None
    pp = stretch["sway_pp_kg"]
    return stretch["press_kg"] / pp if pp > 0 else math.inf


@dataclass
class HoldScore:
    """One matched hold: the counter's and the timer's breaths against the truth's."""

    found: int
    true: int
    timer: int
    sure: bool = True
    ratio: float | None = None
    cycle_s: float | None = None
    let_off: float | None = None

    @property
    def error(self) -> int:
        return self.found - self.true

    @property
    def timer_error(self) -> int:
        return self.timer - self.true


@dataclass
class TraceScore:
    """Counts for one trace; `Tally.add` sums them."""

    name: str
    idle: bool
    found: int = 0
    true: int = 0
    matched: int = 0
    start_errs: list[float] = field(default_factory=list)
    end_errs: list[float] = field(default_factory=list)
    holds: list[HoldScore] = field(default_factory=list)
    completed_ok: list[bool] = field(default_factory=list)
    episodes: int = 0
    flagged: int = 0
    false_bounces: int = 0
    stretch_s: float = 0.0
    unplayed: int = 0
    notes: list[str] = field(default_factory=list)


def score_trace(name: str, result: dict[str, Any], truth: dict[str, Any]) -> TraceScore:
    """Score one analyze result (or a baseline's, same shape) against its truth."""
    found, true = result["stretches"], truth.get("stretches", [])
    idle = bool(truth.get("idle", not true))
    sc = TraceScore(name, idle, found=len(found), true=len(true))
    sc.stretch_s = sum(t["end"] - t["start"] for t in true)
    pairs = match_stretches(found, true)
    for i, j in pairs:
        f, t = found[i], true[j]
        sc.matched += 1
        sc.start_errs.append(abs(f["start"] - t["start"]))
        sc.end_errs.append(abs(f["end"] - t["end"]))
        sc.completed_ok.append(bool(f["completed"]) == bool(t["completed"]))
        hold = HoldScore(int(f["breaths"]), int(t["breaths"]), plain_timer(float(f["hold_s"])),
                         sure=bool(f.get("breaths_sure", True)), ratio=press_to_sway(t),
                         cycle_s=t.get("cycle_s"), let_off=t.get("let_off"))
        sc.holds.append(hold)
        if hold.error:
            sc.notes.append(f"breaths {f['breaths']} vs {t['breaths']} in stretch at {t['start']:.1f}"
                            f" (ratio {hold.ratio if hold.ratio is None else round(hold.ratio, 2)})")
    matched_f, matched_t = {i for i, _ in pairs}, {j for _, j in pairs}
    sc.notes += [f"false stretch {f['start']:.1f}-{f['end']:.1f}"
                 for i, f in enumerate(found) if i not in matched_f]
    sc.notes += [f"missed stretch {t['start']:.1f}-{t['end']:.1f}"
                 for j, t in enumerate(true) if j not in matched_t]
    _score_bounces(sc, result.get("bounces", []), truth.get("bounces", []))
    return sc


def _score_bounces(sc: TraceScore, found: list[dict[str, Any]], episodes: list[dict[str, Any]]) -> None:
    unplayed = unplayed_bounces(episodes)
    sc.unplayed = len(unplayed)
    episodes = [ep for k, ep in enumerate(episodes) if k not in unplayed]
    sc.episodes = len(episodes)
    used: set[int] = set()
    for ep in episodes:
        lo, hi = ep["t"] - BOUNCE_BEFORE_S, ep.get("end", ep["t"]) + BOUNCE_AFTER_S
        hit = [k for k, b in enumerate(found) if lo <= b["t"] <= hi]
        if hit:
            sc.flagged += 1
            used.update(hit)
        else:
            sc.notes.append(f"missed bounce at {ep['t']:.1f} ({ep.get('hz')} Hz, {ep.get('pp_kg')} kg)")
    for k, b in enumerate(found):
        if k not in used:
            sc.false_bounces += 1
            sc.notes.append(f"false bounce at {b['t']:.1f}")


def breath_figures(holds: list[HoldScore]) -> dict[str, float | None]:
    """Exact / within +-1 for the counter and the plain timer, and the share marked unsure."""
    n = len(holds)

    def share(ok: Callable[[HoldScore], bool]) -> float | None:
        return sum(1 for h in holds if ok(h)) / n if n else None

    return {"holds": n, "exact": share(lambda h: h.error == 0), "within1": share(lambda h: abs(h.error) <= 1),
            "timer_exact": share(lambda h: h.timer_error == 0),
            "timer_within1": share(lambda h: abs(h.timer_error) <= 1),
            "unsure": share(lambda h: not h.sure),
            "mean_error": sum(h.error for h in holds) / n if n else None}


def holds_by(holds: Iterable[HoldScore],
             key: Callable[[HoldScore], str | None]) -> dict[str, list[HoldScore]]:
    out: dict[str, list[HoldScore]] = {}
    for h in holds:
        label = key(h)
        if label is not None:
            out.setdefault(label, []).append(h)
    return out


HOLD_VIEWS: dict[str, Callable[[HoldScore], str | None]] = {
    "press-to-sway": lambda h: band_of(h.ratio, RATIO_BINS) if h.true else "no breaths",
    "cycle": lambda h: band_of(h.cycle_s, CYCLE_BANDS),
    "let-off": lambda h: band_of(h.let_off, LET_OFF_BANDS),
    "marked": lambda h: "sure" if h.sure else "unsure",
}


@dataclass
class Tally:
    """Sums of TraceScores and the bar metrics over them."""

    scores: list[TraceScore] = field(default_factory=list)

    def add(self, sc: TraceScore) -> None:
        self.scores.append(sc)

    @property
    def holds(self) -> list[HoldScore]:
        return [h for x in self.scores for h in x.holds]

    def metrics(self) -> dict[str, Any]:
        s = self.scores
        found = sum(x.found for x in s if not x.idle)
        true = sum(x.true for x in s)
        matched = sum(x.matched for x in s)
        precision = matched / found if found else 1.0
        recall = matched / true if true else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        starts = [e for x in s for e in x.start_errs]
        ends = [e for x in s for e in x.end_errs]
        holds = self.holds
        by_ratio = holds_by(holds, HOLD_VIEWS["press-to-sway"])
        every = breath_figures(holds)
        clear = breath_figures(by_ratio.get("ratio >= 1.5", []))
        middle = breath_figures(by_ratio.get("ratio 1-1.5", []))
        sure = breath_figures([h for h in holds if h.sure])
        low = breath_figures(by_ratio.get("ratio < 1", []))
        episodes = sum(x.episodes for x in s)
        hours = sum(x.stretch_s for x in s) / 3600.0
        false_bounces = sum(x.false_bounces for x in s if not x.idle)
        return {
            "traces": len(s), "true_stretches": true, "found_stretches": found,
            "stretch_precision": precision, "stretch_recall": recall, "stretch_f1": f1,
            "start_err_median_s": median(starts) if starts else 0.0,
            "end_err_median_s": median(ends) if ends else 0.0,
            "holds_matched": len(holds),
            "breaths_exact": every["exact"], "breaths_within1": every["within1"],
            "timer_exact": every["timer_exact"], "timer_within1": every["timer_within1"],
            "clear_exact": clear["exact"], "clear_within1": clear["within1"],
            "middle_within1": middle["within1"],
            "sure_exact": sure["exact"], "unsure_below1": low["unsure"],
            "completed_agree": (sum(ok for x in s for ok in x.completed_ok) / len(holds)) if holds else 1.0,
            "bounce_episodes": episodes, "bounce_unplayed": sum(x.unplayed for x in s),
            "bounce_recall": sum(x.flagged for x in s) / episodes if episodes else 1.0,
            "false_bounces": false_bounces, "stretch_hours": hours,
            "false_bounces_per_h": false_bounces / hours if hours else 0.0,
            "idle_traces": sum(1 for x in s if x.idle),
            "idle_false_stretches": sum(x.found for x in s if x.idle),
            "idle_false_bounces": sum(x.false_bounces for x in s if x.idle),
            "counted": {"clear_exact": clear["holds"], "clear_within1": clear["holds"],
                        "middle_within1": middle["holds"], "sure_exact": sure["holds"],
                        "unsure_below1": low["holds"], "bounce_recall": episodes},
        }


def wilson(share: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson interval of a share seen in n trials. A bin of 60 holds at 90 % spans
    about 80-95 %: a bar missed or met by less than that is within the corpus's own noise, and
    the report says so rather than letting a lucky draw pass for a result."""
    if n <= 0:
        return 0.0, 1.0
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


# DESIGN §6, in the metrics' names: (metric, op, bar, what it says).
BARS: tuple[tuple[str, str, float, str], ...] = (
    ("stretch_f1", ">=", 0.98, "stretch F1"),
    ("start_err_median_s", "<=", 0.5, "start error, median"),
    ("end_err_median_s", "<=", 0.5, "end error, median"),
    ("clear_exact", ">=", 0.90, "breaths exact, ratio >= 1.5"),
    ("clear_within1", ">=", 0.98, "breaths +-1, ratio >= 1.5"),
    ("middle_within1", ">=", 0.90, "breaths +-1, ratio 1-1.5"),
    ("sure_exact", ">=", 0.95, "breaths exact when marked sure"),
    ("unsure_below1", ">=", 0.80, "marked unsure, ratio < 1"),
    ("bounce_recall", ">=", 0.95, "bounce episodes flagged"),
    ("false_bounces_per_h", "<=", 1.0, "false bounces per hour"),
    ("idle_false_stretches", "<=", 0, "stretches on idle traces"),
    ("idle_false_bounces", "<=", 0, "bounces on idle traces"),
)


def verdicts(metrics: dict[str, Any]) -> dict[str, bool | None]:
    """PASS (True) / FAIL (False) per bar; None where there was nothing to judge."""
    out: dict[str, bool | None] = {}
    for key, op, bar, _ in BARS:
        value = metrics[key]
        out[key] = None if value is None else value >= bar if op == ">=" else value <= bar
    return out
