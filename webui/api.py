"""The JSON API and the server-sent event stream.

Every bad request gets a 4xx JSON {"error": reason} that names the parameter and what is
allowed, so the page (or a curl) can show it verbatim.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from firmware.history import today_counts
from firmware.live import jsonable
from webui.app import WebContext, ctx
from webui.auth import read_access, requires_code
from webui.openapi import array, doc, integer, number, obj

api = Blueprint("api", __name__)

LIMIT_RANGE = (1, 1000)
SINCE_MAX = 1e10
KNOWN_KG_RANGE = (0.5, 500.0)


class BadRequest(ValueError):
    """A request the API refuses; the message is the JSON error."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@api.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> Any:
    response = jsonify(error=str(exc))
    response.status_code = exc.status
    return response


# --- parameter parsing ------------------------------------------------------------------------
def _since_arg() -> float | None:
    raw = request.args.get("since")
    if raw is None or raw == "":
        return None
    reason = f"since must be unix seconds (a number from 0 to {SINCE_MAX:g}), got {raw[:40]!r}"
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(reason) from None
    if not 0 <= value <= SINCE_MAX:   # also NaN; past year 2286 a date cannot be made of it
        raise BadRequest(reason)
    return value


def _limit_arg(default: int = 200) -> int:
    return _whole_arg("limit", default, LIMIT_RANGE)


def _whole_arg(name: str, default: int, bounds: tuple[int, int], unit: str = "") -> int:
    """?name=N, a whole number within bounds (default when absent); else a 400 saying so."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    lo, hi = bounds
    try:
        value = int(raw)
    except ValueError:
        value = lo - 1
    if not lo <= value <= hi:
        of = f" of {unit}" if unit else ""
        raise BadRequest(f"{name} must be a whole number{of} from {lo} to {hi}, got {raw[:40]!r}")
    return value


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        raise BadRequest("the body must be a JSON object (Content-Type: application/json)")
    try:
        body = current_app.json.loads(request.get_data(cache=True))
    except ValueError as exc:  # not JSON, too deep, not valid Unicode: say which
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object (Content-Type: application/json)")
    return body


# --- reads ------------------------------------------------------------------------------------
SINCE = number(0, SINCE_MAX, description="unix seconds; only what came after")
LIMIT = integer(*LIMIT_RANGE, default=200)


@api.get("/state")
@doc("The live snapshot: state, kg, recent samples and events", response=obj())
@read_access
def state() -> Any:
    return jsonify(ctx().live.snapshot())


@api.get("/today")
@doc("Today's totals (the day begins at the day start, as in /api/history)", response=obj())
@read_access
def today() -> Any:
    return jsonify(today_counts(ctx().store, ctx().history.day_clock, ctx().history.clock()))


@api.get("/stretches")
@doc("Recent stretches, newest first", query={"since": SINCE, "limit": LIMIT},
     response=obj({"stretches": array(obj())}, required=["stretches"]))
@read_access
def stretches() -> Any:
    since, limit = _since_arg(), _limit_arg()
    return jsonify(stretches=jsonable(ctx().store.stretches(since=since, limit=limit)))


@api.get("/health")
@doc("Whether the device is up (all of it with reads open or the code; else only ok)",
     response=obj({"ok": {"type": "boolean"}}, required=["ok"]))
def health() -> Any:
    """Always open: says whether the device is up, not what it recorded. `ok` is false while
    anything in `problems` holds: a sensor fault, a crashed loop, a lost sampler, dropped writes."""
    c = ctx()
    status = c.live.snapshot()["status"]
    body: dict[str, Any] = {
        "ok": True, "problems": [], "state": status.get("state"), "fault": status.get("fault"),
        "subscribers": c.live.subscriber_count, "samples_seen": c.live.samples_seen,
        "control": c.control is not None, "open_reads": c.open_reads,
        "streams": {"open": c.streams_open, "max": c.max_streams, "refused": c.streams_refused,
                    "dropped_stalled": c.streams_dropped},
        "config": jsonable(c.config_view), "time": time.time(),
    }
    problems = [f"fault: {status['fault']}"] if status.get("fault") else []
    if c.stats is not None:
        try:
            stats = c.stats()
            body["stats"] = jsonable(stats)
            if "problems" in stats:  # the run command knows more than the live status alone
                problems = list(stats["problems"])
        except Exception as exc:  # health must answer even when a figure cannot be had
            body["stats"] = {"error": f"{type(exc).__name__}: {exc}"}
            problems.append("the device's figures could not be read")
    body["ok"], body["problems"] = not problems, problems
    return jsonify(_visible_health(c, body))


def _visible_health(c: WebContext, body: dict[str, Any]) -> dict[str, Any]:
    """Everything for a session or the code; without the data dir's paths for open reads; only
    ok and the time for anyone else (a monitor still sees that the step is up)."""
    if c.auth.authenticated():
        return body
    if not c.open_reads:
        return {"ok": body["ok"], "time": body["time"]}
    config = {k: v for k, v in body.get("config", {}).items() if k not in ("data_dir", "history_dir")}
    return {**body, "config": config}


# --- writes -----------------------------------------------------------------------------------
@api.post("/tare")
@doc("Zero the scale (the step must be empty)", body=obj(), body_required=False,
     response=obj({"ok": {"const": True}, "result": obj()}))
@requires_code
def tare() -> Any:
    result = ask_control(_control().tare)
    return jsonify(ok=True, result=jsonable(result))


@api.post("/calibrate")
@doc("Set the scale from a known weight on the step",
     body=obj({"known_kg": number(*KNOWN_KG_RANGE)}, required=["known_kg"]),
     response=obj({"ok": {"const": True}, "result": obj()}))
@requires_code
def calibrate() -> Any:
    body = _json_body()
    known = body.get("known_kg")
    lo, hi = KNOWN_KG_RANGE
    if isinstance(known, bool) or not isinstance(known, int | float) or not lo <= known <= hi:
        raise BadRequest(f"known_kg must be a number from {lo:g} to {hi:g} (kg on the step), "
                         f"got {json.dumps(known)}")
    result = ask_control(_control().calibrate, known_kg=float(known))
    return jsonify(ok=True, result=jsonable(result))


def ask_control(command: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a DeviceControl command; its refusal (ValueError, a message for a person) is a 409, or
    the status it carries (503: the sampler is not answering)."""
    try:
        return command(**kwargs)
    except ValueError as exc:
        raise BadRequest(str(exc), getattr(exc, "http_status", 409)) from None


