"""App factory: wires the store, live state and device control into one Flask app.

Everything the views need lives in one `WebContext` on `app.extensions`, so several apps (tests)
can live in one process. Errors under /api are always JSON {"error": reason}, so a phone script
never has to parse an HTML error page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from firmware.access import AccessCode
from firmware.history import HistoryContext
from firmware.live import LiveState
from firmware.store import Store
from webui import security
from webui.auth import AuthGuard
from webui.inputs import RowId, StrictJSON

EXTENSION = "stretchstep"


@dataclass
class WebContext:
    store: Store
    live: LiveState
    control: Any
    auth: AuthGuard
    open_reads: bool
    config_view: dict[str, Any]
    stats: Callable[[], dict[str, Any]] | None = None
    max_streams: int = 16        # live streams at once; one more is refused with 503
    streams_open: int = 0
    streams_refused: int = 0
    streams_dropped: int = 0     # stalled readers cut off (webui.server.BoundedChannel)
    heartbeat_s: float = 10.0
    poll_s: float = 1.0          # SSE generators wake at least this often to notice shutdown
    shutdown: threading.Event = field(default_factory=threading.Event)
    history: HistoryContext = field(default_factory=HistoryContext)
    streams_lock: threading.Lock = field(default_factory=threading.Lock)


def ctx() -> WebContext:
    """The current app's WebContext (inside a request)."""
    return current_app.extensions[EXTENSION]


def create_app(store: Store, live: LiveState, *, control: Any = None,
               access_code: str | AccessCode = "", open_reads: bool = True,
               config_view: dict | None = None, stats: Callable[[], dict[str, Any]] | None = None,
               allowed_hosts: Iterable[str] = (), history: HistoryContext | None = None,
               max_streams: int = 16) -> Flask:
    """The dashboard app. An empty `access_code` disables every write (there is no code to check).

    `access_code` is a plain code (hashed here) or a `firmware.access.AccessCode` (the data
    dir's hash). `allowed_hosts` are Host names to answer to besides the machine's own (see
    webui.security). `stats`, if given, is called by GET /api/health for the run command's own
    figures (loop lateness, store writer errors, and "ok"/"problems" when it knows better); it
    must be cheap and must not raise. `max_streams` caps the live streams, each of which holds a
    server thread."""
    app = Flask(__name__)
    app.url_map.converters["id"] = app.url_map.converters["int"] = RowId   # row ids SQLite can hold
    app.json = StrictJSON(app)
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 300
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # a pain note is small; refuse floods with 413
    app.extensions[EXTENSION] = WebContext(store=store, live=live, control=control,
                                           auth=AuthGuard(access_code), open_reads=open_reads,
                                           config_view=dict(config_view or {}), stats=stats,
                                           history=history or HistoryContext(),
                                           max_streams=max_streams)
    from webui.api import api
    from webui.api_history import history_api
    from webui.api_routine import routine_api
    from webui.openapi import openapi_api
    from webui.pages import pages
    from webui.session_api import session_api

    app.register_blueprint(api, url_prefix="/api")
    app.register_blueprint(routine_api, url_prefix="/api")
    app.register_blueprint(session_api, url_prefix="/api")
    app.register_blueprint(openapi_api, url_prefix="/api")
    app.register_blueprint(history_api, url_prefix="/api")
    app.register_blueprint(pages)
    security.install(app, allowed_hosts)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _http_error(exc: HTTPException) -> Any:
    if not _wants_json():
        return exc
    reason = exc.description if exc.code not in (404, 405) else _routing_reason(exc)
    response = jsonify(error=reason)
    response.status_code = exc.code or 500
    if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _routing_reason(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"no such endpoint: {request.method} {request.path}"
    allowed = ", ".join(getattr(exc, "valid_methods", None) or [])
    return f"method {request.method} not allowed on {request.path}; allowed: {allowed}"


def _unexpected_error(exc: Exception) -> Any:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    if _wants_json():
        response = jsonify(error=f"internal error: {type(exc).__name__}")
        response.status_code = 500
        return response
    return "internal error", 500
