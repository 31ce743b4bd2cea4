"""The history API (issue 13): shapes and status codes of /api/history, a day, a session and its
plot, the exports, and the pain log's add/replace/edit/delete behind the access code."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from firmware import events as ev
from firmware.events import Event
from firmware.history import HistoryContext, today_counts
from firmware.live import LiveState
from firmware.traces import TraceKeeper
from webui import create_app

CODE = "47114711"


def stretch_end(t: float, **extra) -> Event:
    return Event(ev.STRETCH_END, t, {"start": t - 30, "hold_start": t - 27, "end": t, "hold_s": 27.0,
                                     "breaths": 4, "bounces": 0, "completed": True, "peak_kg": 60.0,
                                     "standing_kg": 40.0, **extra})


@pytest.fixture
def client(store, tmp_path: Path):
    hc = HistoryContext(data_dir=tmp_path, daily_goal=lambda: 2)
    return create_app(store, LiveState(), access_code=CODE, history=hc).test_client()


def auth() -> dict:
    return {"X-Access-Code": CODE}


def test_history_has_a_row_per_day_with_the_goal(client, store):
    store.add_event(1, stretch_end(40.0), time.time(), {"leg": "right", "knee": "straight"})
    body = client.get("/api/history?days=7").get_json()
    assert len(body["days"]) == 7 and body["goal"] == 2 and body["streak"] == 0
    today = body["days"][-1]
    assert (today["holds"], today["clean"], today["goal"], today["goal_met"]) == (1, 1, 2, False)
    assert body["trends"]["right"]["straight"][0]["share"] == 1.5
    assert len(client.get("/api/history").get_json()["days"]) == 28


@pytest.mark.parametrize("query", ["days=0", "days=367", "days=x", "days=2.5"])
def test_history_refuses_bad_days_naming_the_parameter(client, query):
    resp = client.get(f"/api/history?{query}")
    assert resp.status_code == 400 and "days must be a whole number from 1 to 366" in resp.get_json()["error"]


def test_a_day_lists_its_sessions_stretches_and_pain(client, store):
    sid = store.start_session("hx711", time.time() - 100)
    store.add_event(sid, stretch_end(40.0), time.time(), {"leg": "left"})
    client.post("/api/pain", json={"pain": 3}, headers=auth())
    day = client.get("/api/history").get_json()["days"][-1]["day"]
    body = client.get(f"/api/history/{day}").get_json()
    assert [s["id"] for s in body["sessions"]] == [sid] and body["sessions"][0]["stretches"] == 1
    assert [s["leg"] for s in body["stretches"]] == ["left"] and [p["pain"] for p in body["pain"]] == [3]
    bad = client.get("/api/history/2026-13-01")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_json()["error"]


def test_a_session_shows_its_holds_events_and_plot(client, store, tmp_path):
    wall = time.time()
    sid = store.start_session("hx711", wall - 60)
    store.add_event(sid, Event(ev.BREATH, 20.0, {"n": 1}), wall - 20, {})
    store.add_event(sid, stretch_end(40.0), wall, {"leg": "right", "knee": "bent", "rep": 1})
    body = client.get(f"/api/sessions/{sid}").get_json()
    assert body["source"] == "hx711" and [h["knee"] for h in body["holds"]] == ["bent"]
    assert [e["kind"] for e in body["events"]] == ["breath", "stretch_end"] and body["trace_days"] == []
    missing = client.get(f"/api/sessions/{sid}/plot.svg")
    assert missing.status_code == 404 and "kept no trace" in missing.get_json()["error"]
    keeper = TraceKeeper(tmp_path, sid, 10.0, flush_s=3600)
    for i in range(400):
        keeper.on_sample(i / 10, 40.0 + (10.0 if 100 < i < 350 else 0.0), {"state": "standing"})
    keeper.close()
    svg = client.get(f"/api/sessions/{sid}/plot.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<svg")
    assert client.get(f"/api/sessions/{sid}/plot.svg?day=1999-01-01").status_code == 404
    assert b'width="1200"' in svg.data.split(b">", 1)[0]
    narrow = client.get(f"/api/sessions/{sid}/plot.svg?width=720")          # what a phone asks for
    assert narrow.status_code == 200 and b'width="720"' in narrow.data.split(b">", 1)[0]
    for bad in ("12", "9999", "wide", "-720"):
        refused = client.get(f"/api/sessions/{sid}/plot.svg?width={bad}")
        assert refused.status_code == 400
        said = f"width must be a whole number of pixels from 400 to 2400, got '{bad}'"
        assert refused.get_json()["error"] == said
    assert client.get("/api/sessions/999").status_code == 404


def test_exports_are_downloads_of_every_stretch_pain_entry_profile_and_routine(client, store):
    from firmware.routine import records

    records.ensure_profile(store, {"name": "Ana", "tighter_side": "left", "protocol": "step-calf",
                                   "daily_goal": 2})
    records.add_hold(store, {"profile_id": 1, "day": "2026-03-08", "seq": 1, "protocol": "step-calf",
                             "tighter_side": "left", "slots": 4, "done_slots": [0], "status": "open",
                             "wall": time.time(), "slot": 0, "leg": "left", "knee": "straight", "rep": 1,
                             "outcome": "clean"})
    store.add_event(1, stretch_end(40.0), time.time(), {"leg": "right", "knee": "straight", "rep": 2})
    client.post("/api/pain", json={"pain": 5, "note": "ok"}, headers=auth())
    js = client.get("/api/export.json")
    assert js.status_code == 200 and "attachment" in js.headers["Content-Disposition"]
    data = json.loads(js.data)
    assert data["format"] == "stretchstep-export" and len(data["stretches"]) == 1 and len(data["pain"]) == 1
    assert [p["name"] for p in data["profiles"]] == ["Ana"]
    assert data["routines"][0]["done_slots"] == [0] and data["routine_holds"][0]["outcome"] == "clean"
    csv = client.get("/api/export.csv?since=2000-01-01")
    assert csv.mimetype == "text/csv" and csv.data.decode().count("\n") == 3
    for kind in ("csv", "json"):
        refused = client.get(f"/api/export.{kind}?since=tomorrow")
        assert refused.status_code == 400
        said = "since must be a date YYYY-MM-DD (or unix seconds), got 'tomorrow'"
        assert refused.get_json() == {"error": said}


def test_pain_is_added_replaced_edited_and_deleted_with_the_code(client):
    first = client.post("/api/pain", json={"pain": 6, "stiffness": 5}, headers=auth())
    assert first.status_code == 201 and first.get_json()["replaced"] is None
    second = client.post("/api/pain", json={"pain": 4}, headers=auth())
    assert second.status_code == 200 and second.get_json()["replaced"] == first.get_json()["id"]
    entry_id = second.get_json()["id"]
    assert client.put(f"/api/pain/{entry_id}", json={"note": "x"}).status_code in (401, 403)
    edited = client.put(f"/api/pain/{entry_id}", json={"stiffness": 1}, headers=auth())
    assert edited.status_code == 200 and (edited.get_json()["pain"], edited.get_json()["stiffness"]) == (4, 1)
    bad = client.put(f"/api/pain/{entry_id}", json={"pain": 12}, headers=auth())
    assert bad.status_code == 400 and "pain must be a whole number" in bad.get_json()["error"]
    assert client.delete(f"/api/pain/{entry_id}").status_code in (401, 403)
    gone = client.delete(f"/api/pain/{entry_id}", headers=auth())
    assert gone.get_json() == {"ok": True, "deleted": entry_id}
    assert client.delete(f"/api/pain/{entry_id}", headers=auth()).status_code == 404
    assert client.put("/api/pain/77", json={"pain": 1}, headers=auth()).status_code == 404
    assert client.get("/api/pain").get_json()["entries"] == []


def test_at_two_in_the_morning_every_reader_says_the_same_today(store, tmp_path: Path):
    """Day start 04:00, the clock at 02:00: last evening's and tonight's stretches are today for
    /api/today, /api/history and MQTT's retained counts alike (not split at midnight)."""
    from datetime import datetime

    from firmware.history import DayClock
    from firmware.publish.today import TodayCounts

    def local(d: int, hh: int, mm: int = 0) -> float:
        return datetime(2026, 3, d, hh, mm).timestamp()

    now = local(11, 2)
    store.add_event(1, stretch_end(10.0), local(10, 3, 30), {"leg": "right"})         # the day before
    store.add_event(1, stretch_end(20.0), local(10, 22), {"leg": "right"})
    store.add_event(1, stretch_end(30.0, completed=False), local(11, 1, 30), {"leg": "left"})
    store.add_event(1, Event(ev.BOUNCE, 29.0, {"hz": 2.0}), local(11, 1, 29), {"leg": "left"})
    hc = HistoryContext(data_dir=tmp_path, day_clock=DayClock(4 * 60), clock=lambda: now)
    client = create_app(store, LiveState(), access_code=CODE, history=hc).test_client()
    today = client.get("/api/today").get_json()
    day = client.get("/api/history?days=1").get_json()["days"][-1]
    mqtt = TodayCounts(store, hc, clock=hc.clock)()
    assert today["date"] == day["day"] == mqtt["date"] == "2026-03-10"
    assert today["stretches"] == day["stretches"] == mqtt["stretches"] == 2
    assert today["completed_holds"] == day["holds"] == mqtt["holds"] == 1
    assert today["bounces"] == 1
    assert today_counts(store, DayClock(0), now)["stretches"] == 1     # midnight would have split them


