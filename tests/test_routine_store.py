"""The routine in the history store: the schema migration from the first released schema (no row
lost), profile and settings rows, the keeper thread's writes and settings reloads, and a routine
resumed from the store after a restart."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime

import pytest

from firmware import events as ev
from firmware.config import DEFAULTS
from firmware.events import Event
from firmware.routine import records
from firmware.routine.build import RoutineBook, build_routine
from firmware.store import MIGRATIONS, SCHEMA_VERSION, Store

BOOK = RoutineBook.from_config(DEFAULTS)


def test_migration_from_the_first_schema_keeps_every_row(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    old.execute("INSERT INTO sessions(source, started, ended) VALUES ('hx711', 1.0, 2.0)")
    for i in range(50):
        old.execute("INSERT INTO stretches(session_id, wall, wall_start, hold_s, breaths, completed, leg,"
                    " knee, rep) VALUES (1, ?, ?, 30.0, 4, 1, 'right', 'straight', 1)", (100.0 + i, 70.0 + i))
        old.execute("INSERT INTO events(session_id, kind, t, wall, data) VALUES (1, 'breath', ?, ?, '{}')",
                    (i, i))
    old.execute("INSERT INTO pain_log(wall, pain, stiffness, note) VALUES (5.0, 3, 4, 'morning')")
    old.commit()
    tables = ("sessions", "stretches", "events", "pain_log")
    columns = {t: [r[1] for r in old.execute(f"PRAGMA table_info({t})")] for t in tables}
    before = {t: old.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables}
    old.close()

    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION >= 2
    conn = sqlite3.connect(path)
    for table, rows in before.items():  # later migrations may add columns, never lose a value
        assert conn.execute(f"SELECT {', '.join(columns[table])} FROM {table} ORDER BY id").fetchall() == rows
    assert conn.execute("SELECT COUNT(*) FROM profiles").fetchone()[0] == 0
    conn.close()
    BOOK.settings(store)  # the first profile is made from the config on first use
    assert [p.name for p in records.profiles(store)] == ["me"]
    store.close()


def test_profiles_validate_and_every_write_bumps_the_revision(store):
    BOOK.settings(store)
    start = records.revision(store)
    ann = records.add_profile(store, {"name": "Ann", "body_kg": 61, "tighter_side": "left"}, BOOK.protocols,
                              BOOK.first_profile)
    assert (ann.tighter_side, ann.body_kg, ann.protocol, ann.daily_goal) == ("left", 61.0, "step-calf", 3)
    with pytest.raises(ValueError, match="a profile named 'ann' already exists"):
        records.add_profile(store, {"name": "ann"}, BOOK.protocols, BOOK.first_profile)
    with pytest.raises(ValueError, match="protocol 'nope' is not known"):
        records.update_profile(store, ann.id, {"protocol": "nope"}, BOOK.protocols)
    with pytest.raises(KeyError):
        records.activate(store, 99)
    records.update_profile(store, ann.id, {"daily_goal": 5}, BOOK.protocols)
    records.activate(store, ann.id)
    assert records.active_profile(store).daily_goal == 5
    assert records.revision(store) == start + 3


def test_kept_holds_and_routines_make_the_progress_a_restart_resumes(store):
    wall = datetime(2026, 3, 10, 9, 0).timestamp()
    clock = {"now": wall}
    routine, keeper = build_routine(DEFAULTS, store, wall=lambda: clock["now"], start=False)
    t = 0.0
    routine.on_event(Event(ev.STEP_ON, t))
    for i in range(5):
        routine.on_event(Event(ev.STRETCH_START, t + 1))
        routine.on_event(Event(ev.HOLD_START, t + 2))
        bounced = i == 2
        routine.on_event(Event(ev.STRETCH_END, t + 40, {"hold_start": t + 2, "hold_s": 35.0, "breaths": 4,
                                                        "bounces": 1 if bounced else 0, "completed": True}))
        t += 60
        clock["now"] += 60
    keeper.drain()
    day = routine.day
    kept = records.holds(store, day)
    assert [h["outcome"] for h in kept] == ["clean", "clean", "bounced", "clean", "clean"]
    assert [h["slot"] for h in kept] == [0, 1, None, 2, 3]
    assert BOOK.progress(store, routine.settings.profile.id, clock["now"]).done_slots == (0, 1, 2, 3)

    # a restart (a power cut: nothing closed) resumes at the fifth slot
    again, _ = build_routine(DEFAULTS, store, wall=lambda: clock["now"], start=False)
    assert again.status()["slot"] == routine.status()["slot"]
    assert again.status()["slot"]["label"] == "right leg, knee straight, 3 of 4"


def test_the_keeper_offers_new_settings_when_the_web_changed_them(store):
    routine, keeper = build_routine(DEFAULTS, store, start=False)
    assert keeper.check_settings() is False          # nothing changed
    records.update_profile(store, routine.settings.profile.id, {"target_s": 45}, BOOK.protocols)
    assert keeper.check_settings() is True
    routine.poll(0.0, 0.0)
    assert routine.take_target() == (45.0, 0)
    records.put_device_settings(store, {"buzzer": False})
    keeper.check_settings()
    routine.poll(0.1, 0.0)
    assert routine.settings.buzzer is False


def test_the_button_switches_to_the_next_profile_or_the_suggested_one(store):
    routine, keeper = build_routine(DEFAULTS, store, start=False)
    first = routine.settings.profile
    second = records.add_profile(store, {"name": "Bo"}, BOOK.protocols, BOOK.first_profile)
    keeper.check_settings()
    keeper.next_profile()
    keeper.drain()
    routine.poll(0.0, 0.0)
    assert routine.settings.profile.id == second.id
    keeper.next_profile()
    keeper.drain()
    routine.poll(0.1, 0.0)
    assert routine.settings.profile.id == first.id


def test_the_keeper_thread_reloads_on_its_own(store):
    """The real thread, polling every 10 ms; the test waits on its offer, not on a fixed time."""
    routine, keeper = build_routine(DEFAULTS, store, start=False)
    offered = threading.Event()
    offer = routine.offer
    routine.offer = lambda *args: (offer(*args), offered.set())
    keeper.poll_s = 0.01
    keeper.start()
    records.update_profile(store, routine.settings.profile.id, {"target_s": 40}, BOOK.protocols)
    assert offered.wait(10)
    keeper.close()
    routine.poll(0.0, 0.0)
    assert routine.target_s == 40.0


def test_history_counts_the_routines_done_against_the_active_profiles_goal(store):
    """GET /api/history (the lead's) reads the routines this package keeps, cut by the same day."""
    import time

    from firmware.history import history_context
    from firmware.live import LiveState
    from webui import create_app

    routine, keeper = build_routine(DEFAULTS, store, start=False)
    done = {"profile_id": routine.settings.profile.id, "day": routine.day, "status": "done",
            "protocol": "step-calf", "tighter_side": "right", "slots": 14, "done_slots": list(range(14))}
    for seq in (1, 2):
        records.save_routine(store, {**done, "seq": seq, "wall": time.time()})
    records.update_profile(store, routine.settings.profile.id, {"daily_goal": 2}, BOOK.protocols)
    app = create_app(store, LiveState(), history=history_context(DEFAULTS, store))
    today = app.test_client().get("/api/history?days=1").get_json()["days"][-1]
    assert (today["day"], today["routines"], today["goal"], today["goal_met"]) == (routine.day, 2, 2, True)


def test_a_learned_standing_load_reaches_the_suggestion(store):
    routine, keeper = build_routine(DEFAULTS, store, start=False)
    me = routine.settings.profile
    bo = records.add_profile(store, {"name": "Bo"}, BOOK.protocols, BOOK.first_profile)
    records.learn_stand(store, bo.id, 45.0)
    records.learn_stand(store, me.id, 30.0)
    records.learn_stand(store, me.id, 32.0)                   # 30 + 0.3 * (32 - 30)
    assert records.profile(store, me.id).stand_kg == 30.6
    assert keeper.check_settings() is True
    routine.poll(0.0, 0.0)
    assert {p.name: p.stand_kg for p in routine.settings.profiles} == {"me": 30.6, "Bo": 45.0}
