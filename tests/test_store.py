"""History store: schema, WAL, rows, local-day counts, and a writer that outlives disk errors."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime

import pytest

from firmware import events as ev
from firmware.events import Event
from firmware.history import DayClock, today_counts
from firmware.store import SCHEMA_VERSION, Store, StoreError, StoreWriter


def stretch_end(t: float, *, completed: bool = True, breaths: int = 4, bounces: int = 0) -> Event:
    return Event(ev.STRETCH_END, t, {"start": t - 30, "hold_start": t - 27, "end": t, "hold_s": 26.0,
                                     "breaths": breaths, "bounces": bounces, "completed": completed,
                                     "peak_kg": 61.5})


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> float:
    return datetime(y, m, d, hh, mm).timestamp()


def test_new_file_in_a_new_folder_gets_schema_version_and_wal(tmp_path):
    store = Store(tmp_path / "data" / "history.sqlite")
    assert store.path.exists()
    assert store.schema_version == SCHEMA_VERSION >= 1
    assert store.journal_mode == "wal"
    store.close()


def test_reopen_keeps_rows_and_newer_schema_is_refused(tmp_path):
    path = tmp_path / "h.sqlite"
    first = Store(path)
    sid = first.start_session("simulated", 100.0)
    first.close()
    again = Store(path)
    assert again.counts()["sessions"] == 1 and sid == 1
    again.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_stretch_end_writes_event_and_stretch_row_with_context(store):
    sid = store.start_session("simulated", 1000.0)
    store.add_event(sid, Event(ev.BREATH, 12.0, {"n": 1, "kg": 60.0}), 1012.0, {"leg": "right"})
    store.add_event(sid, stretch_end(40.0), 1040.0, {"leg": "right", "knee": "bent", "rep": 2})
    store.end_session(sid, 1100.0)
    rows = store.stretches()
    assert len(rows) == 1
    row = rows[0]
    assert (row["leg"], row["knee"], row["rep"]) == ("right", "bent", 2)
    assert row["completed"] is True and row["breaths"] == 4 and row["peak_kg"] == 61.5
    assert row["start"] == 10.0 and row["end"] == 40.0 and row["duration_s"] == 30.0
    assert row["wall"] == 1040.0 and row["wall_start"] == 1010.0
    kinds = [e["kind"] for e in store.events()]
    assert kinds == ["stretch_end", "breath"]
    assert store.counts() == {"sessions": 1, "stretches": 1, "events": 2, "pain_log": 0}


def test_stretches_since_and_limit_newest_first(store):
    for i in range(5):
        store.add_event(1, stretch_end(10.0 * i), 1000.0 + i, {})
    assert [r["wall"] for r in store.stretches(since=1002.0)] == [1004.0, 1003.0, 1002.0]
    assert [r["wall"] for r in store.stretches(limit=2)] == [1004.0, 1003.0]


def test_today_counts_only_the_day_its_clock_cuts(store):
    midnight = DayClock(0)                     # a day start at 00:00: calendar days
    day_before = local(2026, 3, 9, 23, 59)
    morning, evening = local(2026, 3, 10, 0, 1), local(2026, 3, 10, 23, 58)
    store.add_event(0, stretch_end(1.0), day_before, {"leg": "right", "knee": "straight"})
    store.add_event(0, stretch_end(2.0), morning, {"leg": "right", "knee": "straight"})
    store.add_event(0, stretch_end(3.0, completed=False, breaths=1, bounces=1), evening,
                    {"leg": "left", "knee": "bent"})
    store.add_event(0, Event(ev.BOUNCE, 2.5, {"hz": 2.0}), evening - 5, {"leg": "left"})
    today = today_counts(store, midnight, now=local(2026, 3, 10, 12))
    assert today["date"] == "2026-03-10"
    assert today["stretches"] == 2 and today["completed_holds"] == 1
    assert today["bounces"] == 1 and today["breaths"] == 5
    assert today["by_side"]["right"] == {"stretches": 1, "completed_holds": 1, "bounces": 0,
                                         "by_knee": {"straight": 1}}
    assert today["by_side"]["left"]["bounces"] == 1 and today["by_side"]["left"]["completed_holds"] == 0
    assert today_counts(store, midnight, now=local(2026, 3, 11, 0, 0))["stretches"] == 0
    at_four = today_counts(store, DayClock(4 * 60), now=local(2026, 3, 10, 12))
    assert (at_four["stretches"], at_four["completed_holds"]) == (1, 0)   # 00:01 was the night before


def test_store_is_usable_from_many_threads(store):
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(20):
                store.add_event(0, Event(ev.BREATH, float(j), {"n": j}), 1000.0 + i, {})
            today_counts(store, DayClock(), now=1000.0)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and store.counts()["events"] == 80


def test_writer_writes_in_background_and_flush_waits(store):
    writer = StoreWriter(store)
    for i in range(300):
        writer.record(1, Event(ev.BREATH, float(i), {"n": i}), 1000.0 + i, {"leg": "left"})
    writer.record(1, stretch_end(400.0), 1400.0, {"leg": "left", "knee": "bent", "rep": 1})
    assert writer.flush(timeout=5.0) is True
    assert store.counts()["events"] == 301 and store.stretches()[0]["leg"] == "left"
    writer.close()
    writer.close()


class FlakyStore(Store):
    """A disk that fails the first `failures` writes (e.g. full, or yanked and remounted)."""

    failures = 0

    def add_events(self, items):
        if self.failures > 0:
            self.failures -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return super().add_events(items)


def test_writer_survives_disk_errors_and_retries(tmp_path):
    store = FlakyStore(tmp_path / "h.sqlite")
    store.failures = 2
    writer = StoreWriter(store, retry_delays=(0.0, 0.0, 0.0), sleep=lambda s: None)
    writer.record(1, Event(ev.STEP_ON, 1.0), 1001.0, {})
    assert writer.flush(timeout=5.0) is True
    assert writer.errors == 2 and writer.written == 1 and store.counts()["events"] == 1
    assert "disk I/O error" in (writer.last_error or "")
    writer.close()
    store.close()


def test_writer_keeps_what_it_can_when_the_disk_stays_broken(tmp_path):
    store = FlakyStore(tmp_path / "h.sqlite")
    store.failures = 10**9
    writer = StoreWriter(store, retry_delays=(0.0,), sleep=lambda s: None)
    writer.record(1, Event(ev.STEP_ON, 1.0), 1001.0, {})
    assert writer.flush(timeout=5.0) is False          # lost, and flush says so
    assert writer.dropped == 1 and writer.errors >= 2
    store.failures = 0                                  # the disk comes back: the thread is alive
    writer.record(1, Event(ev.STEP_OFF, 2.0), 1002.0, {})
    assert writer.flush(timeout=5.0) is True           # nothing lost since the last flush
    assert writer.written == 1 and [e["kind"] for e in store.events()] == ["step_off"]
    writer.close()
    store.close()


def test_writer_reconnects_after_its_connection_is_closed(store):
    writer = StoreWriter(store, retry_delays=(0.0,), sleep=lambda s: None)
    writer.record(1, Event(ev.STEP_ON, 1.0), 1001.0, {})
    assert writer.flush()
    for conn in list(store._all):   # yank every connection, the writer thread's included
        conn.close()
    store.reconnect()               # this thread's own, so the asserts below can read
    writer.record(1, Event(ev.STEP_OFF, 2.0), 1002.0, {})
    assert writer.flush(timeout=5.0) is True
    assert writer.errors >= 1 and store.counts()["events"] == 2
    writer.close()


def test_record_never_blocks_even_when_the_queue_is_full(store):
    gate = threading.Event()

    class SlowStore:
        def add_events(self, items):
            gate.wait(5)
            return store.add_events(items)

        def reconnect(self):
            pass

    writer = StoreWriter(SlowStore(), max_queue=5)  # type: ignore[arg-type]
    started = time.perf_counter()
    for i in range(100):
        writer.record(1, Event(ev.BREATH, float(i)), 1000.0 + i, {})
    assert time.perf_counter() - started < 0.5
    assert writer.dropped >= 90
    gate.set()
    writer.flush(timeout=5.0)
    writer.close()
    assert store.counts()["events"] == 100 - writer.dropped


