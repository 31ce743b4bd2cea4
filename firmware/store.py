"""SQLite history: sessions, stretches with their summaries, every event, and the pain log.

Why SQLite in WAL mode: one file in the data dir, no server, and WAL lets the dashboard read
while the writer thread appends. The schema is versioned with `PRAGMA user_version` and brought
up to date on open by running the migrations the file has not seen yet, so an old history is
never thrown away by an upgrade. sqlite3 connections must not be shared between threads, so
the Store keeps one connection per thread.

The sampling loop never calls the Store directly: it hands events to a `StoreWriter`, whose
daemon thread does the disk work and survives disk errors (counted, logged, retried, and the
batch written item by item so one bad row cannot take the others with it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from firmware import events as ev
from firmware.events import Event
from firmware.files import FILE_MODE, create_private, private_dir

log = logging.getLogger(__name__)

# Each entry brings the schema from version i to i + 1. Append; never edit a released one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        started REAL NOT NULL,
        ended REAL
    );
    CREATE TABLE stretches (
        id INTEGER PRIMARY KEY,
        session_id INTEGER REFERENCES sessions(id),
        wall REAL NOT NULL,          -- wall clock (unix s) when the stretch ended
        wall_start REAL NOT NULL,    -- wall clock when it started (wall - duration)
        start REAL, hold_start REAL, end_t REAL,   -- source time, seconds
        duration_s REAL, hold_s REAL,
        breaths INTEGER NOT NULL DEFAULT 0,
        bounces INTEGER NOT NULL DEFAULT 0,
        completed INTEGER NOT NULL DEFAULT 0,
        peak_kg REAL,
        leg TEXT, knee TEXT, rep INTEGER,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX stretches_wall ON stretches(wall);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        session_id INTEGER REFERENCES sessions(id),
        kind TEXT NOT NULL,
        t REAL NOT NULL,
        wall REAL NOT NULL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_wall ON events(wall);
    CREATE INDEX events_kind_wall ON events(kind, wall);
    CREATE TABLE pain_log (
        id INTEGER PRIMARY KEY,
        wall REAL NOT NULL,
        pain INTEGER NOT NULL CHECK (pain BETWEEN 0 AND 10),
        stiffness INTEGER CHECK (stiffness BETWEEN 0 AND 10),
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX pain_wall ON pain_log(wall);
    """,
    # 2: the pain log knows which part of the day an entry is for, and when it was corrected;
    """
    ALTER TABLE pain_log ADD COLUMN day TEXT;
    ALTER TABLE pain_log ADD COLUMN part TEXT;
    ALTER TABLE pain_log ADD COLUMN edited REAL;
    CREATE INDEX pain_day_part ON pain_log(day, part);
    """,
    # 3: profiles, device settings, and routines as sessions (queries in firmware/routine/records.py)
    """
    CREATE TABLE profiles (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        tighter_side TEXT NOT NULL DEFAULT 'right' CHECK (tighter_side IN ('right', 'left')),
        protocol TEXT NOT NULL DEFAULT 'step-calf',
        daily_goal INTEGER NOT NULL DEFAULT 3 CHECK (daily_goal >= 1),
        body_kg REAL,
        target_s REAL,               -- NULL = the protocol's
        target_breaths INTEGER,      -- NULL = the protocol's
        stand_kg REAL,               -- standing load at step-on, learned; suggests the profile
        created REAL NOT NULL
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL          -- JSON
    );
    CREATE TABLE routines (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER NOT NULL REFERENCES profiles(id),
        day TEXT NOT NULL,           -- the stretching day (starts at [routine] day_start), ISO date
        seq INTEGER NOT NULL,        -- 1-based number of the routine in that day for that profile
        protocol TEXT NOT NULL,
        tighter_side TEXT NOT NULL,
        slots INTEGER NOT NULL,
        done_slots TEXT NOT NULL DEFAULT '[]',   -- JSON list of slot indexes done
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'abandoned')),
        started REAL NOT NULL,
        updated REAL NOT NULL,
        ended REAL,
        UNIQUE (profile_id, day, seq)
    );
    CREATE INDEX routines_day ON routines(day);
    CREATE TABLE routine_holds (
        id INTEGER PRIMARY KEY,
        routine_id INTEGER NOT NULL REFERENCES routines(id),
        wall REAL NOT NULL,          -- when the stretch ended (unix s)
        end_t REAL,                  -- source time of its end: joins stretches.end_t
        slot INTEGER,                -- index of the slot it filled; NULL = asked for again
        leg TEXT, knee TEXT, rep INTEGER,
        outcome TEXT NOT NULL CHECK (outcome IN ('clean', 'bounced', 'early', 'wrong_leg')),
        hold_s REAL, breaths INTEGER, bounces INTEGER
    );
    CREATE INDEX routine_holds_wall ON routine_holds(wall);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

WALL_PER_T = "wall_per_t"   # an event's context key: wall seconds per source second (1 unless --speed)
STRETCH_COLUMNS = ("id", "session_id", "wall", "wall_start", "start", "hold_start", "end_t", "duration_s",
                   "hold_s", "breaths", "bounces", "completed", "peak_kg", "leg", "knee", "rep", "data")


class StoreError(RuntimeError):
    """The history file cannot be used (e.g. written by a newer stretchstep)."""


def _prepare_private(path: Path) -> None:
    """The history is the owner's alone: folder 0700 when we make it, the file (and the WAL
    files SQLite makes with the file's mode) 0600."""
    try:
        private_dir(path.parent)
        if not path.exists():
            create_private(path)
        for one in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if one.is_file() and one.stat().st_mode & 0o077:
                one.chmod(FILE_MODE)
    except OSError as exc:
        raise StoreError(f"cannot create the history {path}: {exc.strerror}; is the data dir "
                         "writable?") from None


