"""Which day a moment belongs to, when the day starts at `day_start` rather than midnight.

People stretch late in the evening and early in the morning; a stretch at 00:30 belongs to the
evening before, not to a new day that has barely begun. So every daily figure (history, streak,
pain log parts, the weekly report) cuts days at one configurable local time (04:00 by default),
and all of them ask this one class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

PARTS = ("morning", "afternoon", "evening")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")   # a day as the API and the trace files name it
NOON = time(12, 0)
EVENING = time(18, 0)


def parse_day_start(text: str) -> int:
    """'04:00' -> minutes after midnight; ValueError says what is allowed."""
    hours, sep, minutes = text.partition(":")
    try:
        h, m = int(hours), int(minutes)
    except ValueError:
        h = m = -1
    if not sep or not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"day start must be a local time HH:MM from 00:00 to 23:59, got {text!r}")
    return h * 60 + m


@dataclass(frozen=True)
class DayClock:
    """Local days that begin `start_min` minutes after midnight."""

    start_min: int = 4 * 60

    @property
    def offset(self) -> timedelta:
        return timedelta(minutes=self.start_min)

    def day_of(self, wall: float) -> date:
        """The day a unix time belongs to."""
        return (datetime.fromtimestamp(wall) - self.offset).date()

    def bounds(self, day: date) -> tuple[float, float]:
        """[start, end) unix seconds of `day` (a DST change makes a day 23 or 25 h long)."""
        start = datetime.combine(day, time()) + self.offset
        end = datetime.combine(day + timedelta(days=1), time()) + self.offset
        return start.timestamp(), end.timestamp()

    def part_of(self, wall: float) -> str:
        """morning (day start to noon), afternoon (noon to 18:00) or evening (to the next day start)."""
        moment = datetime.fromtimestamp(wall)
        day_start = datetime.combine(self.day_of(wall), time()) + self.offset
        noon = datetime.combine(day_start.date(), NOON)
        evening = datetime.combine(day_start.date(), EVENING)
        if moment < max(noon, day_start):
            return "morning"
        if moment < max(evening, day_start):
            return "afternoon"
        return "evening"

    def last_days(self, count: int, now: float) -> list[date]:
        """The `count` days ending with today, oldest first."""
        today = self.day_of(now)
        return [today - timedelta(days=back) for back in range(count - 1, -1, -1)]
