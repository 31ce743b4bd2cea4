"""History, sessions, export and the pain log over HTTP (issue 13): what the History and Log pain
pages read and write. Every figure comes from `firmware.history`, the same code the weekly report
and `stretchstep export` use, so the page, the report and a download always agree.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, request

from firmware.events import Event
from firmware.history import (
    History,
    HistoryContext,
    PainEntryMissing,
    PainLog,
    export_data,
    export_events,
    export_traces,
    json_chunks,
    to_csv,
)
from firmware.history.days import DAY_RE
from firmware.live import jsonable
from firmware.plot import render_svg
from firmware.sensors.base import Sample
from firmware.sensors.trace import TraceError, iter_trace
from firmware.traces import session_traces, trace_day
from webui.api import SINCE, BadRequest, _bad_request, _json_body, _since_arg, _whole_arg
from webui.app import ctx
from webui.auth import read_access, requires_code
from webui.openapi import array, doc, integer, nullable, number, obj, text

history_api = Blueprint("history_api", __name__)
history_api.register_error_handler(BadRequest, _bad_request)

DAY = text(description="a day, YYYY-MM-DD (days begin at the day start, 04:00 by default)")
SINCE_DAY = text(description="a day YYYY-MM-DD, or unix seconds")
PAIN_ENTRY = obj({"id": integer(), "wall": number(), "day": text(), "part": text(),
                  "pain": integer(0, 10), "stiffness": nullable(integer(0, 10)), "note": text(),
                  "edited": nullable(number())},
                 required=["id", "pain", "part"])
PAIN_BODY = obj({"pain": integer(0, 10), "stiffness": nullable(integer(0, 10)), "note": text(500)},
                required=["pain"])
PAIN_CHANGES = obj({"pain": integer(0, 10), "stiffness": nullable(integer(0, 10)), "note": text(500)})
DAY_ROW = obj({"day": text(), "routines": integer(), "goal": integer(), "goal_met": {"type": "boolean"},
               "stretches": integer(), "holds": integer(), "clean": integer(), "bounced": integer(),
               "hold_s": number(), "breaths_per_hold": nullable(number()), "pain": nullable(number()),
               "stiffness": nullable(number()), "per_slot": obj()})
PLOT_MAX_SAMPLES = 40_000
PLOT_WIDTHS = (400, 2400)      # ?width= of a session's plot, pixels


def _hc() -> HistoryContext:
    return ctx().history


def _history() -> History:
    hc = _hc()
    return History(ctx().store, hc.day_clock, goal=hc.daily_goal(), routines_done=hc.routines_done)


def _pain() -> PainLog:
    return PainLog(ctx().store, _hc().day_clock)


def _traces(session_id: int) -> dict[str, Any]:
    """The session's kept trace files by day."""
    data_dir = _hc().data_dir
    if data_dir is None:
        return {}
    return {trace_day(p): p for p in session_traces(data_dir, session_id)}