def _open_failure(path: Path, exc: sqlite3.DatabaseError) -> str:
    """What to do when SQLite will not open the history (never: overwrite it)."""
    reason = str(exc)
    if path.is_dir():
        return f"{path} is a folder, not a history file; move it away and start again"
    if "not a database" in reason or "malformed" in reason:
        return (f"{path} is damaged or not a stretchstep history ({reason}); it was left as it is: "
                "move it away (keep it for recovery) and start again for a new one")
    if "readonly" in reason or "unable to open" in reason:
        return f"cannot open the history {path} ({reason}); is the data dir writable?"
    return f"cannot use the history {path}: {reason}"


def finite_or_none(value: Any) -> Any:
    """NaN/inf are not JSON and mean 'no value' here."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps({k: finite_or_none(v) for k, v in data.items()}, default=str)


def check_history_file(path: str | Path) -> None:
    """Refuse, without writing a byte, a history file that is damaged or from a newer stretchstep.

    Opened read-only: `PRAGMA quick_check` and the schema version. Raises StoreError saying what
    to do; the file is never touched, so nothing more is lost. A missing file is fine (new)."""
    path = Path(path)
    if not path.exists():
        return
    move = f"stop stretchstep and move it away (mv {path} {path}.broken), then start again"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            verdict = [row[0] for row in conn.execute("PRAGMA quick_check(5)").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(_open_failure(path, exc)) from None
    if verdict != ["ok"]:
        raise StoreError(f"{path} is damaged (quick_check: {'; '.join(verdict)[:200]}); {move} "
                         "(sqlite3's .recover can rescue most of the old one)")
    if version > SCHEMA_VERSION:
        raise StoreError(_newer_schema(path, version))


def _newer_schema(path: Path, version: int) -> str:
    return (f"{path} has schema version {version}, newer than this stretchstep understands (up to "
            f"{SCHEMA_VERSION}); upgrade stretchstep, or use another --data-dir")


class Store:
    """The history database. Safe to use from many threads (one connection each)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        _prepare_private(self.path)
        try:
            self._migrate(self._conn())
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(_open_failure(self.path, exc)) from None

    # --- connections ----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"history store {self.path} is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # each thread still uses only its own connection; False lets close() reach them all
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, for the history modules' own queries (firmware.history)."""
        return self._conn()

    def reconnect(self) -> None:
        """Drop this thread's connection (e.g. after it broke); the next call opens a fresh one."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(_newer_schema(self.path, version))
        for number in range(version, SCHEMA_VERSION):
            script = MIGRATIONS[number] + f"\nPRAGMA user_version = {number + 1};"
            conn.executescript("BEGIN;\n" + script + "\nCOMMIT;")

    @property
    def schema_version(self) -> int:
        return int(self._conn().execute("PRAGMA user_version").fetchone()[0])

    @property
    def journal_mode(self) -> str:
        return str(self._conn().execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        """Close every thread's connection. Safe to call twice."""
        self._closed = True
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    # --- writes ---------------------------------------------------------------------------
    def start_session(self, source: str, wall: float) -> int:
        cur = self._conn().execute("INSERT INTO sessions(source, started) VALUES (?, ?)", (source, wall))
        return int(cur.lastrowid or 0)

    def end_session(self, session_id: int, wall: float) -> None:
        self._conn().execute("UPDATE sessions SET ended = ? WHERE id = ?", (wall, session_id))

    def close_open_sessions(self) -> int:
        """Close sessions a kill left open, at their last event (or their start); how many.

        Called at start-up before a new session begins, so no session stays open for ever."""
        cur = self._conn().execute(
            "UPDATE sessions SET ended = COALESCE((SELECT MAX(wall) FROM events"
            " WHERE events.session_id = sessions.id), started) WHERE ended IS NULL")
        return int(cur.rowcount or 0)

    def add_event(self, session_id: int, event: Event, wall: float, context: dict) -> None:
        """One event row; a stretch_end also becomes a stretches row (one transaction)."""
        self.add_events([(session_id, event, wall, context)])

    def add_events(self, items: Sequence[tuple[int, Event, float, dict]]) -> None:
        """Many events in one transaction: the writer's batch, so the disk is touched once."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            for session_id, event, wall, context in items:
                self._insert_event(conn, session_id, event, wall, context or {})
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _insert_event(self, conn: sqlite3.Connection, session_id: int, event: Event, wall: float,
                      context: dict) -> None:
        data = dict(event.data)
        for key in ("leg", "knee", "rep"):
            if key in context and key not in data:
                data[key] = context[key]
        sid = session_id or None
        conn.execute("INSERT INTO events(session_id, kind, t, wall, data) VALUES (?, ?, ?, ?, ?)",
                     (sid, event.kind, event.t, wall, _dumps(data)))
        if event.kind == ev.STRETCH_END:
            self.insert_stretch(conn, sid, event, wall, data, wall_per_t=float(context.get(WALL_PER_T, 1.0)))

    @staticmethod
    def insert_stretch(conn: sqlite3.Connection, sid: int | None, event: Event, wall: float,
                        data: dict[str, Any], *, wall_per_t: float = 1.0) -> None:
        """One stretches row. `wall_per_t`: wall seconds per second of source time (1/N for a
        simulated person at `--speed N`): the start's wall time is the end's less the duration on
        the wall clock, so a stretch never starts before the session that saw it."""
        start = finite_or_none(data.get("start"))
        end = finite_or_none(data.get("end", event.t))
        duration = (end - start) if start is not None and end is not None else None
        conn.execute(
            "INSERT INTO stretches(session_id, wall, wall_start, start, hold_start, end_t, duration_s,"
            " hold_s, breaths, bounces, completed, peak_kg, leg, knee, rep, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, wall, wall - (duration or 0.0) * wall_per_t, start, finite_or_none(data.get("hold_start")),
             end,
             duration, finite_or_none(data.get("hold_s")), int(data.get("breaths") or 0),
             int(data.get("bounces") or 0), 1 if data.get("completed") else 0,
             finite_or_none(data.get("peak_kg")), data.get("leg"), data.get("knee"), data.get("rep"),
             _dumps(data)),
        )

    # --- reads ----------------------------------------------------------------------------
    def day_counts(self, start: float, end: float) -> dict[str, Any]:
        """Counts of the stretches and bounces in [start, end) (unix s): where a day begins is
        `firmware.history.today_counts`' to say, not the store's."""
        conn = self._conn()
        rows = conn.execute("SELECT leg, knee, completed, breaths, bounces FROM stretches"
                            " WHERE wall >= ? AND wall < ?", (start, end)).fetchall()
        bounce_rows = conn.execute("SELECT data FROM events WHERE kind = ? AND wall >= ? AND wall < ?",
                                   (ev.BOUNCE, start, end)).fetchall()
        by_side: dict[str, dict[str, Any]] = {}
        for row in rows:
            side = _side(by_side, row["leg"])
            side["stretches"] += 1
            side["completed_holds"] += row["completed"]
            if row["completed"] and row["knee"]:
                side["by_knee"][row["knee"]] = side["by_knee"].get(row["knee"], 0) + 1
        for row in bounce_rows:
            _side(by_side, json.loads(row["data"] or "{}").get("leg"))["bounces"] += 1
        return {
            "stretches": len(rows),
            "completed_holds": sum(r["completed"] for r in rows),
            "bounces": len(bounce_rows),
            "breaths": sum(r["breaths"] for r in rows),
            "by_side": by_side,
        }

    def stretches(self, since: float | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Newest first, ended at or after `since` (unix s)."""
        rows = self._conn().execute(
            f"SELECT {', '.join(STRETCH_COLUMNS)} FROM stretches WHERE wall >= ? ORDER BY wall DESC, id DESC"
            " LIMIT ?", (since if since is not None else float("-inf"), int(limit))).fetchall()
        out = []
        for row in rows:
            item = dict(row)
            item["completed"] = bool(item["completed"])
            item["end"] = item.pop("end_t")
            extra = json.loads(item.pop("data") or "{}")
            for key, value in extra.items():
                item.setdefault(key, value)
            out.append(item)
        return out

    def events(self, since: float | None = None, kind: str | None = None, limit: int = 1000) -> list[dict]:
        """Newest first; for debugging and export."""
        sql = "SELECT id, session_id, kind, t, wall, data FROM events WHERE wall >= ?"
        args: list[Any] = [since if since is not None else float("-inf")]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        rows = self._conn().execute(sql + " ORDER BY wall DESC, id DESC LIMIT ?", (*args, int(limit)))
        return [{**{k: row[k] for k in ("id", "session_id", "kind", "t", "wall")}, **json.loads(row["data"])}
                for row in rows.fetchall()]

    def counts(self) -> dict[str, int]:
        """Rows per table, for /api/health."""
        conn = self._conn()
        return {t: int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
                for t in ("sessions", "stretches", "events", "pain_log")}


