"""Today's counts for the retained `…/today` topic, read from the history like /api/today.

Read from the store (not counted from the events the publisher saw) so the broker, the page
and the history always agree, also after a restart in the middle of the day. The routine's
counts come from the live status (`status["routine"]`, contract 4) when the routine has them.
"""

from __future__ import annotations

from typing import Any

STREAK_DAYS = 60


def streak(days: list[dict[str, Any]]) -> int:
    """Days in a row with at least one completed hold, ending today (or yesterday, so a streak
    does not read 0 in the morning before the day's first stretch). `days` oldest first."""
    held = [d["completed_holds"] > 0 for d in days]
    if held and not held[-1]:
        held.pop()
    count = 0
    for ok in reversed(held):
        if not ok:
            break
        count += 1
    return count


def today_counts(store: Any, status: dict[str, Any] | None = None,
                 now: float | None = None) -> dict[str, Any]:
    """{"date", "holds", "stretches", "bounces", "breaths", "routines", "goal", "streak"}."""
    today = store.today(now)
    routine = (status or {}).get("routine") or {}
    return {
        "date": today["date"],
        "holds": today["completed_holds"],
        "stretches": today["stretches"],
        "bounces": today["bounces"],
        "breaths": today["breaths"],
        "routines": routine.get("routines_today"),
        "goal": routine.get("goal"),
        "streak": streak(store.days(STREAK_DAYS, now)),
    }

