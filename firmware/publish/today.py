"""Today's counts for the retained `…/today` topic, from the same History the page shows.

Read from the store through `firmware.history.History` (not counted from the events the
publisher saw) so the broker, /api/history and the weekly report agree, also after a restart in
the middle of the day, and the day is cut where the rest of the device cuts it (DayClock).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from firmware.history import History, HistoryContext


class TodayCounts:
    """`counts(status)` -> {"date", "holds", "stretches", "bounced", "hold_s", "routines", "goal",
    "streak"}; `day()` -> the current day's date, so the publisher knows when one begins.
    `settle` runs first (the service passes the store writer's flush: the stretch just ended is
    in the history before it is counted)."""

    def __init__(self, store: Any, context: HistoryContext, settle: Callable[[], Any] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.context, self.settle, self.clock = store, context, settle, clock

    def day(self) -> str:
        return self.context.day_clock.day_of(self.clock()).isoformat()

    def __call__(self, status: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.settle is not None:
            self.settle()
        c = self.context
        figures = History(self.store, c.day_clock, goal=c.daily_goal(),
                          routines_done=c.routines_done).report(1, self.clock())
        today = figures["days"][-1]
        return {"date": today["day"], "holds": today["holds"], "stretches": today["stretches"],
                "bounced": today["bounced"], "hold_s": today["hold_s"], "routines": today["routines"],
                "goal": today["goal"] or None, "streak": figures["streak"]}
