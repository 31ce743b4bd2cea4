"""`stretchstep reanalyze`: replay kept session traces through today's detector, update history.

Why: the detector improves; the raw samples of past sessions are kept (`TraceKeeper`), so the
history can be brought up to what the newer detector sees instead of staying with what an older
one reported live. Each kept file's stretches are replaced in one transaction, only within the
time that file covers (older days may have been pruned: their stretches stay); a file that says
its keeper dropped samples (`# dropped=N`) is left alone, as its gaps would lose stretches. The routine slot a
stretch was done for (leg, knee, rep) is carried over from the old stretch it overlaps most in
source time, as that came from the routine at the time, not from the samples. Events stay as
they were reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from firmware import events as ev
from firmware.analysis import analyze_samples
from firmware.events import Event
from firmware.sensors.base import Sample
from firmware.sensors.trace import iter_trace, rate_from
from firmware.store import Store
from firmware.traces.keeper import session_traces

SLOT_KEYS = ("leg", "knee", "rep")
END_SLACK_S = 0.01   # a stretch's end is rounded to the ms: within this of the last sample is "at" it


class TraceIncomplete(ValueError):
    """A kept trace lacks samples (its keeper dropped them): a replay would lose stretches."""


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


class _Span:
    """Watches the samples go by: the first and last `t` of a file."""

    def __init__(self) -> None:
        self.first = self.last = None

    def watch(self, samples: Iterable[Sample]) -> Iterator[Sample]:
        for s in samples:
            if self.first is None:
                self.first = s.t
            self.last = s.t
            yield s


def reanalyze(store: Store, data_dir: str | Path, since: float, *, target_s: float = 30.0,
              target_breaths: int = 0, body_kg: float | None = None,
              echo: Callable[[str], None] = print) -> dict[str, int]:
    """Every session started at or after `since` (or still running then) with kept traces; the
    detector is told the targets and body weight given (the live detector's, see cli_history)."""
    sessions = store.connection().execute(
        "SELECT id FROM sessions WHERE COALESCE(ended, 1e300) >= ? ORDER BY id", (since,)).fetchall()
    totals = {"files": 0, "old": 0, "new": 0, "sessions_without_trace": 0, "incomplete": 0}
    for session in sessions:
        paths = session_traces(data_dir, session["id"])
        if not paths:
            totals["sessions_without_trace"] += 1
        for path in paths:
            try:
                old, new = reanalyze_file(store, session["id"], path, target_s=target_s,
                                          target_breaths=target_breaths, body_kg=body_kg)
            except TraceIncomplete as exc:
                totals["incomplete"] += 1
                echo(f"{path.name}: left as it was: {exc}")
                continue
            totals["files"] += 1
            totals["old"] += old
            totals["new"] += new
            echo(f"{path.name}: {old} stretches before, {new} now")
    return totals


def reanalyze_file(store: Store, session_id: int, path: Path, *, target_s: float = 30.0,
                   target_breaths: int = 0, body_kg: float | None = None) -> tuple[int, int]:
    meta: dict[str, str] = {}
    span = _Span()
    result = analyze_samples(span.watch(iter_trace(path, meta)), rate_hz=_rate(path), target_s=target_s,
                             target_breaths=target_breaths, body_kg=body_kg)
    if span.first is None:
        return 0, 0
    if meta.get("dropped", "0") != "0":
        raise TraceIncomplete(f"{meta['dropped']} of its samples were dropped while it was kept (the "
                              "disk fell behind), so a replay would lose the stretches in the gaps")
    try:
        wall0, t0 = float(meta["wall_t0"]), float(meta["t0"])
        pace = float(meta["wall_per_t"]) if "wall_per_t" in meta else None
    except (KeyError, ValueError):
        return 0, 0  # not a kept trace: no way to place it on the wall clock
    return _replace(store, session_id, result["stretches"], (span.first, span.last), (wall0, t0), pace)


def _rate(path: Path) -> float | None:
    """The header's rate: the detector must know it before the first sample."""
    head: dict[str, str] = {}
    next(iter_trace(path, head), None)
    return rate_from(head, [], str(path)) if "rate_hz" in head else None


def wall_per_t(old: list[dict[str, Any]]) -> float:
    """Wall seconds per second of source time, from the stretches stored live (their `end_t` and
    `wall`): 1 on a real sensor, 1/N for a simulated person run at `--speed N`. Why: a file is
    placed on the wall clock from its first sample; at any other pace than 1 every later stretch
    would land at the wrong time, and would take the wrong routine slot. Only for files kept
    before the keeper wrote its pace in the header (`# wall_per_t=`); with fewer than two
    stretches stored it cannot tell and says 1."""
    timed = sorted((o["end_t"], o["wall"]) for o in old if o["end_t"] is not None and o["wall"] is not None)
    if len(timed) < 2 or timed[-1][0] - timed[0][0] < 1.0:
        return 1.0
    pace = (timed[-1][1] - timed[0][1]) / (timed[-1][0] - timed[0][0])
    return pace if 0.001 <= pace <= 1000 else 1.0


def _replace(store: Store, session_id: int, stretches: list[dict[str, Any]], covered: tuple[float, float],
             origin: tuple[float, float], pace: float | None = None) -> tuple[int, int]:
    """Swap the session's stretches that ended within the file's source time `covered` for the
    new ones; each keeps the routine slot of the old stretch it overlaps most, in source time."""
    conn = store.connection()
    conn.execute("BEGIN IMMEDIATE")
    try:
        where = "session_id = ? AND end_t >= ? AND end_t <= ?"
        args = (session_id, covered[0], covered[1])
        old = [dict(r) for r in conn.execute(
            f"SELECT start, end_t, wall, leg, knee, rep FROM stretches WHERE {where}", args)]
        outlasting = [dict(r) for r in conn.execute(
            "SELECT start, end_t FROM stretches WHERE session_id = ? AND end_t > ?",
            (session_id, covered[1]))]
        conn.execute(f"DELETE FROM stretches WHERE {where}", args)
        wall0, t0 = origin
        pace = pace if pace is not None and 0.001 <= pace <= 1000 else wall_per_t(old)
        stretches = [s for s in stretches if not _cut_short(s, covered[1], outlasting)]
        for stretch in stretches:
            span = (stretch["start"], stretch["end"])
            data = {k: v for k, v in stretch.items() if k != "breath_times"}
            match = max(old, key=lambda o: _overlap(span, _source_span(o)), default=None)
            if match is not None and _overlap(span, _source_span(match)) > 0:
                data.update({k: match[k] for k in SLOT_KEYS if match[k] is not None})
            data["reanalyzed"] = True
            store.insert_stretch(conn, session_id, Event(ev.STRETCH_END, stretch["end"], data),
                                 wall0 + (stretch["end"] - t0) * pace, data, wall_per_t=pace)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return len(old), len(stretches)


def _cut_short(stretch: dict[str, Any], file_end: float, outlasting: list[dict[str, Any]]) -> bool:
    """A stretch the file's end closed (the detector's finish ends an open one at the last sample)
    while a stored stretch runs on past that end: the stored one saw it whole, so it stays and the
    cut-off copy is not added beside it. Why: a kept file shorter than its session (an export taken
    while `run` was writing, a power cut before the keeper's last flush) gave that stretch twice."""
    if stretch["end"] < file_end - END_SLACK_S:
        return False
    span = (stretch["start"], stretch["end"] + END_SLACK_S)
    return any(_overlap(span, _source_span(o)) > 0 for o in outlasting)


def _source_span(row: dict[str, Any]) -> tuple[float, float]:
    end = row["end_t"]
    return (row["start"] if row["start"] is not None else end, end)
