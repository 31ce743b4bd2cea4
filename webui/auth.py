"""The access code: writes always need it, reads only when the dashboard is not open.

The code comes in the `X-Access-Code` header, the JSON body's "access_code", or (GET only, for
EventSource which cannot send headers) the `access_code` query parameter. Compared in constant
time. A short code on a LAN could be guessed by brute force, so after `max_failures` wrong codes
within `window_s` every check is refused with 429 until the window passes.
"""

from __future__ import annotations

import functools
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import jsonify, request

HEADER = "X-Access-Code"


class AuthGuard:
    def __init__(self, code: str, *, max_failures: int = 20, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.code = code
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    def locked_out(self) -> bool:
        now = self.clock()
        with self._lock:
            while self._failures and now - self._failures[0] > self.window_s:
                self._failures.popleft()
            return len(self._failures) >= self.max_failures

    def check(self, given: str | None) -> bool:
        """True when `given` is the code; counts failures for the lockout."""
        if not self.code or not given:
            ok = False
        else:
            ok = hmac.compare_digest(given.encode("utf-8"), self.code.encode("utf-8"))
        if not ok and given:
            with self._lock:
                self._failures.append(self.clock())
        return ok


def given_code() -> str | None:
    code = request.headers.get(HEADER)
    if code:
        return code
    if request.method == "GET":
        return request.args.get("access_code") or None
    body = request.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("access_code"), str):
        return body["access_code"]
    return None


def _refusal() -> Any | None:
    """None when the request carries the right code, else the JSON error response."""
    from webui.app import ctx

    guard: AuthGuard = ctx().auth
    if not guard.code:
        return _error(403, "no access code is configured on the device, so changes are disabled")
    if guard.locked_out():
        return _error(429, "too many wrong access codes; wait a minute and try again")
    code = given_code()
    if code is None:
        return _error(401, f"access code required: send it in the {HEADER} header or as JSON "
                           '"access_code"')
    if not guard.check(code):
        return _error(401, "wrong access code")
    return None


def _error(status: int, reason: str) -> Any:
    response = jsonify(error=reason)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'X-Access-Code realm="stretchstep"'
    return response


def requires_code(view: Callable[..., Any]) -> Callable[..., Any]:
    """For anything that changes or deletes data."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _refusal() or view(*args, **kwargs)

    return wrapper


def read_access(view: Callable[..., Any]) -> Callable[..., Any]:
    """For reads: open when the app was made with open_reads, else the code is needed too."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from webui.app import ctx

        if ctx().open_reads:
            return view(*args, **kwargs)
        return _refusal() or view(*args, **kwargs)

    return wrapper
