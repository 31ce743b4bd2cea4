"""RoutineKeeper: the routine's disk work on its own thread, so the sampling loop never waits.

The routine hands it rows (`save_routine`, `add_hold`, `learn_stand` only enqueue). Between
writes, about once a second, the thread reads the settings revision; when the web process (or the
button) changed a profile or a setting, it loads the new settings — and, for another profile, that
profile's progress today — and offers them to the routine, which applies them between holds. One
thread does both, in order, so a profile switched to always sees that profile's latest rows.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from firmware.routine import records
from firmware.routine.session import Routine, RoutineSettings
from firmware.store import Store, StoreError

log = logging.getLogger(__name__)

Job = Callable[[Store], Any]


class RoutineKeeper:
    def __init__(self, store: Store, load: Callable[[Store], RoutineSettings], *, poll_s: float = 1.0,
                 max_queue: int = 10_000) -> None:
        self.store = store
        self.load = load
        self.poll_s = poll_s
        self.routine: Routine | None = None
        self.revision = records.revision(store)
        self.dropped = 0
        self.errors = 0
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None

    # --- the Saver the routine calls (never blocks) ---------------------------------------------
    def save_routine(self, row: dict[str, Any]) -> None:
        self._put(lambda store: records.save_routine(store, row))

    def add_hold(self, row: dict[str, Any]) -> None:
        self._put(lambda store: records.add_hold(store, row))

    def learn_stand(self, profile_id: int, kg: float) -> None:
        self._put(lambda store: records.learn_stand(store, profile_id, kg))

    def next_profile(self) -> None:
        """For the step's button (any thread, never blocks): switch to the profile the standing load
        suggests, else to the next profile in turn."""
        routine = self.routine
        suggested = routine.suggested.id if routine is not None and routine.suggested is not None else None
        current = routine.settings.profile.id if routine is not None else None
        self._put(lambda store: self._switch(store, suggested, current))

    def _switch(self, store: Store, suggested: int | None, current: int | None) -> None:
        ids = [p.id for p in records.profiles(store)]
        if not ids:
            return
        if suggested in ids:
            chosen = suggested
        elif current in ids:
            chosen = ids[(ids.index(current) + 1) % len(ids)]
        else:
            chosen = ids[0]
        records.activate(store, chosen)
        self.check_settings()

    def _put(self, job: Job) -> None:
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.dropped += 1

    # --- the thread -----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="routine-keeper", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop."""
        if self._thread is None:
            self.drain()
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=self.poll_s)
            except queue.Empty:
                self.check_settings()
                continue
            if job is None:
                return
            self._do(job)

    def drain(self) -> None:
        """Do every queued job now, in the caller's thread (tests, shutdown without a thread)."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                self._do(job)

    def _do(self, job: Job) -> None:
        try:
            job(self.store)
        except (sqlite3.Error, OSError, StoreError) as exc:
            self.errors += 1
            log.warning("routine keeper: write failed: %s: %s", type(exc).__name__, exc)
            self.store.reconnect()

    def check_settings(self) -> bool:
        """Offer the routine new settings when the revision moved; True when it did."""
        try:
            now = records.revision(self.store)
            if now == self.revision or self.routine is None:
                return False
            settings = self.load(self.store)
            progress = None
            if settings.profile.id != self.routine.settings.profile.id:
                progress = records.load_progress(self.store, settings.profile.id, self.routine.day)
        except (sqlite3.Error, OSError, StoreError, LookupError) as exc:
            self.errors += 1
            log.warning("routine keeper: cannot reload settings: %s: %s", type(exc).__name__, exc)
            return False
        self.revision = now
        self.routine.offer(settings, progress)
        return True

    def stats(self) -> dict[str, int]:
        return {"pending": self._queue.qsize(), "dropped": self.dropped, "errors": self.errors}
