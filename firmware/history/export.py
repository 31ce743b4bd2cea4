"""Export the history (every stretch and the pain log) as JSON or CSV, and import a JSON export.

Why both: JSON is the faithful copy (every column, so `import` into a fresh store gives back the
same history, which the round-trip test checks); CSV is what a person opens in a spreadsheet or
hands to a physiotherapist, one row per stretch or pain entry with the day and slot spelt out.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from firmware.history.days import DayClock
from firmware.history.pain import PainLog
from firmware.store import STRETCH_COLUMNS, Store

FORMAT = "stretchstep-export"
VERSION = 1
SESSION_COLUMNS = ("id", "source", "started", "ended")
PAIN_COLUMNS = ("id", "wall", "day", "part", "pain", "stiffness", "note", "edited")
CSV_COLUMNS = ("type", "id", "day", "time", "leg", "knee", "rep", "hold_s", "breaths", "breaths_sure",
               "bounces", "completed", "peak_kg", "duration_s", "part", "pain", "stiffness", "note")


class ImportRefused(ValueError):
    """The file is not a stretchstep export, or the store already holds history."""


def export_data(store: Store, clock: DayClock, since: float | None = None) -> dict[str, Any]:
    """Everything from `since` (unix s; None: all), oldest first."""
    lo = since if since is not None else float("-inf")
    conn = store.connection()
    stretches = []
    for row in conn.execute(f"SELECT {', '.join(STRETCH_COLUMNS)} FROM stretches WHERE wall >= ?"
                            " ORDER BY wall, id", (lo,)):
        item = dict(row)
        item["data"] = json.loads(item["data"] or "{}")
        item["day"] = clock.day_of(item["wall"]).isoformat()
        stretches.append(item)
    sessions = [dict(r) for r in conn.execute(
        f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions WHERE COALESCE(ended, started) >= ?"
        " ORDER BY id", (lo,))]
    return {"format": FORMAT, "version": VERSION,
            "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "day_start_min": clock.start_min, "sessions": sessions, "stretches": stretches,
            "pain": PainLog(store, clock).entries(since=since, limit=10**9)}


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, allow_nan=False, default=str)


def csv_rows(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for s in data["stretches"]:
        extra = s["data"]
        yield {"type": "stretch", "id": s["id"], "day": s["day"], "time": _local(s["wall_start"]),
               "leg": s["leg"], "knee": s["knee"], "rep": s["rep"], "hold_s": s["hold_s"],
               "breaths": s["breaths"], "breaths_sure": extra.get("breaths_sure"),
               "bounces": s["bounces"], "completed": bool(s["completed"]), "peak_kg": s["peak_kg"],
               "duration_s": s["duration_s"]}
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


def _local(wall: float | None) -> str:
    return "" if wall is None else datetime.fromtimestamp(wall).isoformat(timespec="seconds")


def import_data(store: Store, data: Any) -> dict[str, int]:
    """Load a JSON export into a store that holds no history yet; returns the rows added."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportRefused("not a stretchstep export (no \"format\": \"stretchstep-export\")")
    if data.get("version") != VERSION:
        raise ImportRefused(f"export version {data.get('version')!r}; "
                            f"this stretchstep reads version {VERSION}")
    counts = store.counts()
    if counts.get("stretches") or counts.get("pain_log") or counts.get("sessions"):
        raise ImportRefused("the data dir already holds history; import into an empty data dir "
                            "(e.g. --data-dir NEW_FOLDER)")
    conn = store.connection()
    conn.execute("BEGIN IMMEDIATE")
    try:
        added = {key: _insert(conn, table, key, columns, data.get(key, []))
                 for key, table, columns in (("sessions", "sessions", SESSION_COLUMNS),
                                             ("stretches", "stretches", STRETCH_COLUMNS),
                                             ("pain", "pain_log", PAIN_COLUMNS))}
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return added


def _insert(conn: Any, table: str, key: str, columns: tuple[str, ...], rows: Any) -> int:
    if not isinstance(rows, list):
        raise ImportRefused(f"{key} must be a list")
    sql = f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ImportRefused(f"{key}[{n}] must be an object")
        values = [json.dumps(row.get(c) or {}) if c == "data" else row.get(c) for c in columns]
        try:
            conn.execute(sql, values)
        except sqlite3.Error as exc:  # a constraint or a value of the wrong type: name the row
            raise ImportRefused(f"{key}[{n}] cannot be stored: {exc}") from None
    return len(rows)
