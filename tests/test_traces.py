"""Kept session traces (issue 13 item 7): the keeper beside the loop, pruning, and `reanalyze`
replaying a kept trace through the detector into the history. Wall times come from a fake clock."""

from __future__ import annotations

import gzip
import math
import os
import time

import pytest

from firmware import events as ev
from firmware.analysis import analyze_samples
from firmware.config import Config
from firmware.events import Event
from firmware.history.days import DayClock
from firmware.sensors.trace import iter_trace
from firmware.sources import open_source
from firmware.store import Store
from firmware.traces import TraceKeeper, prune_traces, reanalyze, session_traces


def an_hour_ago() -> float:
    """A wall time about an hour ago, moved back if needed so that the next two hours stay in
    one history day: the keeper names its files by day (a day starts at 04:00), and a run begun
    an hour before 05:00 was kept in two files, failing the test only in that hour."""
    day = DayClock()
    start = time.time() - 3600
    end_of_day = day.bounds(day.day_of(start))[1]
    return min(start, end_of_day - 2 * 3600)


class WallClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def keep(keeper: TraceKeeper, clock: WallClock, samples, state: str = "standing", dt: float = 0.0125):
    for t, kg in samples:
        clock.now += dt
        keeper.on_sample(t, kg, {"state": state})


def test_only_time_on_the_step_is_kept_with_a_margin_either_side(tmp_path):
    clock = WallClock(an_hour_ago())
    k = TraceKeeper(tmp_path, 7, 10.0, wall=clock, flush_s=3600)
    keep(k, clock, [(i / 10, 0.0) for i in range(100)], state="empty", dt=0.1)          # 10 s empty
    keep(k, clock, [(10 + i / 10, 40.0) for i in range(30)], dt=0.1)                    # 3 s on
    keep(k, clock, [(13 + i / 10, 0.0) for i in range(200)], state="empty", dt=0.1)     # 20 s empty
    k.close()
    [path] = session_traces(tmp_path, 7)
    ts = [s.t for s in iter_trace(path)]
    assert len(ts) == 50 + 30 + 50 and ts[0] == pytest.approx(5.0) and ts[-1] == pytest.approx(17.9)
    assert (k.written, k.dropped) == (130, 0) and oct(path.stat().st_mode & 0o777) == "0o600"


@pytest.fixture
def stalled_disk(monkeypatch):
    """The keeper's writer held (a disk that fell behind) until the test sets the event."""
    import threading

    stalled = threading.Event()
    real = TraceKeeper._write_pending
    monkeypatch.setattr(TraceKeeper, "_write_pending", lambda self: (stalled.wait(60), real(self)))
    return stalled


def lossy_trace(folder, session_id: int, stalled, start_wall: float) -> TraceKeeper:
    """250 samples into a 100-sample buffer while the disk is stalled: 150 dropped."""
    clock = WallClock(start_wall)
    k = TraceKeeper(folder, session_id, 80.0, wall=clock, max_buffer=100, flush_s=3600)
    keep(k, clock, [(i / 80, 40.0) for i in range(250)])
    stalled.set()
    k.close()
    return k


def test_a_full_buffer_drops_and_counts_instead_of_growing_and_the_file_says_so(tmp_path, stalled_disk):
    k = lossy_trace(tmp_path, 1, stalled_disk, an_hour_ago())
    assert (k.written, k.dropped) == (100, 150)
    meta: dict[str, str] = {}
    [path] = session_traces(tmp_path, 1)
    assert len(list(iter_trace(path, meta))) == 100 and meta["dropped"] == "150"


def test_reanalyze_leaves_a_trace_that_lacks_samples_as_it_was(tmp_path, stalled_disk):
    """Replaying a file with gaps replaced 366 stretches with 176 (a `--speed 50` run that
    dropped half its samples): such a file says so, and its stretches stay."""
    start_wall = an_hour_ago()
    store = Store(tmp_path / "history.sqlite")
    sid = store.start_session("hx711", start_wall)
    # within the time the kept samples cover (0 to 1.24 s): a replay would have replaced it
    summary = {"start": 0.2, "end": 1.0, "hold_s": 0.5, "breaths": 1, "completed": False, "peak_kg": 40.0}
    slot = {"leg": "left", "knee": "bent"}
    store.add_event(sid, Event(ev.STRETCH_END, 1.0, summary), start_wall + 1.0, slot)
    lossy_trace(tmp_path, sid, stalled_disk, start_wall)
    said: list[str] = []
    totals = reanalyze(store, tmp_path, since=start_wall - 60, echo=said.append)
    assert (totals["files"], totals["incomplete"]) == (0, 1)
    [path] = session_traces(tmp_path, sid)
    assert said == [f"{path.name}: left as it was: 150 of its samples were dropped while it was kept "
                    "(the disk fell behind), so a replay would lose the stretches in the gaps"]
    [row] = store.stretches()
    assert (row["leg"], row["knee"], row["end"]) == ("left", "bent", 1.0) and not row.get("reanalyzed")
    store.close()


