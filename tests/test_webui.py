"""The dashboard's Flask app: every endpoint, the access code, JSON errors and the SSE stream."""

from __future__ import annotations

import json
import threading
import time

import pytest

from firmware import events as ev
from firmware.events import Event
from firmware.history import PainLog
from webui import create_app
from webui.api import sse_messages
from webui.app import EXTENSION
from webui.server import shutdown_streams

CODE = "47114711"


class FakeControl:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def tare(self) -> dict:
        self.calls.append(("tare",))
        return {"offset": 1234}

    def calibrate(self, known_kg: float) -> dict:
        if known_kg > 100:
            raise ValueError("the step reads nothing: put the weight on before calibrating")
        self.calls.append(("calibrate", known_kg))
        return {"scale": 21.5}


def stretch_end(t: float, completed: bool = True) -> Event:
    return Event(ev.STRETCH_END, t, {"start": t - 30, "hold_start": t - 27, "end": t, "hold_s": 27.0,
                                     "breaths": 4, "bounces": 0, "completed": completed, "peak_kg": 60.0})


@pytest.fixture
def control():
    return FakeControl()


@pytest.fixture
def app(store, live, control):
    return create_app(store, live, control=control, access_code=CODE, config_view={"source": "simulated"})


@pytest.fixture
def client(app):
    return app.test_client()


def auth(code: str = CODE) -> dict:
    return {"X-Access-Code": code}


# --- reads ------------------------------------------------------------------------------------
def test_index_page_is_served_with_its_assets(client):
    page = client.get("/")
    assert page.status_code == 200 and b"stretchstep" in page.data
    assert b"/static/js/main.js" in page.data and b"/static/style.css" in page.data
    assert b"http" not in page.data.replace(b"http-equiv", b"")  # no CDN: the device serves everything
    assert client.get("/static/js/main.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_state_is_the_live_snapshot(client, live):
    live.on_sample(1.0, 42.5, {"state": "standing", "kg": 42.5, "leg": "right"})
    live.on_event(Event(ev.STEP_ON, 0.9), {"state": "standing", "kg": 42.5})
    body = client.get("/api/state").get_json()
    assert body["state"] == "standing" and body["kg"] == 42.5
    assert body["events"] == [{"kind": "step_on", "t": 0.9}] and body["history"] == [[1.0, 42.5]]


def test_state_with_no_reading_yet_is_strict_json(client, live):
    live.on_sample(0.0, float("nan"), {"state": "fault", "kg": float("nan"), "fault": "unplugged"})
    resp = client.get("/api/state")
    body = json.loads(resp.data)  # strict: NaN would not parse in a browser
    assert b"NaN" not in resp.data and body["kg"] is None and body["status"]["fault"] == "unplugged"


def test_today_and_stretches(client, store):
    now = time.time()
    store.add_event(1, stretch_end(40.0), now - 100, {"leg": "right", "knee": "straight", "rep": 1})
    store.add_event(1, stretch_end(90.0, completed=False), now - 50, {"leg": "left", "knee": "straight"})
    today = client.get("/api/today").get_json()
    assert today["stretches"] == 2 and today["completed_holds"] == 1
    rows = client.get("/api/stretches").get_json()["stretches"]
    assert [r["leg"] for r in rows] == ["left", "right"]
    rows = client.get(f"/api/stretches?since={now - 75}&limit=5").get_json()["stretches"]
    assert [r["leg"] for r in rows] == ["left"]
    assert len(client.get("/api/stretches?limit=1").get_json()["stretches"]) == 1


@pytest.mark.parametrize("query, names", [
    ("since=yesterday", "since must be unix seconds"),
    ("since=-5", "since must be unix seconds"),
    ("since=nan", "since must be unix seconds"),
    ("limit=0", "limit must be a whole number from 1 to 1000"),
    ("limit=1001", "limit must be a whole number from 1 to 1000"),
    ("limit=2.5", "limit must be a whole number from 1 to 1000"),
])
def test_bad_stretches_query_is_400_naming_the_parameter(client, query, names):
    resp = client.get(f"/api/stretches?{query}")
    assert resp.status_code == 400 and names in resp.get_json()["error"]


def test_health_says_only_as_much_as_open_reads_allow(store, live):
    closed = create_app(store, live, access_code=CODE, open_reads=False,
                        stats=lambda: {"loop": {"late_p99_ms": 1.5}, "writer": {"errors": 0}},
                        config_view={"source": "simulated", "data_dir": "/home/pi/secret"})
    anyone = closed.test_client().get("/api/health").get_json()
    assert set(anyone) == {"ok", "time"} and anyone["ok"] is True
    body = closed.test_client().get("/api/health", headers=auth()).get_json()
    assert body["ok"] is True and body["control"] is False and body["open_reads"] is False
    assert body["stats"] == {"loop": {"late_p99_ms": 1.5}, "writer": {"errors": 0}}
    assert body["config"]["data_dir"] == "/home/pi/secret"
    opened = create_app(store, live, access_code=CODE, config_view={
        "source": "simulated", "data_dir": "/home/pi/secret", "history_dir": "/home/pi/secret/simulated"})
    body = opened.test_client().get("/api/health").get_json()
    assert body["config"] == {"source": "simulated"} and "subscribers" in body
    broken = create_app(store, live, stats=lambda: 1 / 0).test_client().get("/api/health")
    assert broken.status_code == 200 and "ZeroDivisionError" in broken.get_json()["stats"]["error"]


# --- auth -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, payload", [
    ("/api/pain", {"pain": 3}), ("/api/tare", {}), ("/api/calibrate", {"known_kg": 20}),
])
def test_writes_need_the_code(client, control, store, path, payload):
    missing = client.post(path, json=payload)
    assert missing.status_code == 401
    assert missing.get_json()["error"] == "Enter the access code to make changes."
    wrong = client.post(path, json=payload, headers=auth("0000"))
    assert wrong.status_code == 403 and wrong.get_json()["error"] == "That access code is not right."
    assert control.calls == [] and PainLog(store).entries() == []
    in_body = client.post(path, json={**payload, "access_code": CODE})
    assert in_body.status_code in (200, 201)