def _side(by_side: dict[str, dict[str, Any]], leg: str | None) -> dict[str, Any]:
    key = leg or "unknown"
    if key not in by_side:
        by_side[key] = {"stretches": 0, "completed_holds": 0, "bounces": 0, "by_knee": {}}
    return by_side[key]


Item = tuple[int, Event, float, dict]


class StoreWriter:
    """Writes events from a daemon thread so the sampling loop never waits on the disk.

    `record` only puts on a bounded queue (dropping, and counting, when it is full: memory stays
    bounded if the disk is gone for hours). A committed event survives a kill -9 (WAL; only a
    power cut can take the last commits with synchronous=NORMAL); one still queued does not, so
    `stats()` reports how long record -> commit takes (commit_ms_p99/max): that is the window.
    The thread writes what is queued in batches; on an error it reconnects, retries after a
    growing pause, then writes the batch item by item and keeps whatever the disk accepts,
    counting the rest as dropped.
    """

    def __init__(self, store: Store, *, max_queue: int = 50_000, batch: int = 500,
                 retry_delays: Sequence[float] = (0.05, 0.25, 1.0),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.store = store
        self.batch = batch
        self.retry_delays = tuple(retry_delays)
        self._sleep = sleep
        self._queue: queue.Queue[Item | None] = queue.Queue(maxsize=max_queue)
        self._cond = threading.Condition()
        self._queued = 0
        self._handled = 0
        # enqueue times, FIFO like the queue: record -> commit is how long a kill -9 could lose it
        self._stamps: deque[float] = deque()
        self._commit_s: deque[float] = deque(maxlen=4096)
        self.written = 0
        self.dropped = 0
        self._dropped_seen = 0
        self.errors = 0
        self.last_error: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    def record(self, session_id: int, event: Event, wall: float, context: dict) -> None:
        """Queue one event; never blocks (a full queue drops the event and counts it)."""
        if self._closed:
            self.dropped += 1
            return
        try:
            with self._cond:
                self._queued += 1
            self._queue.put_nowait((session_id, event, wall, dict(context or {})))
            self._stamps.append(time.monotonic())
        except queue.Full:
            self.dropped += 1
            self._mark_handled(1)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far was handled.

        False on timeout, or if any event was lost since the previous flush (see `dropped`)."""
        if not self.wait_written(timeout):
            return False
        lost, self._dropped_seen = self.dropped - self._dropped_seen, self.dropped
        return lost == 0

    def wait_written(self, timeout: float) -> bool:
        """Wait until everything queued so far is committed (or counted as dropped); False on
        timeout. The link calls it before it shows an event, so what a phone has seen is on disk."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._queued
            while self._handled < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    def stats(self) -> dict[str, Any]:
        commits = sorted(self._commit_s)
        window = {"commit_ms_p99": round(1000 * commits[int(len(commits) * 0.99)], 2),
                  "commit_ms_max": round(1000 * commits[-1], 2)} if commits else {}
        return {"written": self.written, "dropped": self.dropped, "errors": self.errors,
                "pending": self._queue.qsize(), "last_error": self.last_error, **window}

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the thread. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)

    # --- the thread -----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            items: list[Item] = []
            stop = first is None
            if first is not None:
                items.append(first)
            while not stop and len(items) < self.batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                else:
                    items.append(nxt)
            if items:
                try:
                    self._write(items)
                except Exception:  # never let the thread die: history is not worth the loop
                    log.exception("store writer: unexpected error")
                    self.dropped += len(items)
                finally:
                    now = time.monotonic()
                    for _ in items:
                        with contextlib.suppress(IndexError):
                            self._commit_s.append(now - self._stamps.popleft())
                    self._mark_handled(len(items))
            if stop:
                return

    def _write(self, items: list[Item]) -> None:
        for attempt, delay in enumerate((0.0, *self.retry_delays)):
            if delay:
                self._sleep(delay)
            try:
                self.store.add_events(items)
                self.written += len(items)
                return
            except (sqlite3.Error, OSError, StoreError) as exc:
                self._note_error(exc, attempt)
                self.store.reconnect()
        self._write_one_by_one(items)

    def _write_one_by_one(self, items: list[Item]) -> None:
        for item in items:
            try:
                self.store.add_events([item])
                self.written += 1
            except (sqlite3.Error, OSError, StoreError) as exc:
                self._note_error(exc, -1)
                self.dropped += 1

    def _note_error(self, exc: BaseException, attempt: int) -> None:
        self.errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.warning("store writer: write failed (attempt %d): %s", attempt + 1, self.last_error)

    def _mark_handled(self, n: int) -> None:
        with self._cond:
            self._handled += n
            self._cond.notify_all()
