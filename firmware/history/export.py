"""Export the history (every stretch, the pain log, the profiles and their routines, the sessions'
events and kept force traces) as JSON or CSV, and import a JSON export.

Why both: JSON is the faithful copy (every column of sessions, stretches, events, pain, profiles,
device settings, routines and their judged holds, and the kept trace files, so `import` into a
fresh data dir gives back the same history, streaks, "routines vs goal" and each session's force
plot, which the round-trip tests check); CSV is what
a person opens in a spreadsheet or hands to a physiotherapist, one row per stretch or pain entry
with the day and slot spelt out.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sqlite3
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from firmware.history.days import DayClock
from firmware.history.export_file import ExportUnreadable
from firmware.history.kept import KeptTrace, TraceRefused, kept_traces, trace_json
from firmware.history.pain import PainLog
from firmware.history.staged import STAGED_KEY, discard, move_staged, record_staged, stage_traces
from firmware.store import STRETCH_COLUMNS, Store

FORMAT = "stretchstep-export"
VERSION = 3                 # 3: the sessions' events and kept traces besides version 2's
READS = (1, 2, 3)           # 2: profiles, settings, routines and routine holds besides version 1's
SESSION_COLUMNS = ("id", "source", "started", "ended")
EVENT_COLUMNS = ("id", "session_id", "kind", "t", "wall", "data")
PROFILE_COLUMNS = ("id", "name", "tighter_side", "protocol", "daily_goal", "body_kg", "target_s",
                   "target_breaths", "stand_kg", "created")
ROUTINE_COLUMNS = ("id", "profile_id", "day", "seq", "protocol", "tighter_side", "slots", "done_slots",
                   "status", "started", "updated", "ended")
HOLD_COLUMNS = ("id", "routine_id", "wall", "end_t", "slot", "leg", "knee", "rep", "outcome", "hold_s",
                "breaths", "bounces")
NOT_EXPORTED = ("revision", STAGED_KEY)  # "reload", and an import's own record: a fresh store starts its own
PAIN_COLUMNS = ("id", "wall", "day", "part", "pain", "stiffness", "note", "edited")
CSV_COLUMNS = ("type", "id", "day", "time", "leg", "knee", "rep", "hold_s", "breaths", "breaths_sure",
               "bounces", "completed", "peak_kg", "duration_s", "part", "pain", "stiffness", "note")


class ImportRefused(ValueError):
    """The file is not a stretchstep export, or the store already holds history."""


class ImportUnfinished(ImportRefused):
    """The rows are in but the traces wait in their staging folder (`staged.mend_import` moves them)."""


def export_data(store: Store, clock: DayClock, since: float | None = None) -> dict[str, Any]:
    """Everything from `since` (unix s; None: all), oldest first; profiles and settings whole."""
    lo = since if since is not None else float("-inf")
    conn = store.connection()
    stretches = []
    for row in conn.execute(f"SELECT {', '.join(STRETCH_COLUMNS)} FROM stretches WHERE wall >= ?"
                            " ORDER BY wall, id", (lo,)):
        item = dict(row)
        item["data"] = json.loads(item["data"] or "{}")
        item["day"] = clock.day_of(item["wall"]).isoformat()
        stretches.append(item)
    sessions = _rows(conn, "sessions", SESSION_COLUMNS, "COALESCE(ended, started) >= ?", lo)
    routines = _rows(conn, "routines", ROUTINE_COLUMNS, "updated >= ?", lo)
    for r in routines:
        r["done_slots"] = json.loads(r["done_slots"] or "[]")
    holds = _rows(conn, "routine_holds", HOLD_COLUMNS,
                  "routine_id IN (SELECT id FROM routines WHERE updated >= ?)", lo)
    settings = {r["key"]: json.loads(r["value"]) for r in conn.execute("SELECT key, value FROM settings"
                                                                         " ORDER BY key")
                if r["key"] not in NOT_EXPORTED}
    return {"format": FORMAT, "version": VERSION,
            "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "day_start_min": clock.start_min, "sessions": sessions, "stretches": stretches,
            "pain": PainLog(store, clock).entries(since=since, limit=10**9),
            "profiles": _rows(conn, "profiles", PROFILE_COLUMNS, "1 = 1"), "settings": settings,
            "routines": routines, "routine_holds": holds}


def _rows(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], where: str,
          *args: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}"
                                          " ORDER BY id", args)]


ENCODER = json.JSONEncoder(indent=1, allow_nan=False, default=str)


def export_events(store: Store, since: float | None = None, page: int = 2000) -> Iterator[dict[str, Any]]:
    """The events from `since` on, oldest first, read a page at a time (a year is some 10^5:
    as one list of dicts they cost a Pi 100 MB). Only those already written when it starts."""
    lo = since if since is not None else float("-inf")
    conn = store.connection()
    last, top = 0, conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
    while last < top:
        rows = conn.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE id > ? AND id <= ?"
                            " AND wall >= ? ORDER BY id LIMIT ?", (last, top, lo, page)).fetchall()
        if not rows:
            return
        for row in rows:
            yield {**dict(row), "data": json.loads(row["data"] or "{}")}
        last = rows[-1]["id"]


def export_traces(data: dict[str, Any], data_dir: str | Path | None, clock: DayClock,
                  since: float | None = None) -> list[KeptTrace]:
    """The kept trace files of the exported sessions, from the day of `since` on."""
    return kept_traces(data_dir, (s["id"] for s in data["sessions"]),
                       clock.day_of(since) if since is not None else None)


def json_chunks(data: dict[str, Any], events: Iterable[dict[str, Any]],
                traces: Iterable[KeptTrace]) -> Iterator[str]:
    """The JSON export (format 3), piece by piece, for a web response or a file to stream: `data`
    as ENCODER writes it (less its closing brace), then "events" a page at a time, then
    "traces", each file read and encoded a chunk at a time. Nothing is joined whole."""
    yield from _grouped(_open_ended(ENCODER.iterencode(data)))
    yield ',\n "events": ['
    yield from _grouped(("," if n else "") + "\n  " + json.dumps(e, allow_nan=False, default=str)
                        for n, e in enumerate(events))
    yield '\n ],\n "traces": ['
    first = True
    for trace in traces:
        for n, piece in enumerate(trace_json(trace)):
            yield ("\n  " if first else ",\n  ") + piece if n == 0 else piece
            first = False
    yield "\n ]\n}\n"


def _open_ended(chunks: Iterable[str]) -> Iterator[str]:
    """An indented dict's JSON without its closing "\n}" (the export goes on after it)."""
    last: deque[str] = deque()
    for chunk in chunks:
        last.append(chunk)
        if len(last) > 2:
            yield last.popleft()
    assert "".join(last) == "\n}", last


