"""The pain log: 0-10 pain and stiffness with a note, at most one entry per part of the day.

Why one per part: the question the log answers is "does pain fall on the days I stretch?", and a
person who taps Save twice in a morning should not weigh that morning double. A second entry in
the same part of the same day replaces the first (the caller is told, so the page can say so).
Entries can be corrected or deleted later; `edited` keeps when.
"""

from __future__ import annotations

import json
import math
from typing import Any

from firmware.history.days import DayClock
from firmware.store import Store

PAIN_RANGE = (0, 10)
NOTE_MAX = 500
COLUMNS = "id, wall, day, part, pain, stiffness, note, edited"


class PainEntryMissing(LookupError):
    """No pain entry with that id."""


def check_score(name: str, value: Any, *, required: bool) -> int | None:
    """A 0-10 whole number (or None where optional); ValueError names the field."""
    if value is None and not required:
        return None
    lo, hi = PAIN_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        try:
            shown = json.dumps(value)
        except (TypeError, ValueError):
            shown = type(value).__name__
        raise ValueError(f"{name} must be a whole number from {lo} to {hi}, got {shown}")
    return value


def check_note(note: Any) -> str:
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        raise ValueError(f"note must be text of at most {NOTE_MAX} characters")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("note must be text (it holds a character that is not valid Unicode)") from None
    return note.strip()


class PainLog:
    """Reads and writes the store's pain_log table, cutting days with `clock`."""

    def __init__(self, store: Store, clock: DayClock | None = None) -> None:
        self.store = store
        self.clock = clock or DayClock()

    def add(self, wall: float, pain: Any, stiffness: Any = None, note: Any = "") -> dict[str, Any]:
        """Log an entry; replaces this part of the day's entry if there is one.

        Returns {"entry": ..., "replaced": id or None, "message": text for a person}."""
        if not (isinstance(wall, int | float) and math.isfinite(wall)):
            raise ValueError("wall must be a finite unix time")
        pain_v = check_score("pain", pain, required=True)
        stiff_v = check_score("stiffness", stiffness, required=False)
        text = check_note(note)
        day, part = self.clock.day_of(wall).isoformat(), self.clock.part_of(wall)
        conn = self.store.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            old = conn.execute("SELECT id FROM pain_log WHERE day = ? AND part = ? ORDER BY id LIMIT 1",
                               (day, part)).fetchone()
            if old is None:
                cur = conn.execute("INSERT INTO pain_log(wall, day, part, pain, stiffness, note)"
                                   " VALUES (?, ?, ?, ?, ?, ?)", (wall, day, part, pain_v, stiff_v, text))
                entry_id, replaced = int(cur.lastrowid or 0), None
            else:
                entry_id = replaced = int(old["id"])
                conn.execute("UPDATE pain_log SET wall = ?, pain = ?, stiffness = ?, note = ?, edited = ?"
                             " WHERE id = ?", (wall, pain_v, stiff_v, text, wall, entry_id))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        message = (f"replaced this {part}'s entry" if replaced is not None else f"logged for this {part}")
        return {"entry": self.get(entry_id), "replaced": replaced, "message": message}

    def edit(self, entry_id: int, changes: dict[str, Any], wall: float) -> dict[str, Any]:
        """Correct pain, stiffness and/or note of an entry (its time and part stay)."""
        entry = self.get(entry_id)
        unknown = sorted(set(changes) - {"pain", "stiffness", "note"})
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; a pain entry has pain, stiffness, note")
        pain_v = check_score("pain", changes.get("pain", entry["pain"]), required=True)
        stiff_v = check_score("stiffness", changes.get("stiffness", entry["stiffness"]), required=False)
        text = check_note(changes.get("note", entry["note"]))
        self.store.connection().execute(
            "UPDATE pain_log SET pain = ?, stiffness = ?, note = ?, edited = ? WHERE id = ?",
            (pain_v, stiff_v, text, wall, entry_id))
        return self.get(entry_id)

    def delete(self, entry_id: int) -> None:
        self.get(entry_id)
        self.store.connection().execute("DELETE FROM pain_log WHERE id = ?", (entry_id,))

    def get(self, entry_id: int) -> dict[str, Any]:
        row = self.store.connection().execute(
            f"SELECT {COLUMNS} FROM pain_log WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise PainEntryMissing(f"no pain entry {entry_id}")
        return self._with_day(dict(row))

    def entries(self, since: float | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Oldest first (a chart reads left to right)."""
        rows = self.store.connection().execute(
            f"SELECT {COLUMNS} FROM pain_log WHERE wall >= ? ORDER BY wall, id LIMIT ?",
            (since if since is not None else float("-inf"), int(limit))).fetchall()
        return [self._with_day(dict(row)) for row in rows]

    def _with_day(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Entries from before schema 2 have no day/part stored: derive them."""
        if entry.get("day") is None:
            entry["day"] = self.clock.day_of(entry["wall"]).isoformat()
            entry["part"] = self.clock.part_of(entry["wall"])
        return entry