def _control() -> Any:
    control = ctx().control
    if control is None:
        raise BadRequest("There is no sensor to calibrate: this device runs on simulated or "
                         "replayed input.", 409)
    return control


# --- the live stream --------------------------------------------------------------------------
@api.get("/stream")
@doc("Server-sent events: the snapshot, then sample/event/state messages",
     content_type="text/event-stream", response={"type": "string"},
     responses={503: ("the server is shutting down", {"$ref": "#/components/schemas/Error"})})
@read_access
def stream() -> Response:
    """Server-sent events: the snapshot first, then sample/event/state messages as they come.

    Each open stream holds a server thread, so at most `max_streams` are served at once and one
    more is refused (503; webui.server closes that connection) rather than starving the page
    and the API."""
    c = ctx()
    if c.shutdown.is_set():
        raise BadRequest("the server is shutting down", 503)
    with c.streams_lock:
        if c.streams_open >= c.max_streams:
            c.streams_refused += 1
            refused = jsonify(error=f"too many live views open ({c.max_streams}); close one or try again "
                                    "in a minute", retry_after_s=30)
            refused.status_code = 503
            refused.headers["Retry-After"] = "30"
            return refused
        c.streams_open += 1
    released = []

    def release() -> None:
        if not released:
            released.append(True)
            with c.streams_lock:
                c.streams_open -= 1

    response = Response(stream_with_context(sse_messages(c)), mimetype="text/event-stream")
    response.call_on_close(release)
    response.headers["Cache-Control"] = "no-cache, no-transform"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def sse(kind: str, data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'), allow_nan=False)}\n\n"


def sse_messages(c: WebContext, clock: Any = time.monotonic) -> Iterator[str]:
    """One subscriber's stream. Wakes at least every `poll_s` so shutdown is never held up;
    a heartbeat comment every `heartbeat_s` finds clients that went away (the write fails and
    the server closes this generator, which unsubscribes)."""
    sub = c.live.subscribe()
    try:
        yield "retry: 2000\n\n"
        last_sent = clock()
        yield sse("state", c.live.snapshot())
        while not c.shutdown.is_set():
            message = sub.get(timeout=c.poll_s)
            if message is not None:
                last_sent = clock()
                # one message goes to every phone: encode it once (a racing thread may encode it
                # again; both write the same text, so no lock is needed)
                text = message.get("sse")
                if text is None:
                    text = message["sse"] = sse(message["type"], message["data"])
                yield text
            elif sub.closed:
                return
            elif clock() - last_sent >= c.heartbeat_s:
                last_sent = clock()
                yield ": heartbeat\n\n"
    finally:
        c.live.unsubscribe(sub)