def test_closed_reads_need_the_code_but_the_page_loads(store, live):
    client = create_app(store, live, access_code=CODE, open_reads=False).test_client()
    assert client.get("/").status_code == 200
    for path in ("/api/state", "/api/today", "/api/stretches", "/api/pain", "/api/stream"):
        assert client.get(path).status_code == 401, path
    assert client.get("/api/today", headers=auth()).status_code == 200
    # a code in the URL is no longer taken: EventSource sends the session cookie instead
    assert client.get(f"/api/state?access_code={CODE}").status_code == 401


def test_no_configured_code_disables_writes(store, live):
    client = create_app(store, live, access_code="").test_client()
    resp = client.post("/api/pain", json={"pain": 2}, headers=auth(""))
    assert resp.status_code == 403 and "it has no access code" in resp.get_json()["error"]


# --- pain, tare, calibrate ------------------------------------------------------------------
def test_pain_round_trip(client, store):
    resp = client.post("/api/pain", json={"pain": 6, "stiffness": 4, "note": " after walk "}, headers=auth())
    assert resp.status_code == 201 and resp.get_json()["id"] == 1
    entries = client.get("/api/pain").get_json()["entries"]
    assert [(e["pain"], e["stiffness"], e["note"]) for e in entries] == [(6, 4, "after walk")]
    assert client.get(f"/api/pain?since={time.time() + 60}").get_json()["entries"] == []


@pytest.mark.parametrize("payload, names", [
    ({}, "pain must be a whole number from 0 to 10, got null"),
    ({"pain": 11}, "pain must be a whole number from 0 to 10, got 11"),
    ({"pain": "5"}, "pain must be a whole number from 0 to 10"),
    ({"pain": 5, "stiffness": -1}, "stiffness must be a whole number from 0 to 10"),
    ({"pain": 5, "note": 7}, "note must be text"),
])
def test_bad_pain_is_400_naming_the_field(client, payload, names):
    resp = client.post("/api/pain", json=payload, headers=auth())
    assert resp.status_code == 400 and names in resp.get_json()["error"]


def test_non_json_body_is_400(client):
    resp = client.post("/api/pain", data="pain=5", headers=auth())
    assert resp.status_code == 400 and "JSON object" in resp.get_json()["error"]


