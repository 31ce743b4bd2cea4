"""History (issue 13 items 3 and 4): day cutting, the pain log, daily figures, streaks, trends,
export round trip and the weekly report, all on a seeded store with wall times set by the test."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest

from firmware import events as ev
from firmware.events import Event
from firmware.history import (
    DayClock,
    History,
    ImportRefused,
    PainEntryMissing,
    PainLog,
    export_data,
    export_events,
    import_data,
    parse_day_start,
    render_report,
    to_csv,
)
from firmware.store import Store


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> float:
    return datetime(y, m, d, hh, mm).timestamp()


def stretch(t: float, *, completed: bool = True, bounces: int = 0, hold_s: float = 30.0,
            breaths: int = 5, peak: float = 60.0, standing: float | None = 40.0) -> Event:
    data = {"start": t - 35, "hold_start": t - 32, "end": t, "hold_s": hold_s, "breaths": breaths,
            "bounces": bounces, "completed": completed, "peak_kg": peak, "breaths_sure": True}
    if standing is not None:
        data["standing_kg"] = standing
    return Event(ev.STRETCH_END, t, data)


# --- days -------------------------------------------------------------------------------------
def test_a_day_starts_at_the_day_start_not_midnight():
    clock = DayClock(4 * 60)
    assert clock.day_of(local(2026, 3, 10, 0, 30)) == date(2026, 3, 9)
    assert clock.day_of(local(2026, 3, 10, 4, 0)) == date(2026, 3, 10)
    start, end = clock.bounds(date(2026, 3, 10))
    assert (start, end) == (local(2026, 3, 10, 4), local(2026, 3, 11, 4))
    assert [clock.part_of(local(2026, 3, 10, h)) for h in (5, 13, 19, 2)] == [
        "morning", "afternoon", "evening", "evening"]
    assert DayClock(0).day_of(local(2026, 3, 10, 0, 30)) == date(2026, 3, 10)


@pytest.mark.parametrize("text", ["4", "24:00", "04:60", "ab:cd", ""])
def test_a_bad_day_start_is_refused_saying_the_form(text):
    with pytest.raises(ValueError, match="HH:MM"):
        parse_day_start(text)
    assert parse_day_start("04:30") == 270


# --- the pain log -----------------------------------------------------------------------------
def test_a_second_entry_in_the_same_part_of_the_day_replaces_the_first(store):
    log = PainLog(store)
    first = log.add(local(2026, 3, 10, 8), 6, 5, "stiff")
    assert first["replaced"] is None and first["message"] == "logged for this morning"
    second = log.add(local(2026, 3, 10, 11), 4, None, " better ")
    assert second["replaced"] == first["entry"]["id"] and "replaced this morning" in second["message"]
    log.add(local(2026, 3, 10, 20), 3)
    entries = log.entries()
    assert [(e["part"], e["pain"], e["stiffness"], e["note"]) for e in entries] == [
        ("morning", 4, None, "better"), ("evening", 3, None, "")]


def test_pain_entries_can_be_corrected_and_deleted(store):
    log = PainLog(store)
    entry = log.add(local(2026, 3, 10, 8), 6, 5, "x")["entry"]
    edited = log.edit(entry["id"], {"pain": 2, "note": "typo"}, wall=local(2026, 3, 10, 9))
    assert (edited["pain"], edited["stiffness"], edited["note"], edited["part"]) == (2, 5, "typo", "morning")
    assert edited["edited"] == local(2026, 3, 10, 9)
    with pytest.raises(ValueError, match="unknown field"):
        log.edit(entry["id"], {"mood": 3}, wall=0.0)
    log.delete(entry["id"])
    assert log.entries() == []
    with pytest.raises(PainEntryMissing):
        log.delete(entry["id"])


@pytest.mark.parametrize("pain, stiffness, note, match", [
    (11, None, "", "pain must be a whole number from 0 to 10, got 11"),
    (None, None, "", "got null"), (True, None, "", "pain"), (3.5, None, "", "pain"),
    (3, -1, "", "stiffness"), (3, None, "x" * 501, "note"), (3, None, 7, "note"),
    (3, None, "\ud800", "not valid Unicode"),
])
def test_bad_pain_entries_are_refused_naming_the_field(store, pain, stiffness, note, match):
    with pytest.raises(ValueError, match=match):
        PainLog(store).add(local(2026, 3, 10, 8), pain, stiffness, note)
    assert PainLog(store).entries() == []


# --- daily figures ----------------------------------------------------------------------------
def seeded(store: Store) -> None:
    """Three days: the 8th clean, the 9th with a bounce and an early release, the 10th nothing."""
    for n, leg in enumerate(("right", "left", "right")):
        store.add_event(1, stretch(100.0 + n), local(2026, 3, 8, 9, n), {"leg": leg, "knee": "straight"})
    store.add_event(1, stretch(200.0, bounces=2, peak=64.0), local(2026, 3, 9, 9), {"leg": "right",
                                                                                    "knee": "straight"})
    store.add_event(1, stretch(201.0, completed=False, hold_s=12.0, breaths=2), local(2026, 3, 9, 10),
                    {"leg": "left", "knee": "bent"})
    store.add_event(1, stretch(202.0, peak=68.0), local(2026, 3, 9, 11), {"leg": "right", "knee": "straight"})
    log = PainLog(store)
    log.add(local(2026, 3, 8, 8), 6, 6)
    log.add(local(2026, 3, 8, 19), 4, 2)
    log.add(local(2026, 3, 9, 8), 3)


def routines(*walls: float):
    return lambda start, end: [w for w in walls if start <= w < end]


def test_history_per_day_answers_what_was_done_and_how_it_felt(store):
    seeded(store)
    h = History(store, goal=1, routines_done=routines(local(2026, 3, 8, 9, 30)))
    out = h.report(3, now=local(2026, 3, 10, 12))
    days = out["days"]
    assert [d["day"] for d in days] == ["2026-03-08", "2026-03-09", "2026-03-10"]
    d8, d9, d10 = days
    assert (d8["routines"], d8["goal_met"], d8["holds"], d8["clean"], d8["bounced"]) == (1, True, 3, 3, 0)
    assert (d8["pain"], d8["stiffness"], d8["hold_s"], d8["breaths_per_hold"]) == (5.0, 4.0, 90.0, 5.0)
    assert d8["per_slot"] == {"left-straight": {"holds": 1, "clean": 1, "bounced": 0},
                              "right-straight": {"holds": 2, "clean": 2, "bounced": 0}}
    assert (d9["holds"], d9["clean"], d9["bounced"], d9["stretches"], d9["goal_met"]) == (2, 1, 1, 3, False)
    assert d9["breaths_per_hold"] == 4.0 and d9["pain"] == 3.0
    assert d10 == {**d10, "stretches": 0, "holds": 0, "pain": None, "breaths_per_hold": None}
    assert out["pain_by_goal"] == {"goal_met": {"days": 1, "pain": 5.0},
                                   "goal_missed": {"days": 1, "pain": 3.0}}
    trend = out["trends"]["right"]["straight"]
    assert [(p["day"], p["share"], p["holds"]) for p in trend] == [
        ("2026-03-08", 1.5, 2), ("2026-03-09", 1.65, 2)]


def test_streak_counts_days_meeting_the_goal_and_waits_for_today(store):
    walls = [local(2026, 3, d, 9) for d in (5, 7, 8, 9)]
    h = History(store, goal=1, routines_done=routines(*walls))
    assert h.streak(now=local(2026, 3, 9, 20)) == 3      # 7, 8, 9
    assert h.streak(now=local(2026, 3, 10, 8)) == 3      # today still open
    assert h.streak(now=local(2026, 3, 11, 8)) == 0      # yesterday missed
    assert History(store, goal=0).streak(now=local(2026, 3, 9, 20)) == 0


@pytest.mark.parametrize("days", [0, 367, True, "7"])
def test_history_refuses_a_span_it_cannot_give(store, days):
    with pytest.raises(ValueError, match="days must be a whole number from 1 to 366"):
        History(store).report(days, now=local(2026, 3, 10, 12))


# --- export -----------------------------------------------------------------------------------
def seeded_routines(store: Store) -> None:
    """Two people; Ana active and her routine of the 8th done (a bounced hold asked for again)."""
    from firmware.routine import BUILTINS, records

    records.ensure_profile(store, {"name": "me", "tighter_side": "right", "protocol": "step-calf",
                                   "daily_goal": 2})
    catalogue = {p.id: p for p in BUILTINS}
    ana = records.add_profile(store, {"name": "Ana", "body_kg": 61.5, "tighter_side": "left"}, catalogue,
                              {"tighter_side": "right", "protocol": "step-calf", "daily_goal": 1})
    records.activate(store, ana.id)
    records.put_device_settings(store, {"buzzer": False, "spoken_cues": True})
    routine = {"profile_id": ana.id, "day": "2026-03-08", "seq": 1, "protocol": "step-calf",
               "tighter_side": "left", "slots": 2}
    records.add_hold(store, {**routine, "done_slots": [], "status": "open", "wall": local(2026, 3, 8, 9, 0),
                             "slot": None, "leg": "left", "knee": "straight", "rep": 1, "outcome": "bounced"})
    records.add_hold(store, {**routine, "done_slots": [0, 1], "status": "done",
                             "wall": local(2026, 3, 8, 9, 30), "slot": 1, "leg": "left", "knee": "straight",
                             "rep": 1, "outcome": "clean", "hold_s": 30.0, "breaths": 5, "bounces": 0})


def test_export_then_import_into_a_fresh_store_gives_the_same_history(store, tmp_path):
    from firmware.routine import records

    seeded(store)
    seeded_routines(store)
    store.start_session("hx711", local(2026, 3, 8, 8))
    clock = DayClock()
    first = export_data(store, clock) | {"events": list(export_events(store, page=4))}   # paged
    assert len(first["events"]) == 6
    assert [p["name"] for p in first["profiles"]] == ["me", "Ana"]
    assert first["settings"]["buzzer"] is False and "revision" not in first["settings"]
    fresh = Store(tmp_path / "fresh.sqlite")
    try:
        records.ensure_profile(fresh, {"name": "default", "tighter_side": "right", "protocol": "step-calf",
                                       "daily_goal": 3})    # what a first `stretchstep run` leaves behind
        added = import_data(fresh, json.loads(json.dumps(first)))
        assert added == {"profiles": 2, "sessions": 1, "stretches": 6, "events": 6, "pain": 3, "routines": 1,
                         "routine_holds": 2, "traces": 0}
        again = export_data(fresh, clock)
        for key in ("sessions", "stretches", "pain", "profiles", "settings", "routines", "routine_holds"):
            assert again[key] == first[key], key
        assert list(export_events(fresh)) == first["events"]
        assert records.active_profile(fresh).name == "Ana"                 # who was active, too
        assert records.routines_done(fresh, "2026-03-08") == 1             # history's routines vs goal
        with pytest.raises(ImportRefused, match="already holds history"):
            import_data(fresh, first)
    finally:
        fresh.close()


def test_a_version_1_export_imports_and_keeps_the_stores_profiles(store, tmp_path):
    from firmware.routine import records

    seeded(store)
    old = {k: v for k, v in export_data(store, DayClock()).items()
           if k not in ("profiles", "settings", "routines", "routine_holds")} | {"version": 1}
    fresh = Store(tmp_path / "fresh.sqlite")
    try:
        records.ensure_profile(fresh, {"name": "me", "tighter_side": "left", "protocol": "step-calf",
                                       "daily_goal": 3})
        added = import_data(fresh, old)
        assert (added["stretches"], added["profiles"], added["routines"]) == (6, 0, 0)
        assert [p.name for p in records.profiles(fresh)] == ["me"]
    finally:
        fresh.close()


def test_a_version_2_export_imports_its_rows_without_events_or_traces(store, tmp_path):
    seeded(store)
    seeded_routines(store)
    old = export_data(store, DayClock()) | {"version": 2}
    fresh = Store(tmp_path / "fresh.sqlite")
    try:
        added = import_data(fresh, old)
        counted = tuple(added[k] for k in ("stretches", "profiles", "routines", "events", "traces"))
        assert counted == (6, 2, 1, 0, 0)
    finally:
        fresh.close()


@pytest.mark.parametrize("data, match", [
    ([], "not a stretchstep export"), ({"format": "x"}, "not a stretchstep export"),
    ({"format": "stretchstep-export", "version": 99}, "version 99; this stretchstep reads versions 1, 2, 3"),
    ({"format": "stretchstep-export", "version": 2, "settings": []}, "settings must be an object"),
    ({"format": "stretchstep-export", "version": 2, "routines": [{"id": 1}]},
     r"routines\[0\] cannot be stored: NOT NULL"),
    ({"format": "stretchstep-export", "version": 1, "stretches": "x"}, "stretches must be a list"),
    ({"format": "stretchstep-export", "version": 3, "events": [{"id": 1, "kind": "breath"}]},
     r"events\[0\] cannot be stored: NOT NULL"),
    ({"format": "stretchstep-export", "version": 3,
      "traces": [{"session_id": 1, "day": "2026-03-08", "gzip_base64": "H4sI"}]},
     r"traces\[0\] is for session 1, which the export does not hold"),
    *[({"format": "stretchstep-export", "version": 3,
        "sessions": [{"id": 1, "source": "hx711", "started": 1.0}],
        "traces": [{"session_id": 1, "day": day, "gzip_base64": blob, "size": 9}]}, match)
      for day, blob, match in (("2026-03-08", "no base64!", "not base64"),
                               ("2026-03-08", "aGVsbG8=", "does not hold a gzip file"),
                               ("2026-03-08", "H4sIAA==", "holds 4 bytes where the export says 9"),
                               ("../../x", "H4sI", "day must be YYYY-MM-DD"),
                               ("2026-13-45", "H4sI", "day must be YYYY-MM-DD"))],
    *[({"format": "stretchstep-export", "version": 3,
        "sessions": [{"id": 1, "source": "hx711", "started": 1.0}],
        "traces": [{"session_id": sid, "day": "2026-03-08", "gzip_base64": "H4sI"}]},
       rf"traces\[0\]: session_id must be a number \(a session's id\), got {match}")
      for sid, match in (("1", "'1'"), (None, "None"), (1.5, "1.5"), (True, "True"))],
    ({"format": "stretchstep-export", "version": 3,
      "sessions": [{"id": 1, "source": "hx711", "started": 1.0}],
      "traces": [{"session_id": 1, "day": "2026-03-08", "gzip_base64": "H4sI"}] * 2},
     r"traces\[1\]: a second trace for session 1 on 2026-03-08"),
    ({"format": "stretchstep-export", "version": 1, "pain": [{"id": 1, "wall": 1.0, "pain": 44, "note": ""}]},
     r"pain\[0\] cannot be stored: CHECK constraint"),
    # SQLite would keep these as text or a fraction, and the export and report then broke on them
    ({"format": "stretchstep-export", "version": 1, "stretches": [{"id": 1, "wall": "x", "wall_start": 1.0}]},
     r"stretches\[0\].wall must be a number, got 'x'"),
    ({"format": "stretchstep-export", "version": 1,
      "stretches": [{"id": 1, "wall": float("nan"), "wall_start": 1.0}]},
     r"stretches\[0\].wall must be a number, got nan"),
    ({"format": "stretchstep-export", "version": 1,
      "pain": [{"id": 1, "wall": 1.0, "pain": 4.5, "note": ""}]},
     r"pain\[0\].pain must be a whole number, got 4.5"),
])
def test_a_bad_import_is_refused_and_adds_nothing(store, data, match):
    with pytest.raises(ImportRefused, match=match):
        import_data(store, data)
    assert store.counts() == {"sessions": 0, "stretches": 0, "events": 0, "pain_log": 0}
    assert not list(store.path.parent.glob("traces/*"))


def traces_export(blobs: list[bytes]) -> dict:
    import base64

    sessions = [{"id": n + 1, "source": "hx711", "started": 1.0} for n in range(len(blobs))]
    return {"format": "stretchstep-export", "version": 3, "sessions": sessions,
            "traces": [{"session_id": n + 1, "day": "2026-03-08", "size": len(b),
                        "gzip_base64": base64.b64encode(b).decode()} for n, b in enumerate(blobs)]}


def test_an_import_holds_one_decoded_trace_at_a_time(store, monkeypatch):
    """A year of traces decoded at once was most of an 846 MB import: each decoded trace is
    counted while alive (a bytes subclass that knows when it goes), and never two are."""
    import base64
    import gzip

    alive = {"now": 0, "most": 0}

    class Decoded(bytes):
        def __new__(cls, value: bytes):
            alive["now"] += 1
            alive["most"] = max(alive["most"], alive["now"])
            return super().__new__(cls, value)

        def __del__(self):
            alive["now"] -= 1

    real = base64.b64decode
    monkeypatch.setattr(base64, "b64decode", lambda *a, **k: Decoded(real(*a, **k)))
    blobs = [gzip.compress(f"t,kg\n0,{n}\n".encode()) for n in range(4)]
    added = import_data(store, traces_export(blobs))
    assert added["traces"] == 4 and alive["most"] == 1
    written = sorted(store.path.parent.glob("traces/*"))
    assert [p.read_bytes() for p in written] == blobs
    assert [p.name for p in written] == [f"session-{n}-2026-03-08.csv.gz" for n in range(1, 5)]


def test_a_bad_trace_after_good_ones_writes_none_of_them(store):
    import gzip

    data = traces_export([gzip.compress(b"t,kg\n0,1\n")] * 3)
    data["traces"][2]["gzip_base64"] = "aGVsbG8="
    with pytest.raises(ImportRefused, match=r"traces\[2\]: gzip_base64 does not hold a gzip file"):
        import_data(store, data)
    assert store.counts()["sessions"] == 0
    assert not list(store.path.parent.glob("traces/*")) and not list(store.path.parent.glob("traces/.*"))


def test_csv_export_has_a_row_per_stretch_and_pain_entry_with_day_and_slot(store):
    seeded(store)
    lines = to_csv(export_data(store, DayClock(), since=local(2026, 3, 9, 4))).splitlines()
    assert lines[0].startswith("type,id,day,time,leg,knee,rep,hold_s,breaths,breaths_sure,bounces")
    rows = [line.split(",") for line in lines[1:]]
    assert [r[0] for r in rows] == ["stretch", "stretch", "stretch", "pain"]
    assert rows[0][2:6] == ["2026-03-09", "2026-03-09T08:59:25", "right", "straight"]
    store.add_event(1, Event(ev.STRETCH_END, 101.624, {"start": 59.38, "end": 101.624, "hold_s": 37.673}),
                    local(2026, 3, 9, 12), {})
    last = to_csv(export_data(store, DayClock(), since=local(2026, 3, 9, 11, 30))).splitlines()[1].split(",")
    assert (last[7], last[13]) == ("37.673", "42.244")          # not 42.24399999999999 in a spreadsheet


# --- the weekly report ------------------------------------------------------------------------
def test_the_weekly_report_shows_the_same_figures_as_the_history(store):
    seeded(store)
    h = History(store, goal=1, routines_done=routines(local(2026, 3, 8, 9, 30)))
    figures = h.report(7, now=local(2026, 3, 10, 12))
    html = render_report(figures)
    assert html.startswith("<!doctype html>") and "<script" not in html and "http" not in html
    table = html.split('<table id="days">')[1].split("</table>")[0]
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in table.split("<tr>")[2:]]
    assert [c[0] for c in cells] == [d["day"] for d in figures["days"]]
    for c, d in zip(cells, figures["days"], strict=True):
        assert (int(c[2]), int(c[3]), int(c[4])) == (d["holds"], d["clean"], d["bounced"])
        assert c[7] == ("–" if d["pain"] is None else f"{d['pain']:g}")
        assert c[5] == f"{d['hold_s']:.0f} s"                           # under two minutes: seconds
    assert "<b>5</b>" in html.split('id="pain-by-goal"')[1]
    assert "(1 day with pain logged)" in html                           # not "1 days"
    trends = html.split('<table id="trends">')[1].split("</table>")[0]
    first = figures["trends"]["right"]["straight"][0]["share"]
    assert f"<td>{first * 100:.0f} %</td>" in trends                   # as the History page shows it
    long = render_report({**figures, "days": [{**figures["days"][0], "hold_s": 2890.4}]})
    assert "<td>48 min</td>" in long                                    # not "2890.4 s"
    assert html.count("<polyline") == 2  # pain on the 8th-9th, stiffness only on the 8th is a dot
