"""The stretching day: it starts at a configurable local time (04:00 by default), not midnight,
so a late-evening routine still counts for the day it belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_day_start(text: str) -> time:
    """'04:00' -> 04:00; ValueError with the allowed form otherwise."""
    match = _HHMM.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"day start must be a local time HH:MM from 00:00 to 23:59, got {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def valid_day_start(text: str) -> bool:
    try:
        parse_day_start(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class DayClock:
    start: time = time(4, 0)

    def day_of(self, wall: float) -> date:
        """The stretching day a unix time belongs to (local time)."""
        local = datetime.fromtimestamp(wall)
        day = local.date()
        return day - timedelta(days=1) if local.time() < self.start else day

    def bounds(self, day: date) -> tuple[float, float]:
        """[start, end) unix seconds of a stretching day."""
        begin = datetime.combine(day, self.start).timestamp()
        end = datetime.combine(day + timedelta(days=1), self.start).timestamp()
        return begin, end

    def key(self, wall: float) -> str:
        return self.day_of(wall).isoformat()

    def ends_at(self, wall: float) -> float:
        return self.bounds(self.day_of(wall))[1]