def test_tare_and_calibrate_call_the_control(client, control):
    assert client.post("/api/tare", headers=auth()).get_json() == {"ok": True, "result": {"offset": 1234}}
    resp = client.post("/api/calibrate", json={"known_kg": 20}, headers=auth())
    assert resp.status_code == 200 and control.calls == [("tare",), ("calibrate", 20.0)]


def test_calibrate_errors(client):
    bad = client.post("/api/calibrate", json={"known_kg": "twenty"}, headers=auth())
    assert bad.status_code == 400 and "known_kg must be a number from 0.5 to 500" in bad.get_json()["error"]
    refused = client.post("/api/calibrate", json={"known_kg": 200}, headers=auth())
    assert refused.status_code == 409 and "put the weight on" in refused.get_json()["error"]


def test_no_control_is_409(store, live):
    client = create_app(store, live, access_code=CODE).test_client()
    for path, payload in (("/api/tare", {}), ("/api/calibrate", {"known_kg": 20})):
        resp = client.post(path, json=payload, headers=auth())
        assert resp.status_code == 409 and "no sensor to calibrate" in resp.get_json()["error"]


def test_unknown_endpoint_and_wrong_method_are_json(client):
    missing = client.get("/api/nope")
    assert missing.status_code == 404 and "no such endpoint: GET /api/nope" in missing.get_json()["error"]
    wrong = client.delete("/api/today")
    assert wrong.status_code == 405 and "allowed" in wrong.get_json()["error"]
    assert client.get("/api/pain", headers=auth()).status_code == 200
    assert client.put("/api/pain", json={}).get_json()["error"].startswith("method PUT not allowed")
    assert client.get("/nothing-here").status_code == 404


# --- the stream -------------------------------------------------------------------------------
def read_message(chunks) -> tuple[str, dict]:
    """Next `event:`/`data:` message from the streamed body (skipping retry/comments)."""
    while True:
        text = next(chunks).decode()
        if text.startswith("event: "):
            head, data = text.strip().split("\n", 1)
            return head.removeprefix("event: "), json.loads(data.removeprefix("data: "))


def test_stream_sends_the_snapshot_first_then_live_messages(client, live):
    live.on_sample(5.0, 40.0, {"state": "standing"})
    resp = client.get("/api/stream", buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    assert resp.headers["Cache-Control"].startswith("no-cache")
    chunks = iter(resp.response)
    kind, data = read_message(chunks)
    assert kind == "state" and data["status"]["state"] == "standing" and data["history"] == [[5.0, 40.0]]
    assert live.subscriber_count == 1
    live.on_event(Event(ev.BOUNCE, 6.0, {"hz": 2.0}), {"state": "holding", "bounces": 1})
    kind, data = read_message(chunks)
    assert kind == "event" and data["event"]["kind"] == "bounce" and data["status"]["bounces"] == 1
    live.on_sample(7.0, 55.0, {"state": "holding"})
    kind, data = read_message(chunks)
    assert kind == "sample" and data["kg"] == 55.0
    resp.close()                       # the client goes: its queue goes too
    assert live.subscriber_count == 0


def test_shutdown_ends_open_streams_promptly_and_refuses_new_ones(app, live):
    app.extensions[EXTENSION].poll_s = 0.2
    resp = app.test_client().get("/api/stream", buffered=False)
    chunks = iter(resp.response)
    read_message(chunks)
    threading.Timer(0.1, shutdown_streams, args=(app,)).start()
    started = time.perf_counter()
    with pytest.raises(StopIteration):
        while True:
            next(chunks)
    assert time.perf_counter() - started < 2.0 and live.subscriber_count == 0
    again = app.test_client().get("/api/stream")
    assert again.status_code == 503 and "shutting down" in again.get_json()["error"]


def test_stream_heartbeat_on_a_quiet_line(app):
    context = app.extensions[EXTENSION]
    context.poll_s = 0.0
    now = [0.0]
    gen = sse_messages(context, clock=lambda: now[0])
    assert next(gen).startswith("retry:") and next(gen).startswith("event: state")
    now[0] = 10.5
    assert next(gen) == ": heartbeat\n\n"
    gen.close()
    assert context.live.subscriber_count == 0


def test_oversized_body_is_413_json(client):
    resp = client.post("/api/pain", data="x" * 70_000, content_type="application/json", headers=auth())
    assert resp.status_code == 413 and "error" in resp.get_json()