def test_a_half_full_buffer_is_written_without_waiting_for_the_flush(tmp_path, until):
    """A sped-up run (`--speed 50`: 4000 samples a wall second) fills the buffer twice between
    flushes: it used to drop half of them. Here the flush is an hour away."""
    clock = WallClock(an_hour_ago())
    k = TraceKeeper(tmp_path, 1, 80.0, wall=clock, max_buffer=100, flush_s=3600)
    keep(k, clock, [(i / 80, 40.0) for i in range(50)])
    until(lambda: k.written == 50)
    keep(k, clock, [(i / 80, 40.0) for i in range(50, 100)])
    until(lambda: k.written == 100)
    k.close()
    assert (k.written, k.dropped) == (100, 0)


def test_a_trace_torn_by_a_power_cut_reads_up_to_the_tear(tmp_path):
    clock = WallClock(an_hour_ago())
    k = TraceKeeper(tmp_path, 2, 80.0, wall=clock, flush_s=3600)
    keep(k, clock, [(i / 80, 40.0) for i in range(80)])
    k._write_pending()                                       # one complete gzip member
    keep(k, clock, [(1 + i / 80, 41.0) for i in range(80)])
    k.close()
    [path] = session_traces(tmp_path, 2)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])                 # the last member torn
    assert len(list(iter_trace(path))) >= 80


def test_prune_deletes_traces_older_than_the_days_kept(tmp_path):
    clock = WallClock(an_hour_ago())
    for sid in (1, 2):
        k = TraceKeeper(tmp_path, sid, 10.0, wall=clock, flush_s=3600)
        keep(k, clock, [(0.0, 1.0)])
        k.close()
    old = session_traces(tmp_path, 1)[0]
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    assert prune_traces(tmp_path, keep_days=30) == 1
    assert not old.exists() and session_traces(tmp_path, 2)


def test_reanalyze_replaces_a_sessions_stretches_and_keeps_the_routine_slot(tmp_path):
    source = open_source("simulated:good_routine", Config(), fast=True)
    samples = [(s.t, s.kg) for s in source.samples()]
    source.close()
    truth = analyze_samples(samples, rate_hz=80.0)["stretches"]
    assert len(truth) >= 2
    start_wall = an_hour_ago()
    store = Store(tmp_path / "history.sqlite")
    sid = store.start_session("hx711", start_wall)
    clock = WallClock(start_wall)
    k = TraceKeeper(tmp_path, sid, 80.0, wall=clock, flush_s=3600, max_buffer=len(samples))
    t0 = samples[0][0]
    for t, kg in samples:
        clock.now = start_wall + (t - t0)
        k.on_sample(t, kg, {"state": "standing"})
    k.close()
    # what an older detector stored live: one stretch, marked with its routine slot, badly timed
    first = truth[0]
    old = Event(ev.STRETCH_END, first["end"], {**first, "breaths": 0, "completed": False})
    store.add_event(sid, old, start_wall + (first["end"] - t0), {"leg": "left", "knee": "bent", "rep": 2})
    totals = reanalyze(store, tmp_path, since=start_wall - 60, echo=lambda _m: None)
    assert (totals["files"], totals["old"], totals["new"]) == (1, 1, len(truth))
    rows = store.stretches(limit=100)[::-1]
    assert [r["breaths"] for r in rows] == [s["breaths"] for s in truth]
    assert [rows[0][k] for k in ("leg", "knee", "rep", "reanalyzed")] == ["left", "bent", 2, True]
    assert rows[1]["leg"] is None
    assert abs(rows[0]["wall"] - (start_wall + first["end"] - t0)) < 0.05
    store.close()


def kept_sped_up_run(tmp_path, speed: float, kept_until=None, **keeper: float):
    """A simulated routine kept by a TraceKeeper at `speed` times the wall clock (`--speed`),
    with its session begun an hour ago: (store, session id, the stretches, wall start, t0).
    `kept_until(stretches)`: the source time after which the kept file stops (default: none)."""
    source = open_source("simulated:good_routine", Config(), fast=True)
    samples = [(s.t, s.kg) for s in source.samples()]
    source.close()
    truth = analyze_samples(samples, rate_hz=80.0)["stretches"]
    assert len(truth) >= 3
    start_wall, t0 = an_hour_ago(), samples[0][0]
    store = Store(tmp_path / "history.sqlite")
    sid = store.start_session("simulated", start_wall)
    clock = WallClock(start_wall)
    k = TraceKeeper(tmp_path, sid, 80.0, wall=clock, flush_s=3600, max_buffer=len(samples), **keeper)
    last = kept_until(truth) if kept_until is not None else math.inf
    for t, kg in samples:
        if t > last:
            break
        clock.now = start_wall + (t - t0) / speed
        k.on_sample(t, kg, {"state": "standing"})
    k.close()
    return store, sid, truth, start_wall, t0


