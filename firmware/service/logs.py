"""Logging for the service's processes: stdlib logging to stderr, journald-friendly.

Under systemd (`$JOURNAL_STREAM` set) each line starts with the syslog priority `<N>` that
journald reads as the level, and no time stamp (the journal has its own). A fault that repeats
(a sensor unplugged for an hour) is logged through `RateLimited`, so the log says it once and
then how often it happened, not 80 times a second.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable

PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class _JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{PRIORITY.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in text.splitlines())


def setup_logging(role: str, level: int = logging.INFO) -> None:
    """One stderr handler for this process; `role` (sampler, web, supervisor) names its lines."""
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(_JournalFormatter(f"{role} %(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {role} %(name)s: %(message)s",
                                               "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" on every burst


class RateLimited:
    """Logs a repeating message at most once per `every_s`, saying how many were held back."""

    def __init__(self, log: logging.Logger, every_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log, self.every_s, self.clock = log, every_s, clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def __call__(self, level: int, key: str, message: str, *args: object) -> bool:
        """Log `message % args` unless `key` was logged less than `every_s` ago; True if logged."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every_s:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        held = self._held.pop(key, 0)
        self._last[key] = now
        suffix = f" (and {held} more like it since the last report)" if held else ""
        self.log.log(level, message + suffix, *args)
        return True
