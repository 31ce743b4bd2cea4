"""The routine's rows in the history store: profiles, device settings, routines and their holds.

The tables come from store.py's migrations; the queries live here. Web writes (profiles,
settings) bump a `revision` in the same transaction, so the sampler's RoutineKeeper notices a
change with one cheap read and reloads off the loop thread. Everything is plain sqlite3 on the
Store's per-thread connection.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from firmware.routine.profiles import Profile, check_profile, learned
from firmware.routine.protocols import Protocol
from firmware.routine.session import DONE, OPEN, Progress, RoutineSettings
from firmware.store import Store

PROFILE_COLUMNS = tuple(f.name for f in fields(Profile))


@dataclass(frozen=True)
class DeviceSettings:
    """The device's own settings (not a person's): kept in the `settings` table."""

    buzzer: bool = True
    phone_sounds: bool = True
    spoken_cues: bool = False


DEVICE_KEYS = tuple(f.name for f in fields(DeviceSettings))


def _conn(store: Store) -> sqlite3.Connection:
    return store._conn()  # the Store's per-thread connection (routine tables are ours to query)


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _bump(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO settings(key, value) VALUES ('revision', '1') ON CONFLICT(key) DO UPDATE"
                 " SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)")


def revision(store: Store) -> int:
    row = _conn(store).execute("SELECT value FROM settings WHERE key = 'revision'").fetchone()
    return int(row[0]) if row else 0


# --- profiles ---------------------------------------------------------------------------------
def _profile(row: sqlite3.Row) -> Profile:
    return Profile(**{k: row[k] for k in PROFILE_COLUMNS})


def ensure_profile(store: Store, first: Mapping[str, Any]) -> None:
    """Create the first profile (from the config's [person]/[routine]) when there is none."""
    conn = _conn(store)
    if conn.execute("SELECT 1 FROM profiles LIMIT 1").fetchone():
        return
    with _transaction(conn):
        conn.execute("INSERT OR IGNORE INTO profiles(name, tighter_side, protocol, daily_goal, body_kg,"
                     " created) VALUES (?, ?, ?, ?, ?, ?)",
                     (first["name"], first["tighter_side"], first["protocol"], first["daily_goal"],
                      first.get("body_kg") or None, time.time()))


def profiles(store: Store) -> list[Profile]:
    rows = _conn(store).execute(f"SELECT {', '.join(PROFILE_COLUMNS)} FROM profiles ORDER BY id").fetchall()
    return [_profile(r) for r in rows]


def profile(store: Store, profile_id: int) -> Profile | None:
    row = _conn(store).execute(f"SELECT {', '.join(PROFILE_COLUMNS)} FROM profiles WHERE id = ?",
                               (profile_id,)).fetchone()
    return _profile(row) if row else None


def add_profile(store: Store, values: dict[str, Any], protocols: Mapping[str, Protocol],
                defaults: Mapping[str, Any]) -> Profile:
    """A new profile; `name` required, the rest default to the first profile's config values."""
    checked = check_profile(values, list(protocols))
    if "name" not in checked:
        raise ValueError("name is required (a name of 1 to 40 characters)")
    row = {k: defaults[k] for k in ("tighter_side", "protocol", "daily_goal")} | checked
    conn = _conn(store)
    with _transaction(conn):
        _unique_name(conn, row["name"], None)
        keys = list(row)
        cur = conn.execute(f"INSERT INTO profiles({', '.join(keys)}, created) VALUES"
                           f" ({', '.join('?' for _ in keys)}, ?)", (*row.values(), time.time()))
        _bump(conn)
    found = profile(store, int(cur.lastrowid or 0))
    assert found is not None
    return found


def update_profile(store: Store, profile_id: int, values: dict[str, Any],
                   protocols: Mapping[str, Protocol]) -> Profile:
    """Change some fields; KeyError when there is no such profile."""
    checked = check_profile(values, list(protocols))
    conn = _conn(store)
    with _transaction(conn):
        if not conn.execute("SELECT 1 FROM profiles WHERE id = ?", (profile_id,)).fetchone():
            raise KeyError(profile_id)
        if "name" in checked:
            _unique_name(conn, checked["name"], profile_id)
        if checked:
            conn.execute(f"UPDATE profiles SET {', '.join(f'{k} = ?' for k in checked)} WHERE id = ?",
                         (*checked.values(), profile_id))
            _bump(conn)
    found = profile(store, profile_id)
    assert found is not None
    return found


def _unique_name(conn: sqlite3.Connection, name: str, own_id: int | None) -> None:
    row = conn.execute("SELECT id FROM profiles WHERE name = ? COLLATE NOCASE", (name,)).fetchone()
    if row and row[0] != own_id:
        raise ValueError(f"a profile named {name!r} already exists")


def activate(store: Store, profile_id: int) -> Profile:
    """Make a profile the active one (the web, or the button); KeyError when there is none."""
    conn = _conn(store)
    with _transaction(conn):
        if not conn.execute("SELECT 1 FROM profiles WHERE id = ?", (profile_id,)).fetchone():
            raise KeyError(profile_id)
        _put(conn, "active_profile", profile_id)
        _bump(conn)
    found = profile(store, profile_id)
    assert found is not None
    return found


def active_profile(store: Store) -> Profile:
    """The active profile, else the first one (ensure_profile must have run)."""
    row = _conn(store).execute("SELECT value FROM settings WHERE key = 'active_profile'").fetchone()
    chosen = profile(store, int(json.loads(row[0]))) if row else None
    if chosen is None:
        everyone = profiles(store)
        if not everyone:
            raise LookupError("no profile yet")
        chosen = everyone[0]
    return chosen


def learn_stand(store: Store, profile_id: int, kg: float) -> None:
    """One more visit's standing load for a profile (the revision moves: suggestions use it)."""
    conn = _conn(store)
    with _transaction(conn):
        row = conn.execute("SELECT stand_kg FROM profiles WHERE id = ?", (profile_id,)).fetchone()
        if row is not None:
            conn.execute("UPDATE profiles SET stand_kg = ? WHERE id = ?",
                         (round(learned(row[0], kg), 2), profile_id))
            _bump(conn)


# --- device settings --------------------------------------------------------------------------
def _put(conn: sqlite3.Connection, key: str, value: Any) -> None:
    conn.execute("INSERT INTO settings(key, value) VALUES (?, ?)"
                 " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, json.dumps(value)))


def device_settings(store: Store, defaults: DeviceSettings) -> DeviceSettings:
    rows = _conn(store).execute(
        f"SELECT key, value FROM settings WHERE key IN ({', '.join('?' for _ in DEVICE_KEYS)})", DEVICE_KEYS)
    kept = {r["key"]: json.loads(r["value"]) for r in rows}
    return DeviceSettings(**{k: kept.get(k, getattr(defaults, k)) for k in DEVICE_KEYS})


def put_device_settings(store: Store, values: Mapping[str, bool]) -> None:
    conn = _conn(store)
    with _transaction(conn):
        for key, value in values.items():
            _put(conn, key, value)
        _bump(conn)


# --- routines ---------------------------------------------------------------------------------
def load_settings(store: Store, protocols: Mapping[str, Protocol], device: DeviceSettings,
                  fallback_protocol: str, *, default_body_kg: float | None = None) -> RoutineSettings:
    """What the routine runs with now: the active profile, its protocol, the device settings, and
    the config's body weight ([person] body_kg) when the active profile is the first one, the
    person that section describes. Why not for the others: a weight too low for the person makes
    the detector take more for stretches (told 0.7 x the true weight on the tuning corpora: 16
    false stretches on idle traces instead of 6), so someone else's is worse than none."""
    everyone = tuple(profiles(store))
    active = active_profile(store)
    protocol = protocols.get(active.protocol) or protocols[fallback_protocol]
    first = bool(everyone) and active.id == everyone[0].id
    return RoutineSettings(protocol=protocol, profile=active, buzzer=device_settings(store, device).buzzer,
                           profiles=everyone, default_body_kg=default_body_kg if first else None)


def load_progress(store: Store, profile_id: int, day: str) -> Progress:
    conn = _conn(store)
    done = conn.execute("SELECT COUNT(*) FROM routines WHERE profile_id = ? AND day = ? AND status = ?",
                        (profile_id, day, DONE)).fetchone()[0]
    row = conn.execute("SELECT seq, status, done_slots, updated, protocol, tighter_side FROM routines"
                       " WHERE profile_id = ? AND day = ? ORDER BY seq DESC LIMIT 1",
                       (profile_id, day)).fetchone()
    if row is None:
        return Progress(day=day, routines_done=int(done))
    return Progress(day=day, seq=row["seq"], status=row["status"],
                    done_slots=tuple(json.loads(row["done_slots"])), routines_done=int(done),
                    updated=row["updated"], protocol=row["protocol"], tighter=row["tighter_side"])


def save_routine(store: Store, row: Mapping[str, Any]) -> int:
    """Insert or update one routine (keyed by profile, day and number); returns its id."""
    conn = _conn(store)
    ended = row["wall"] if row["status"] != OPEN else None
    conn.execute(
        "INSERT INTO routines(profile_id, day, seq, protocol, tighter_side, slots, done_slots, status,"
        " started, updated, ended) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(profile_id, day, seq) DO UPDATE SET done_slots = excluded.done_slots,"
        " status = excluded.status, updated = excluded.updated, ended = excluded.ended",
        (row["profile_id"], row["day"], row["seq"], row["protocol"], row["tighter_side"], row["slots"],
         json.dumps(list(row["done_slots"])), row["status"], row["wall"], row["wall"], ended))
    found = conn.execute("SELECT id FROM routines WHERE profile_id = ? AND day = ? AND seq = ?",
                         (row["profile_id"], row["day"], row["seq"])).fetchone()
    return int(found[0])


def add_hold(store: Store, row: Mapping[str, Any]) -> None:
    """One hold the routine judged (clean, bounced, early, wrong_leg), with its routine saved too."""
    conn = _conn(store)
    with _transaction(conn):
        routine_id = save_routine(store, row)
        conn.execute(
            "INSERT INTO routine_holds(routine_id, wall, end_t, slot, leg, knee, rep, outcome, hold_s,"
            " breaths, bounces) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (routine_id, row["wall"], row.get("end_t"), row.get("slot"), row.get("leg"), row.get("knee"),
             row.get("rep"), row["outcome"], row.get("hold_s"), row.get("breaths"), row.get("bounces")))


def routines_done(store: Store, day: str, profile_id: int | None = None) -> int:
    """Routines finished on a stretching day (for one profile, or everyone)."""
    sql, args = "SELECT COUNT(*) FROM routines WHERE day = ? AND status = ?", [day, DONE]
    if profile_id is not None:
        sql += " AND profile_id = ?"
        args.append(profile_id)
    return int(_conn(store).execute(sql, args).fetchone()[0])


def done_walls(store: Store, start: float, end: float, profile_id: int | None = None) -> list[float]:
    """When each routine finished in [start, end) (for one profile, or everyone): history's
    `RoutinesDone`."""
    sql, args = "SELECT ended FROM routines WHERE status = ? AND ended >= ? AND ended < ?", [DONE, start, end]
    if profile_id is not None:
        sql += " AND profile_id = ?"
        args.append(profile_id)
    return [float(r[0]) for r in _conn(store).execute(sql + " ORDER BY ended", args)]


def holds(store: Store, day: str) -> list[dict[str, Any]]:
    """Every judged hold of a day, oldest first, with its routine's profile and number."""
    rows = _conn(store).execute(
        "SELECT h.*, r.profile_id, r.seq, r.protocol FROM routine_holds h"
        " JOIN routines r ON r.id = h.routine_id WHERE r.day = ? ORDER BY h.wall, h.id", (day,)).fetchall()
    return [dict(r) for r in rows]
