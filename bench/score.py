"""Scoring analyze results against ground truth (issue 4's definitions, in one place).

- A detected stretch matches a true one when their [start, end] intervals overlap with
  IoU >= 0.5 (one-to-one, best overlaps first).
- Breaths are compared over matched holds.
- A bounce episode is flagged when a bounce event lies within 0.5 s before its start to 1 s
  after its end; a bounce event that flags no episode is a false bounce.
- False bounces are normalised by the hours of (true) stretching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Any

IOU_MIN = 0.5
BOUNCE_BEFORE_S = 0.5
BOUNCE_AFTER_S = 1.0

BARS = {
    "stretch_f1": (">=", 0.98),
    "start_err_median_s": ("<=", 0.5),
    "end_err_median_s": ("<=", 0.5),
    "breaths_exact": (">=", 0.90),
    "breaths_within1": (">=", 0.98),
    "bounce_recall": (">=", 0.95),
    "false_bounces_per_h": ("<=", 1.0),
    "idle_false_stretches": ("<=", 0),
    "idle_false_bounces": ("<=", 0),
}


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
    """Truth episodes the simulator never played: it switches overlays on in list order, so an
    episode listed after a later-starting one is skipped (it has ended by the time its turn
    comes) although the truth lists it. They are left out of recall and counted apart, so a
    corpus bug is visible instead of being charged to the detector."""
    return {k for k, ep in enumerate(episodes)
            if any(episodes[j]["t"] > ep.get("end", ep["t"]) for j in range(k))}


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
    breath_diffs: list[int] = field(default_factory=list)
    completed_ok: list[bool] = field(default_factory=list)
    episodes: int = 0
    flagged: int = 0
    false_bounces: int = 0
    stretch_s: float = 0.0
    unplayed: int = 0
    notes: list[str] = field(default_factory=list)


def score_trace(name: str, result: dict[str, Any], truth: dict[str, Any]) -> TraceScore:
    found, true = result["stretches"], truth.get("stretches", [])
    idle = bool(truth.get("idle", not true))
    sc = TraceScore(name, idle, found=len(found), true=len(true))
    sc.stretch_s = sum(t["end"] - t["start"] for t in true)
    for i, j in match_stretches(found, true):
        f, t = found[i], true[j]
        sc.matched += 1
        sc.start_errs.append(abs(f["start"] - t["start"]))
        sc.end_errs.append(abs(f["end"] - t["end"]))
        sc.completed_ok.append(bool(f["completed"]) == bool(t["completed"]))
        diff = int(f["breaths"]) - int(t["breaths"])
        sc.breath_diffs.append(diff)
        if diff:
            sc.notes.append(f"breaths {f['breaths']} vs {t['breaths']} in stretch at {t['start']:.1f}")
    matched_f = {i for i, _ in match_stretches(found, true)}
    for i, f in enumerate(found):
        if i not in matched_f:
            sc.notes.append(f"false stretch {f['start']:.1f}-{f['end']:.1f}")
    matched_t = {j for _, j in match_stretches(found, true)}
    for j, t in enumerate(true):
        if j not in matched_t:
            sc.notes.append(f"missed stretch {t['start']:.1f}-{t['end']:.1f}")
    episodes = truth.get("bounces", [])
    unplayed = unplayed_bounces(episodes)
    sc.unplayed = len(unplayed)
    episodes = [ep for k, ep in enumerate(episodes) if k not in unplayed]
    sc.episodes = len(episodes)
    used: set[int] = set()
    for ep in episodes:
        lo, hi = ep["t"] - BOUNCE_BEFORE_S, ep.get("end", ep["t"]) + BOUNCE_AFTER_S
        hit = [k for k, b in enumerate(result["bounces"]) if lo <= b["t"] <= hi]
        if hit:
            sc.flagged += 1
            used.update(hit)
        else:
            sc.notes.append(f"missed bounce at {ep['t']:.1f} ({ep.get('hz')} Hz, {ep.get('pp_kg')} kg)")
    for k, b in enumerate(result["bounces"]):
        if k not in used:
            sc.false_bounces += 1
            sc.notes.append(f"false bounce at {b['t']:.1f}")
    return sc


@dataclass
class Tally:
    """Sums of TraceScores and the bar metrics over them."""

    scores: list[TraceScore] = field(default_factory=list)

    def add(self, sc: TraceScore) -> None:
        self.scores.append(sc)

    def metrics(self) -> dict[str, float]:
        s = self.scores
        found = sum(x.found for x in s if not x.idle)
        true = sum(x.true for x in s)
        matched = sum(x.matched for x in s)
        precision = matched / found if found else 1.0
        recall = matched / true if true else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        starts = [e for x in s for e in x.start_errs]
        ends = [e for x in s for e in x.end_errs]
        diffs = [d for x in s for d in x.breath_diffs]
        episodes = sum(x.episodes for x in s)
        hours = sum(x.stretch_s for x in s) / 3600.0
        return {
            "traces": len(s),
            "true_stretches": true,
            "found_stretches": found,
            "stretch_precision": precision,
            "stretch_recall": recall,
            "stretch_f1": f1,
            "start_err_median_s": median(starts) if starts else 0.0,
            "end_err_median_s": median(ends) if ends else 0.0,
            "holds_matched": len(diffs),
            "breaths_exact": sum(1 for d in diffs if d == 0) / len(diffs) if diffs else 1.0,
            "breaths_within1": sum(1 for d in diffs if abs(d) <= 1) / len(diffs) if diffs else 1.0,
            "completed_agree": (sum(ok for x in s for ok in x.completed_ok) / len(diffs)) if diffs else 1.0,
            "bounce_episodes": episodes,
            "bounce_unplayed": sum(x.unplayed for x in s),
            "bounce_recall": sum(x.flagged for x in s) / episodes if episodes else 1.0,
            "false_bounces": sum(x.false_bounces for x in s if not x.idle),
            "stretch_hours": hours,
            "false_bounces_per_h": (sum(x.false_bounces for x in s if not x.idle) / hours) if hours else 0.0,
            "idle_traces": sum(1 for x in s if x.idle),
            "idle_false_stretches": sum(x.found for x in s if x.idle),
            "idle_false_bounces": sum(x.false_bounces for x in s if x.idle),
        }


def verdicts(metrics: dict[str, float]) -> dict[str, bool]:
    """PASS/FAIL per bar."""
    out = {}
    for key, (op, bar) in BARS.items():
        value = metrics[key]
        out[key] = value >= bar if op == ">=" else value <= bar
    return out
