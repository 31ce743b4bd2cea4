"""Daily history that answers "is it helping?": what was done each day, beside the pain logged.

Per day: routines against the goal, holds (completed), clean and bounced stretches, time held,
breaths per hold, holds per slot (leg and knee), and the day's mean pain and stiffness. Across
days: the streak of days that met the goal; per side and knee, the hold load as a share of the
standing load just before (the lever makes both about half the body weight, so their ratio is
what shows a tighter side loosening); and mean pain on days the goal was met against days it
was not. Days are cut by `DayClock`, the same as the routine and the pain log.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from firmware.history.days import DayClock
from firmware.store import Store

MAX_DAYS = 366
# Walls of routines completed in [start, end): supplied by the routine package.
RoutinesDone = Callable[[float, float], Sequence[float]]


def today_counts(store: Store, day_clock: DayClock, now: float | None = None) -> dict[str, Any]:
    """Counts for the stretching day of `now` (default: the wall clock), cut by `day_clock`.

    Why the caller's DayClock and not midnight: at 02:00 the stretches of the evening before
    are still "today" on the History page, in MQTT's retained counts and in the report;
    /api/today must say the same, so every reader cuts days with the one configured clock."""
    day = day_clock.day_of(time.time() if now is None else now)
    return {"date": day.isoformat(), **store.day_counts(*day_clock.bounds(day))}


def _mean(values: Sequence[float], digits: int = 1) -> float | None:
    return round(sum(values) / len(values), digits) if values else None


@dataclass
class _Day:
    stretches: int = 0
    holds: int = 0
    clean: int = 0
    bounced: int = 0
    hold_s: float = 0.0
    routines: int = 0

    def __post_init__(self) -> None:
        self.breaths: list[int] = []
        self.pain: list[int] = []
        self.stiffness: list[int] = []
        self.per_slot: dict[str, dict[str, int]] = defaultdict(lambda: {"holds": 0, "clean": 0, "bounced": 0})
        self.shares: dict[tuple[str, str], list[float]] = defaultdict(list)


class History:
    """Daily figures from the store. `goal` is routines per day (0: no goal set)."""

    def __init__(self, store: Store, clock: DayClock | None = None, *, goal: int = 0,
                 routines_done: RoutinesDone | None = None) -> None:
        self.store = store
        self.clock = clock or DayClock()
        self.goal = goal
        self.routines_done = routines_done

    def report(self, days: int, now: float) -> dict[str, Any]:
        """GET /api/history: {"days": [...oldest first], "streak", "trends", "pain_by_goal", "goal"}."""
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise ValueError(f"days must be a whole number from 1 to {MAX_DAYS}, got {days!r}")
        span = self.clock.last_days(days, now)
        buckets = self._collect(span)
        rows = [self._day_row(d, buckets[d]) for d in span]
        return {"goal": self.goal, "days": rows, "streak": self.streak(now),
                "trends": self._trends(span, buckets), "pain_by_goal": pain_by_goal(rows)}

    def streak(self, now: float) -> int:
        """Days in a row meeting the goal, ending today (or yesterday, while today is still open)."""
        if self.goal <= 0:
            return 0
        count, day = 0, self.clock.day_of(now)
        span = self.clock.last_days(MAX_DAYS, now)
        buckets = self._collect(span)
        for back, d in enumerate(reversed(span)):
            if buckets[d].routines >= self.goal:
                count += 1
            elif not (back == 0 and d == day):
                break
        return count

    # --- gathering ------------------------------------------------------------------------
    def _collect(self, span: list[date]) -> dict[date, _Day]:
        start, _ = self.clock.bounds(span[0])
        _, end = self.clock.bounds(span[-1])
        buckets: dict[date, _Day] = defaultdict(_Day)
        conn = self.store.connection()
        for row in conn.execute(
                "SELECT wall, leg, knee, hold_s, breaths, bounces, completed, peak_kg, data FROM stretches"
                " WHERE wall >= ? AND wall < ?", (start, end)):
            self._add_stretch(buckets[self.clock.day_of(row["wall"])], row)
        for row in conn.execute("SELECT wall, pain, stiffness FROM pain_log WHERE wall >= ? AND wall < ?",
                                (start, end)):
            day = buckets[self.clock.day_of(row["wall"])]
            day.pain.append(row["pain"])
            if row["stiffness"] is not None:
                day.stiffness.append(row["stiffness"])
        if self.routines_done is not None:
            for wall in self.routines_done(start, end):
                buckets[self.clock.day_of(wall)].routines += 1
        return buckets

    @staticmethod
    def _add_stretch(day: _Day, row: Any) -> None:
        day.stretches += 1
        bounced = row["bounces"] > 0
        day.bounced += bounced
        hold_s = row["hold_s"] or 0.0
        day.hold_s += hold_s
        slot = f"{row['leg'] or 'unknown'}-{row['knee'] or 'unknown'}"
        if row["completed"]:
            day.holds += 1
            day.per_slot[slot]["holds"] += 1
            if not bounced:
                day.clean += 1
                day.per_slot[slot]["clean"] += 1
        if bounced:
            day.per_slot[slot]["bounced"] += 1
        if hold_s > 0:
            day.breaths.append(row["breaths"])
        standing = json.loads(row["data"] or "{}").get("standing_kg")
        if row["completed"] and standing and row["peak_kg"] and row["leg"] and row["knee"]:
            day.shares[(row["leg"], row["knee"])].append(row["peak_kg"] / standing)

    def _day_row(self, d: date, b: _Day) -> dict[str, Any]:
        return {"day": d.isoformat(), "routines": b.routines, "goal": self.goal,
                "goal_met": self.goal > 0 and b.routines >= self.goal,
                "stretches": b.stretches, "holds": b.holds, "clean": b.clean, "bounced": b.bounced,
                "hold_s": round(b.hold_s, 1), "breaths_per_hold": _mean(b.breaths),
                "pain": _mean(b.pain), "stiffness": _mean(b.stiffness),
                "per_slot": {k: dict(v) for k, v in sorted(b.per_slot.items())}}

    @staticmethod
    def _trends(span: list[date], buckets: dict[date, _Day]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """{side: {knee: [{"day", "share", "holds"}]}}: only days with such holds (gaps stay gaps)."""
        out: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for d in span:
            for (leg, knee), shares in sorted(buckets[d].shares.items()):
                out.setdefault(leg, {}).setdefault(knee, []).append(
                    {"day": d.isoformat(), "share": _mean(shares, 3), "holds": len(shares)})
        return out


def pain_by_goal(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean pain on days the goal was met vs days it was not (only days with pain logged)."""
    out = {}
    for key, met in (("goal_met", True), ("goal_missed", False)):
        pains = [r["pain"] for r in rows if r["goal_met"] is met and r["pain"] is not None]
        out[key] = {"days": len(pains), "pain": _mean(pains)}
    return out