def _grouped(pieces: Iterable[str], size: int = 64 * 1024) -> Iterator[str]:
    """Small pieces joined into about `size` characters (a write per piece would be slow)."""
    group: list[str] = []
    length = 0
    for piece in pieces:
        group.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(group)
            group, length = [], 0
    if group:
        yield "".join(group)


def csv_rows(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for s in data["stretches"]:
        extra = s["data"]
        yield {"type": "stretch", "id": s["id"], "day": s["day"], "time": _local(s["wall_start"]),
               "leg": s["leg"], "knee": s["knee"], "rep": s["rep"], "hold_s": _ms(s["hold_s"]),
               "breaths": s["breaths"], "breaths_sure": extra.get("breaths_sure"),
               "bounces": s["bounces"], "completed": bool(s["completed"]), "peak_kg": s["peak_kg"],
               "duration_s": _ms(s["duration_s"])}
    for p in data["pain"]:
        yield {"type": "pain", "id": p["id"], "day": p["day"], "time": _local(p["wall"]), "part": p["part"],
               "pain": p["pain"], "stiffness": p["stiffness"], "note": p["note"]}


def to_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(data):
        writer.writerow(row)
    return out.getvalue()


def _ms(seconds: float | None) -> float | None:
    """To the millisecond: a spreadsheet cell shows 42.244, not the float noise of 42.24399999999999."""
    return None if seconds is None else round(seconds, 3)


def _local(wall: float | None) -> str:
    return "" if wall is None else datetime.fromtimestamp(wall).isoformat(timespec="seconds")


def import_data(store: Store, data: Any, data_dir: str | Path | None = None) -> dict[str, int]:
    """Load a JSON export into a store that holds no history yet; returns the rows (and trace
    files) added. The traces go to `data_dir/traces/` (default: the store's folder, where the
    sampler keeps them): staged, committed with the rows, then moved (`staged.py` says why; call
    `staged.mend_import` first, as `stretchstep import` does, to finish or undo a killed one).

    The export's profiles replace the store's (an empty data dir may hold the config's first
    profile, which has no history yet) and its settings (active profile, sounds) are put back; a
    version 1 export has neither, and the store's own profiles stay; before version 3 there are
    no events or traces."""
    settings = _checked(store, data)
    folder = data_dir if data_dir is not None else store.path.parent
    conn = store.connection()
    conn.execute("PRAGMA synchronous = FULL")     # the commit on disk before a trace moves
    staged = None
    try:
        conn.execute("BEGIN IMMEDIATE")
        added = _insert_all(conn, data, settings)
        sessions = {r["id"] for r in data.get("sessions", []) if isinstance(r.get("id"), int)}
        try:
            staged = stage_traces(folder, data.get("traces", []), sessions)
        except (TraceRefused, ExportUnreadable) as exc:
            raise ImportRefused(str(exc)) from None
        added["traces"] = len(staged.names) if staged else 0
        if staged:
            record_staged(conn, staged)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if staged:
            discard(staged.folder)
        raise
    finally:
        conn.execute("PRAGMA synchronous = NORMAL")
    try:
        move_staged(store, folder)
    except OSError as exc:
        raise ImportUnfinished(f"the history was imported, but its kept traces could not be moved "
                               f"into {folder}/traces ({exc.strerror or exc}); the next start moves "
                               "them") from None
    return added


def _checked(store: Store, data: Any) -> dict[str, Any]:
    """The export's settings, once the file is known to be an export and the store empty."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportRefused("not a stretchstep export (no \"format\": \"stretchstep-export\")")
    if data.get("version") not in READS:
        raise ImportRefused(f"export version {data.get('version')!r}; "
                            f"this stretchstep reads versions {', '.join(map(str, READS))}")
    counts = store.counts()
    routines = store.connection().execute("SELECT COUNT(*) FROM routines").fetchone()[0]
    if counts.get("stretches") or counts.get("pain_log") or counts.get("sessions") or routines:
        raise ImportRefused("the data dir already holds history; import into an empty data dir "
                            "(e.g. --data-dir NEW_FOLDER)")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ImportRefused("settings must be an object")
    return settings


def _insert_all(conn: sqlite3.Connection, data: dict[str, Any], settings: dict[str, Any]) -> dict[str, int]:
    if data.get("profiles"):
        conn.execute("DELETE FROM profiles")
    added = {key: _insert(conn, table, key, columns, data.get(key, []))
             for key, table, columns in (("profiles", "profiles", PROFILE_COLUMNS),
                                         ("sessions", "sessions", SESSION_COLUMNS),
                                         ("stretches", "stretches", STRETCH_COLUMNS),
                                         ("events", "events", EVENT_COLUMNS),
                                         ("pain", "pain_log", PAIN_COLUMNS),
                                         ("routines", "routines", ROUTINE_COLUMNS),
                                         ("routine_holds", "routine_holds", HOLD_COLUMNS))}
    for key, value in settings.items():
        if key not in NOT_EXPORTED:
            conn.execute("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key)"
                         " DO UPDATE SET value = excluded.value", (str(key), json.dumps(value)))
    return added


def _insert(conn: Any, table: str, key: str, columns: tuple[str, ...], rows: Any) -> int:
    if not isinstance(rows, list):
        raise ImportRefused(f"{key} must be a list")
    sql = f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    numeric = {r["name"]: r["type"] for r in conn.execute(f"PRAGMA table_info({table})")
               if r["type"] in ("REAL", "INTEGER")}
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ImportRefused(f"{key}[{n}] must be an object")
        values = [_column(row, c) for c in columns]
        for column, value in zip(columns, values, strict=True):
            if column in numeric and not _is_number(value, numeric[column]):
                raise ImportRefused(f"{key}[{n}].{column} must be "
                                    f"{'a whole number' if numeric[column] == 'INTEGER' else 'a number'}"
                                    f", got {value!r}")
        try:
            conn.execute(sql, values)
        except sqlite3.Error as exc:  # a constraint or a value of the wrong type: name the row
            raise ImportRefused(f"{key}[{n}] cannot be stored: {exc}") from None
    return len(rows)


def _is_number(value: Any, kind: str) -> bool:
    """Whether a value fits a number column. Why check: SQLite keeps "x" in a REAL column as
    text, and a stretch whose wall is "x" later broke every export and report with a traceback."""
    if value is None or isinstance(value, bool):
        return True                       # null where NOT NULL allows it; a bool is 0 or 1
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and (kind == "REAL" or value.is_integer())


def _column(row: dict[str, Any], column: str) -> Any:
    """A value as its table keeps it: the JSON columns back to text."""
    if column == "data":
        return json.dumps(row.get(column) or {})
    if column == "done_slots":
        return json.dumps(row.get(column) or [])
    return row.get(column)