def test_a_session_exported_and_imported_into_an_empty_data_dir_keeps_its_events_and_plot(
        client, store, tmp_path):
    """Format 3: the download (streamed) carries the session's events and its kept trace file;
    `stretchstep import` into an empty data dir gives back the same events and the same force plot."""
    from click.testing import CliRunner

    from firmware.cli import main
    from firmware.config import Config
    from firmware.store import Store

    wall = time.time()
    sid = store.start_session("hx711", wall - 60)
    for n, t in enumerate((14.0, 20.0, 26.0)):
        store.add_event(sid, Event(ev.BREATH, t, {"n": n + 1}), wall - 40 + t, {})
    store.add_event(sid, Event(ev.BOUNCE, 22.0, {"hz": 2.1, "pp_kg": 9.0}), wall - 18, {"leg": "right"})
    store.add_event(sid, stretch_end(40.0), wall, {"leg": "right", "knee": "bent", "rep": 1})
    store.end_session(sid, wall + 5)
    keeper = TraceKeeper(tmp_path, sid, 10.0, flush_s=3600)
    for i in range(450):
        keeper.on_sample(i / 10, 40.0 + (10.0 if 100 < i < 400 else 0.0), {"state": "standing"})
    keeper.close()
    plot, events = client.get(f"/api/sessions/{sid}/plot.svg"), client.get(f"/api/sessions/{sid}").get_json()
    assert plot.status_code == 200 and len(events["events"]) == 5

    download = client.get("/api/export.json")
    assert download.is_streamed and download.status_code == 200
    data = json.loads(download.get_data())
    assert data["version"] == 3
    assert [e["kind"] for e in data["events"]] == ["breath"] * 3 + ["bounce", "stretch_end"]
    assert [(t["session_id"], t["day"]) for t in data["traces"]] == [(sid, events["trace_days"][0])]
    exported = tmp_path / "export.json"
    exported.write_bytes(download.get_data())
    later = json.loads(client.get("/api/export.json?since=2999-01-01").get_data())
    assert (later["events"], later["traces"], later["sessions"]) == ([], [], [])   # ?since cuts them too

    fresh_dir = tmp_path / "fresh"
    result = CliRunner().invoke(main, ["import", str(exported), "--data-dir", str(fresh_dir)])
    assert result.exit_code == 0 and "5 events, 1 kept trace" in result.output, result.output
    history_dir = Config().with_values("store", data_dir=str(fresh_dir)).history_dir()
    fresh = Store(history_dir / "history.sqlite")
    try:
        again = create_app(fresh, LiveState(), access_code=CODE,
                           history=HistoryContext(data_dir=history_dir)).test_client()
        assert again.get(f"/api/sessions/{sid}").get_json() == events
        replot = again.get(f"/api/sessions/{sid}/plot.svg")
        assert replot.status_code == 200 and replot.data == plot.data
    finally:
        fresh.close()
