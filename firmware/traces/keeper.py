"""`TraceKeeper`: a sink beside the sampling loop that keeps the session's raw samples on disk.

Why this shape: the loop must never wait on the disk, so `on_sample` only appends to a bounded
buffer and returns; a thread writes the buffer every few seconds as one more gzip member of the
trace file (DESIGN §5 format, `.csv.gz`), or as soon as the buffer is half full (a sped-up run). A
member is complete once written, so a crash or power cut loses at most the last few seconds, and
readers stop cleanly at a torn last member. When the disk falls behind, samples are dropped and
counted, never queued without bound, and the file says how many it lacks (`# dropped=N`).

Only time on the step is kept (with a few seconds either side, so a replay sees the step-on and
step-off): an empty step all day would be millions of zeros. One file per session and day
(`session-<id>-<YYYY-MM-DD>.csv.gz`), so a day's trace is read without the days before it.
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware.events import Event
from firmware.history.days import DayClock
from firmware.sensors.trace import MAGIC

log = logging.getLogger(__name__)

FLUSH_S = 5.0
MARGIN_S = 5.0


def trace_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "traces"


def trace_name(session_id: int, day: str) -> str:
    """The file name a session's trace of `day` (YYYY-MM-DD) is kept under."""
    return f"session-{session_id}-{day}.csv.gz"


def trace_day(path: Path) -> str:
    """The day (YYYY-MM-DD) a kept trace file is for, read back from `trace_name`'s name."""
    return path.name.split("-", 2)[2].removesuffix(".csv.gz")


def session_traces(data_dir: str | Path, session_id: int) -> list[Path]:
    """A session's kept trace files, oldest day first."""
    return sorted(trace_dir(data_dir).glob(f"session-{session_id}-*.csv.gz"))


def prune_traces(data_dir: str | Path, keep_days: float, now: float | None = None) -> int:
    """Delete kept traces last written more than `keep_days` ago; returns how many went."""
    now = time.time() if now is None else now
    gone = 0
    for path in trace_dir(data_dir).glob("session-*.csv.gz"):
        try:
            if now - path.stat().st_mtime > keep_days * 86400:
                path.unlink()
                gone += 1
        except OSError as exc:
            log.warning("cannot prune %s: %s", path, exc)
    return gone


class TraceKeeper:
    """Keeps one session's on-step samples under `data_dir/traces/`."""

    name = "traces"   # its key in the sampler's health

    def __init__(self, data_dir: str | Path, session_id: int, rate_hz: float, *,
                 clock: DayClock | None = None, max_buffer: int = 80 * 120, flush_s: float = FLUSH_S,
                 wall: Callable[[], float] = time.time, wall_per_t: float | None = None) -> None:
        self.folder = trace_dir(data_dir)
        self.wall_per_t = wall_per_t  # wall seconds per source second (1/N at --speed N); None:
        # not known here, and reanalyze infers it from the stretches stored live
        self.folder.mkdir(parents=True, exist_ok=True)
        self.session_id = session_id
        self.rate_hz = rate_hz
        self.flush_s = flush_s
        self.clock = clock or DayClock()
        self._wall = wall
        self._margin = max(1, int(MARGIN_S * rate_hz))
        self._preroll: deque[tuple[float, float, float]] = deque(maxlen=self._margin)
        self._after = 0
        self._buffer: deque[tuple[float, float, float]] = deque()
        self._max = max_buffer
        self._wake = threading.Condition()
        self._closed = False
        self._hurry = False     # the buffer is half full: write now, not at the next flush
        self.written = 0
        self.dropped = 0
        self._noted = 0                          # of `dropped`, how many a file already says it lacks
        self._dropped_in: dict[Path, int] = {}   # per file, the samples it lacks (`# dropped=N`)
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name="trace-keeper", daemon=True)
        self._thread.start()

    def path_for(self, wall: float) -> Path:
        return self.folder / trace_name(self.session_id, self.clock.day_of(wall).isoformat())

    # --- the sink (called on the sampling loop: never blocks on the disk) ---------------------
    def on_sample(self, t: float, kg: float, status: dict[str, Any] | None = None) -> None:
        row = (t, kg, self._wall())
        if (status or {}).get("state", "standing") != "empty":
            self._after = self._margin
            while self._preroll:
                self._keep(self._preroll.popleft())
            self._keep(row)
        elif self._after > 0:
            self._after -= 1
            self._keep(row)
        else:
            self._preroll.append(row)

    def on_event(self, event: Event, status: dict[str, Any] | None = None) -> None:
        """Events are history's business (the store); the trace keeps samples only."""

    def _keep(self, row: tuple[float, float, float]) -> None:
        if len(self._buffer) >= self._max:
            self.dropped += 1
            return
        self._buffer.append(row)
        if len(self._buffer) >= self._max // 2 and not self._hurry:
            # Why not wait for the flush: at --speed 50 a flush's worth is 20 000 samples, twice
            # the buffer, and half of every sped-up run was dropped (then lost to `reanalyze`).
            # The lock is taken once per half buffer, never per sample.
            with self._wake:
                self._hurry = True
                self._wake.notify()

    def health(self) -> dict[str, Any]:
        return {"written": self.written, "dropped": self.dropped, "errors": self.errors}

    def close(self, timeout: float = 5.0) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout)

    # --- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._closed and not self._hurry:
                    self._wake.wait(self.flush_s)
                self._hurry = False
                closing = self._closed
            self._write_pending()
            if closing:
                return

    def _write_pending(self) -> None:
        by_path: dict[Path, list[tuple[float, float, float]]] = {}
        for _ in range(len(self._buffer)):      # what is there now: the loop goes on appending
            row = self._buffer.popleft()
            by_path.setdefault(self.path_for(row[2]), []).append(row)
        for path, rows in by_path.items():
            self._append(path, rows)

    def _append(self, path: Path, rows: list[tuple[float, float, float]]) -> None:
        fresh = not path.exists() or path.stat().st_size == 0
        pace = [] if self.wall_per_t is None else [f"# wall_per_t={self.wall_per_t:.6g}"]
        lines = [MAGIC, f"# rate_hz={self.rate_hz:g}", f"# session={self.session_id}",
                 f"# wall_t0={rows[0][2]:.3f}", f"# t0={rows[0][0]:.4f}", *pace, "t,kg"] if fresh else []
        lacking = self.dropped - self._noted      # dropped since the last write: a gap before these
        total = self._dropped_in.get(path, 0) + lacking
        if lacking:                                # the file says so, and `reanalyze` leaves it alone
            lines.append(f"# dropped={total}")
        lines.extend(f"{t:.4f},{'nan' if kg != kg else format(kg, '.4f')}" for t, kg, _ in rows)
        try:
            with gzip.open(path, "ab", compresslevel=6) as fh:  # one complete member per write
                fh.write(("\n".join(lines) + "\n").encode("ascii"))
            path.chmod(0o600)
            self.written += len(rows)
            self._noted += lacking
            self._dropped_in[path] = total
        except OSError as exc:
            self.errors += 1
            self.dropped += len(rows)
            log.warning("trace keeper: cannot write %s: %s", path, exc)