def test_reanalyze_of_a_sped_up_simulated_run_keeps_each_stretch_its_slot_and_time(tmp_path):
    """`./dev run --speed 5`: source time runs 5x the wall clock. Each stretch keeps its own
    routine slot and its wall time (placing the file 1:1 gave later stretches other slots)."""
    speed = 5.0
    store, sid, truth, start_wall, t0 = kept_sped_up_run(tmp_path, speed)
    slots = [("right" if n % 2 == 0 else "left", "straight", n + 1) for n in range(len(truth))]
    for stretch, (leg, knee, rep) in zip(truth, slots, strict=True):   # as stored live, with the slot
        store.add_event(sid, Event(ev.STRETCH_END, stretch["end"], stretch),
                        start_wall + (stretch["end"] - t0) / speed, {"leg": leg, "knee": knee, "rep": rep})
    before = [r["wall"] for r in store.stretches(limit=100)[::-1]]
    totals = reanalyze(store, tmp_path, since=start_wall - 60, echo=lambda _m: None)
    assert (totals["old"], totals["new"]) == (len(truth), len(truth))
    rows = store.stretches(limit=100)[::-1]
    assert [(r["leg"], r["knee"], r["rep"]) for r in rows] == slots
    assert max(abs(r["wall"] - w) for r, w in zip(rows, before, strict=True)) < 0.05
    for r in rows:   # its start on the wall clock at the run's pace: within the session
        assert start_wall <= r["wall_start"] < r["wall"], r
        assert r["wall"] - r["wall_start"] == pytest.approx(r["duration_s"] / speed, abs=0.01)
    store.close()


def test_reanalyze_leaves_stretches_outside_the_kept_trace_alone(tmp_path):
    store = Store(tmp_path / "history.sqlite")
    sid = store.start_session("hx711", 1000.0)
    store.add_event(sid, Event(ev.STRETCH_END, 5.0, {"start": 1.0, "end": 5.0}), 1005.0, {})
    clock = WallClock(an_hour_ago())
    k = TraceKeeper(tmp_path, sid, 10.0, wall=clock, flush_s=3600)
    keep(k, clock, [(100 + i / 10, 0.5) for i in range(50)], dt=0.1)
    k.close()
    assert reanalyze(store, tmp_path, since=0, echo=lambda _m: None)["old"] == 0
    assert store.counts()["stretches"] == 1
    store.close()


def test_kept_traces_are_gzip_in_the_trace_format(tmp_path):
    clock = WallClock(an_hour_ago())
    k = TraceKeeper(tmp_path, 3, 80.0, wall=clock, flush_s=3600)
    keep(k, clock, [(0.0, 1.0), (0.0125, float("nan"))])
    k.close()
    text = gzip.decompress(session_traces(tmp_path, 3)[0].read_bytes()).decode()
    assert text.startswith("# stretchstep trace v1\n# rate_hz=80\n# session=3\n# wall_t0=")
    assert text.rstrip().endswith("0.0125,nan")


def test_a_kept_trace_says_its_pace_so_reanalyze_places_a_sped_up_run_with_one_stretch_stored(tmp_path):
    """The keeper writes the run's pace in the header (`# wall_per_t=`): reanalyze no longer has
    to guess it from the stretches stored live, which it cannot do from fewer than two."""
    speed = 5.0
    store, sid, truth, start_wall, t0 = kept_sped_up_run(tmp_path, speed, wall_per_t=1.0 / speed)
    first = truth[0]   # only one stretch stored live (the run was stopped early, say)
    store.add_event(sid, Event(ev.STRETCH_END, first["end"], first),
                    start_wall + (first["end"] - t0) / speed, {})
    reanalyze(store, tmp_path, since=start_wall - 60, echo=lambda _m: None)
    rows = store.stretches(limit=100)[::-1]
    assert len(rows) == len(truth)
    for r, s in zip(rows, truth, strict=True):
        assert r["wall"] == pytest.approx(start_wall + (s["end"] - t0) / speed, abs=0.05)
    store.close()


def test_a_stretch_the_kept_files_end_cuts_off_stays_as_stored_and_is_not_added_twice(tmp_path):
    """The kept file stops part way through a hold (exported while `run` was writing, or a power
    cut before the keeper's last flush) while the stretch was stored whole: the replay closes it at
    the file's end, and that cut-off copy used to be added beside the stored one."""
    store, sid, truth, start_wall, t0 = kept_sped_up_run(
        tmp_path, 1.0, kept_until=lambda stretches: stretches[1]["hold_start"] + 10.0)  # 10 s into hold 2
    for n, stretch in enumerate(truth):                      # what the live detector stored
        slot = {"leg": "right", "knee": "straight", "rep": n + 1}
        wall = start_wall + (stretch["end"] - t0)
        store.add_event(sid, Event(ev.STRETCH_END, stretch["end"], stretch), wall, slot)
    totals = reanalyze(store, tmp_path, since=start_wall - 60, echo=lambda _m: None)
    assert (totals["old"], totals["new"]) == (1, 1)
    rows = store.stretches(limit=100)[::-1]
    assert len(rows) == len(truth)
    assert [bool(r.get("reanalyzed")) for r in rows[:3]] == [True, False, False]
    assert rows[1]["hold_s"] == pytest.approx(truth[1]["hold_s"])    # whole, as stored
    store.close()
