"""Access once per browser: POST /api/session with the code, then the cookie does the rest.

    POST   /api/session {"access_code": "..."} -> 200 {"ok": true, "csrf_token": "..."} + cookie
    GET    /api/session -> {"authenticated", "csrf_token", "open_reads", "writes_enabled"}
    DELETE /api/session -> {"ok": true}; the cookie is cleared
    POST   /api/access-code {"current_code": "..."} -> {"access_code", "link", "csrf_token"}: a new code


The cookie is `HttpOnly` (no script can read it) and `SameSite=Strict` (no other site's page
can send it); writes with it also need `X-CSRF-Token`. Sessions are kept in memory (see
webui.auth), so they end when the device restarts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, jsonify, request

from firmware.access import AccessError, link
from webui.app import ctx
from webui.auth import COOKIE, Refused, requires_code
from webui.openapi import doc, obj, text

session_api = Blueprint("session_api", __name__)


@session_api.after_request
def _never_cached(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"   # it carries the CSRF token
    return response

ERROR = {"$ref": "#/components/schemas/Error"}
CODE_BODY = obj({"access_code": text(64, description="the device's access code")})
SESSION_STATE = obj({
    "authenticated": {"type": "boolean"},
    "csrf_token": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    "open_reads": {"type": "boolean"},
    "writes_enabled": {"type": "boolean"},
}, required=["authenticated", "csrf_token", "open_reads"])


@session_api.post("/session")
@doc("Enter the access code once: sets the session cookie, returns its CSRF token",
     body=CODE_BODY, body_required=False,
     response=obj({"ok": {"const": True}, "csrf_token": text()}, required=["ok", "csrf_token"]))
def login() -> Any:
    guard = ctx().auth
    try:
        if not guard.enabled:
            raise Refused(403, "Changes are turned off on this device: it has no access code.")
        guard.require_code(write=True)
    except Refused as refused:
        return refused.response()
    guard.sessions.drop(_cookie())
    return _let_in(ok=True)


def _let_in(**body: Any) -> Any:
    """A new session for this browser: its cookie, and its CSRF token in the answer."""
    guard = ctx().auth
    session_id, csrf = guard.sessions.create()
    response = jsonify(**body, csrf_token=csrf)
    response.set_cookie(COOKIE, session_id, max_age=int(guard.sessions.ttl_s), httponly=True,
                        samesite="Strict", path="/")
    return response


@session_api.post("/access-code")
@doc("Make a new access code: send the current one as current_code. The old code stops working "
     "and every browser is logged out but this one; the answer shows the new code, once",
     body=obj({"current_code": text(64, description="the access code in use now")},
              required=["current_code"]),
     response=obj({"access_code": text(), "link": text(), "csrf_token": text()},
                  required=["access_code", "link", "csrf_token"]),
     responses={400: ("no current_code: type the code in use now", ERROR),
                401: ("no session and no code: enter the access code first", ERROR),
                403: ("current_code (or the code sent) is not the one in use, the page is out of date, "
                      "or the device has no code", ERROR),
                409: ("the code is set in the config file, which stays the config's to change", ERROR),
                429: ("too many wrong codes from this client: retry_after_s says when to try again", ERROR)})
@requires_code
def new_access_code() -> Any:
    """Why the current code again, besides the session: a phone left unlocked on the stairs
    should not be enough to lock the owner out of their own step."""
    body = request.get_json(silent=True)
    current = body.get("current_code") if isinstance(body, dict) else None
    guard = ctx().auth
    try:
        if not isinstance(current, str) or not current:
            raise Refused(400, "Type the access code in use now, to make a new one.")
        guard.confirm(current, "That is not the access code in use now.")
        code = guard.replace_code()
    except Refused as refused:
        return refused.response()
    except AccessError as exc:
        response = jsonify(error=str(exc))
        response.status_code = 409
        return response
    return _let_in(access_code=code, link=_link(code))


def _link(code: str) -> str:
    """The page's address as this browser reached it, with the new code: `firmware.access.link`."""
    here = urlsplit(request.host_url)
    return link(here.hostname or "localhost", here.port or 80, code)


@session_api.get("/session")
@doc("Whether this browser is let in, and its CSRF token", response=SESSION_STATE)
def session_state() -> Any:
    c = ctx()
    csrf = c.auth.session_csrf()
    return jsonify(authenticated=csrf is not None, csrf_token=csrf, open_reads=c.open_reads,
                   writes_enabled=c.auth.enabled)


@session_api.delete("/session")
@doc("Log this browser out", response=obj({"ok": {"const": True}}, required=["ok"]))
def logout() -> Any:
    ctx().auth.sessions.drop(_cookie())
    response = jsonify(ok=True)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return response


def _cookie() -> str | None:
    return request.cookies.get(COOKIE)
