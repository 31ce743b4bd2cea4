"""History that answers "is it helping?": days, the pain log, export and the weekly report.

`HistoryContext` is what a reader of history needs besides the store (where kept traces are, where
days begin, the daily goal, how many routines were done, and the clock that says what "now" is):
the web app, the CLI and the report each get one, so they all cut days and count routines the
same way (and a test can set the time to 02:00, before a 04:00 day start, for all of them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from firmware.config import Config
from firmware.history.days import DayClock, parse_day_start
from firmware.history.export import (
    ImportRefused,
    export_data,
    export_events,
    export_traces,
    import_data,
    json_chunks,
    to_csv,
)
from firmware.history.export_file import ExportUnreadable, read_export
from firmware.history.pain import PainEntryMissing, PainLog
from firmware.history.report import render_report
from firmware.history.staged import mend_import
from firmware.history.summary import History, RoutinesDone, today_counts
from firmware.store import Store


def _no_goal() -> int:
    return 0


@dataclass(frozen=True)
class HistoryContext:
    data_dir: Path | None = None
    day_clock: DayClock = field(default_factory=DayClock)
    daily_goal: Callable[[], int] = _no_goal
    routines_done: RoutinesDone | None = None
    clock: Callable[[], float] = time.time


def history_context(cfg: Config, store: Store | None = None) -> HistoryContext:
    """The context every reader of history on this device uses, from the config; given the store,
    also the daily goal and the routines done (from firmware.routine, which keeps them)."""
    from firmware.routine.build import RoutineBook

    book = RoutineBook.from_config(cfg)
    if store is None:
        return HistoryContext(data_dir=cfg.history_dir(), day_clock=book.day_clock)
    return HistoryContext(data_dir=cfg.history_dir(), **book.history_hooks(store))


__all__ = ["DayClock", "ExportUnreadable", "History", "HistoryContext", "ImportRefused", "PainEntryMissing",
           "PainLog", "export_data", "export_events", "export_traces", "history_context", "import_data",
           "json_chunks", "mend_import", "parse_day_start", "read_export", "render_report", "to_csv",
           "today_counts"]