def _day_arg(raw: str, name: str = "day") -> date:
    try:
        if DAY_RE.match(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise BadRequest(f"{name} must be a date YYYY-MM-DD, got {raw!r}")


def _since_date_arg() -> float | None:
    """?since=YYYY-MM-DD (a day, cut at the day start) or unix seconds."""
    raw = request.args.get("since", "")
    if DAY_RE.match(raw):
        return _hc().day_clock.bounds(_day_arg(raw, "since"))[0]
    try:
        return _since_arg()
    except BadRequest:      # it said "unix seconds" only, where a person writes a day
        raise BadRequest(f"since must be a date YYYY-MM-DD (or unix seconds), got {raw[:40]!r}") from None


# --- history ----------------------------------------------------------------------------------
@history_api.get("/history")
@doc("Per day, oldest first: routines vs goal, holds, clean and bounced, time held, breaths per "
     "hold, pain; the streak, per side/knee trends, pain on goal days vs others",
     query={"days": integer(1, 366, default=28)},
     response=obj({"goal": integer(), "days": array(DAY_ROW), "streak": integer(), "trends": obj(),
                   "pain_by_goal": obj()}, required=["days", "streak"]))
@read_access
def history() -> Any:
    """Per day, oldest first, with the streak, per side/knee trends and pain by goal. ?days=N."""
    raw = request.args.get("days", "28")
    try:
        return jsonify(jsonable(_history().report(int(raw), _hc().clock())))
    except ValueError:
        raise BadRequest(f"days must be a whole number from 1 to 366, got {raw!r}") from None


@history_api.get("/history/<day>")
@doc("One day: its sessions, stretches and pain entries",
     path={"day": text(format="date", pattern=r"^\d{4}-\d{2}-\d{2}$")},
     response=obj({"day": text(), "sessions": array(obj()), "stretches": array(obj()),
                   "pain": array(PAIN_ENTRY)}))
@read_access
def history_day(day: str) -> Any:
    """One day: its sessions, stretches and pain entries (what the page shows on a tap)."""
    start, end = _hc().day_clock.bounds(_day_arg(day))
    conn = ctx().store.connection()
    sessions = [dict(r) for r in conn.execute(
        "SELECT s.id, s.source, s.started, s.ended, COUNT(st.id) AS stretches FROM sessions s"
        " JOIN stretches st ON st.session_id = s.id WHERE st.wall >= ? AND st.wall < ?"
        " GROUP BY s.id ORDER BY s.id", (start, end))]
    stretches = [s for s in ctx().store.stretches(since=start, limit=1000) if s["wall"] < end]
    pain = [p for p in _pain().entries(since=start) if p["wall"] < end]
    return jsonify(jsonable({"day": day, "sessions": sessions, "stretches": stretches[::-1], "pain": pain}))


# --- sessions ---------------------------------------------------------------------------------
def _session(session_id: int) -> dict[str, Any]:
    row = ctx().store.connection().execute(
        "SELECT id, source, started, ended FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise BadRequest(f"no session {session_id}", 404)
    return dict(row)


def _session_events(session_id: int, limit: int = 5000) -> list[dict[str, Any]]:
    rows = ctx().store.connection().execute(
        "SELECT kind, t, wall, data FROM events WHERE session_id = ? ORDER BY id LIMIT ?",
        (session_id, limit))
    return [{"kind": r["kind"], "t": r["t"], "wall": r["wall"], **json.loads(r["data"] or "{}")}
            for r in rows]


@history_api.get("/sessions/<id:session_id>")
@doc("A session: its holds, its events and the days it kept a raw trace for",
     response=obj({"id": integer(), "source": text(), "holds": array(obj()), "events": array(obj()),
                   "trace_days": array(text())}))
@read_access
def session(session_id: int) -> Any:
    """A session: its holds (stretches, oldest first), its events and the days it kept traces for."""
    info = _session(session_id)
    conn = ctx().store.connection()
    holds = [dict(r) for r in conn.execute(
        "SELECT id, wall_start, wall, leg, knee, rep, hold_s, breaths, bounces, completed, peak_kg, data"
        " FROM stretches WHERE session_id = ? ORDER BY wall, id", (session_id,))]
    for h in holds:
        h.update({k: v for k, v in json.loads(h.pop("data") or "{}").items() if k not in h})
        h["completed"] = bool(h["completed"])
    return jsonify(jsonable({**info, "holds": holds, "events": _session_events(session_id),
                             "trace_days": sorted(_traces(session_id))}))


@history_api.get("/sessions/<id:session_id>/plot.svg")
@doc("A session day's kept force trace with its stretches, breaths and bounces (SVG)",
     query={"day": DAY, "width": integer(PLOT_WIDTHS[0], PLOT_WIDTHS[1], default=1200)},
     content_type="image/svg+xml", response=text())
@read_access
def session_plot(session_id: int) -> Any:
    """The kept force trace of one day of a session (?day=YYYY-MM-DD, default its newest) with
    the stretches, breaths and bounces the device reported, as the project's SVG plot.
    ?width=PX: a phone asks for a narrower one, drawn at its own size (1200 scaled to a phone's
    300 px made its 11 px labels 3 px)."""
    width = _whole_arg("width", 1200, PLOT_WIDTHS, "pixels")
    _session(session_id)
    paths = _traces(session_id)
    if not paths:
        raise BadRequest(f"session {session_id} kept no trace "
                         "(raw samples are kept for [store] keep_traces_days)", 404)
    day = request.args.get("day") or max(paths)
    _day_arg(day)
    if day not in paths:
        raise BadRequest(f"session {session_id} kept no trace for {day}; "
                         f"it has {', '.join(sorted(paths))}", 404)
    try:
        samples = _decimated(paths[day])
    except TraceError as exc:
        raise BadRequest(f"the kept trace cannot be read: {exc}", 409) from None
    if not samples:
        raise BadRequest(f"the kept trace for {day} has no samples", 404)
    lo, hi = samples[0].t, samples[-1].t
    events = [Event(e.pop("kind"), e.pop("t"), {k: v for k, v in e.items() if k != "wall"})
              for e in _session_events(session_id, limit=100_000) if lo <= e["t"] <= hi]
    svg = render_svg(samples, events, None, width=width, title=f"session {session_id}, {day}")
    return Response(svg, mimetype="image/svg+xml")


def _decimated(path: Any) -> list[Sample]:
    """At most PLOT_MAX_SAMPLES samples: every k-th, with k doubled whenever the list fills up."""
    kept: list[Sample] = []
    stride = 1
    for n, sample in enumerate(iter_trace(path)):
        if n % stride == 0:
            kept.append(sample)
            if len(kept) >= PLOT_MAX_SAMPLES:
                kept, stride = kept[::2], stride * 2
    return kept


# --- export -----------------------------------------------------------------------------------
@history_api.get("/export.json")
@doc("Every stretch, session, event and pain entry, the profiles, device settings, routines and "
     "their holds, and the sessions' kept force traces (format 3: a download `stretchstep import` reads)",
     query={"since": SINCE_DAY},
     response=obj({"format": text(), "version": integer(), "sessions": array(obj()),
                   "stretches": array(obj()), "events": array(obj()), "pain": array(obj()),
                   "profiles": array(obj()), "settings": obj(), "routines": array(obj()),
                   "routine_holds": array(obj()),
                   "traces": array(obj({"session_id": integer(), "day": text(format="date"),
                                        "size": integer(0), "gzip_base64": text(
                                            description="the kept trace file (gzip), base64")},
                                       required=["session_id", "day", "gzip_base64"]))},
                  required=["format", "version", "stretches", "events", "pain", "profiles", "routines",
                            "traces"]))
@read_access
def export_json() -> Any:
    """Streamed: the small tables are read here; the events a page at a time and the kept trace
    files a chunk at a time as the answer goes out (a year is tens of MB: see the README)."""
    since, store = _since_date_arg(), ctx().store
    data = export_data(store, _hc().day_clock, since=since)
    traces = export_traces(data, _hc().data_dir, _hc().day_clock, since)
    return Response(json_chunks(data, export_events(store, since), traces), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="stretchstep-export.json"'})


@history_api.get("/export.csv")
@doc("Every stretch and pain entry, one row each, for a spreadsheet", query={"since": SINCE_DAY},
     content_type="text/csv", response=text())
@read_access
def export_csv() -> Any:
    data = export_data(ctx().store, _hc().day_clock, since=_since_date_arg())
    return Response(to_csv(data), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="stretchstep-export.csv"'})


# --- the pain log -----------------------------------------------------------------------------
@history_api.get("/pain")
@doc("The pain log, oldest first", query={"since": SINCE},
     response=obj({"entries": array(PAIN_ENTRY)}, required=["entries"]))
@read_access
def pain_list() -> Any:
    return jsonify(entries=_pain().entries(since=_since_arg()))


@history_api.post("/pain")
@doc("Log pain 0-10 (and stiffness, a note); replaces this part of the day's entry (then 200)",
     body=PAIN_BODY, status=201, response=PAIN_ENTRY,
     responses={200: ("replaced this part of the day's entry", PAIN_ENTRY)})
@requires_code
def pain_add() -> Any:
    """Log pain (0-10, required), stiffness (0-10) and a note; a second entry in the same part of
    the day (morning, afternoon, evening) replaces the first: 200 with "replaced", else 201."""
    body = _json_body()
    try:
        result = _pain().add(_hc().clock(), body.get("pain"), body.get("stiffness"), body.get("note", ""))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    response = jsonify({**result["entry"], "replaced": result["replaced"], "message": result["message"]})
    response.status_code = 200 if result["replaced"] is not None else 201
    return response


@history_api.put("/pain/<id:entry_id>")
@doc("Correct a pain entry", body=PAIN_CHANGES, response=PAIN_ENTRY)
@requires_code
def pain_edit(entry_id: int) -> Any:
    changes = {k: v for k, v in _json_body().items() if k != "access_code"}
    try:
        return jsonify(_pain().edit(entry_id, changes, _hc().clock()))
    except PainEntryMissing as exc:
        raise BadRequest(str(exc), 404) from None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


@history_api.delete("/pain/<id:entry_id>")
@doc("Delete a pain entry", response=obj({"ok": {"const": True}, "deleted": integer()}))
@requires_code
def pain_delete(entry_id: int) -> Any:
    try:
        _pain().delete(entry_id)
    except PainEntryMissing as exc:
        raise BadRequest(str(exc), 404) from None
    return jsonify(ok=True, deleted=entry_id)


