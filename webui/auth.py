"""Who may change things: the access code, browser sessions, and a lockout per client.

Writes always need the code; reads only when the app was made with `open_reads=False`. A
request proves it knows the code in one of two ways:

- a browser session (POST /api/session with the code once): an `HttpOnly; SameSite=Strict`
  cookie, plus the session's CSRF token in the `X-CSRF-Token` header on every write, so a page
  on another site can neither read the token nor make the browser write;
- the code itself, in the `X-Access-Code` header or a JSON body's "access_code" (scripts,
  tests). There is no query parameter any more: EventSource sends the cookie, and a code in a
  URL would let any cross-site <img> make guesses in the owner's name.

Wrong guesses are counted per client address, and after `free` of them each further try must
wait twice as long as the last (up to `max_s`). A locked-out client is refused without its
code being checked (else a right guess would still show), but no other client is affected, and
a browser with a session never meets the lockout: the owner gets in while a neighbour guesses.
Sessions live in memory, so a restart logs every phone out (they enter the code again).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import jsonify, request

from firmware.access import AccessCode, replace_access_code

HEADER = "X-Access-Code"
CSRF_HEADER = "X-CSRF-Token"
COOKIE = "stretchstep_session"


@dataclass
class _Failures:
    count: int
    last: float


class ClientLockout:
    """Wrong-code counts per client with exponential backoff; bounded memory (oldest forgotten)."""

    def __init__(self, *, free: int = 5, base_s: float = 1.0, max_s: float = 900.0,
                 forget_s: float = 3600.0, max_clients: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.base_s, self.max_s, self.forget_s = free, base_s, max_s, forget_s
        self.max_clients = max_clients
        self.clock = clock
        self._clients: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """Seconds `client` must wait before its next try (0: it may try now)."""
        now = self.clock()
        with self._lock:
            record = self._clients.get(client)
            if record is None:
                return 0.0
            if now - record.last > self.forget_s:
                del self._clients[client]
                return 0.0
            if record.count < self.free:
                return 0.0
            wait = min(self.max_s, self.base_s * 2 ** (record.count - self.free))
            return max(0.0, record.last + wait - now)

    def failed(self, client: str) -> None:
        now = self.clock()
        with self._lock:
            record = self._clients.pop(client, None) or _Failures(0, now)
            record.count, record.last = record.count + 1, now
            self._clients[client] = record
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)


class Sessions:
    """Browser sessions in memory: id -> (CSRF token, expiry). A restart forgets them all."""

    def __init__(self, *, ttl_s: float = 30 * 86400, max_sessions: int = 64,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self.clock = clock
        self._sessions: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def create(self) -> tuple[str, str]:
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session_id] = (csrf, self.clock() + self.ttl_s)
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session_id, csrf

    def csrf(self, session_id: str | None) -> str | None:
        """The session's CSRF token, or None when there is no such (live) session."""
        if not session_id:
            return None
        with self._lock:
            found = self._sessions.get(session_id)
            if found is None:
                return None
            if found[1] <= self.clock():
                del self._sessions[session_id]
                return None
            return found[0]

    def drop(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()


class Refused(Exception):
    """A request without the right to do what it asks; becomes a JSON error response."""

    def __init__(self, status: int, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.retry_after_s = status, reason, retry_after_s

    def response(self) -> Any:
        body: dict[str, Any] = {"error": self.reason}
        if self.retry_after_s is not None:
            body["retry_after_s"] = round(self.retry_after_s, 1)
        response = jsonify(body)
        response.status_code = self.status
        if self.retry_after_s is not None:
            response.headers["Retry-After"] = str(max(1, round(self.retry_after_s)))
        if self.status == 401:
            response.headers["WWW-Authenticate"] = 'X-Access-Code realm="stretchstep"'
        return response


class AuthGuard:
    """The app's one gate: checks sessions and codes, counts wrong ones per client."""

    def __init__(self, access: AccessCode | str, *, lockout: ClientLockout | None = None,
                 sessions: Sessions | None = None) -> None:
        self.access = access if isinstance(access, AccessCode) else AccessCode.plain(access)
        self.lockout = lockout or ClientLockout()
        self.sessions = sessions or Sessions()
        self._verifier_seen = self.access.verifier()

    @property
    def enabled(self) -> bool:
        """False when no code is set: then nothing can be changed from the web."""
        return self.access.enabled

    def session_csrf(self) -> str | None:
        """The CSRF token of this browser's session, if it has one."""
        self._end_sessions_of_an_old_code()
        return self.sessions.csrf(request.cookies.get(COOKIE))

    def _end_sessions_of_an_old_code(self) -> None:
        """A new code (`access-code --reset` or the page's, usually because the old one got out)
        ends every session made with the old."""
        verifier = self.access.verifier()
        if verifier != self._verifier_seen:
            self.sessions.clear()
            self._verifier_seen = verifier

    def require(self, *, write: bool) -> None:
        """Return when the request may go on; raise Refused saying why not."""
        if not self.enabled:
            raise Refused(403, "Changes are turned off on this device: it has no access code.")
        csrf = self.session_csrf()
        if csrf is not None:
            token = request.headers.get(CSRF_HEADER, "")
            if not write or hmac.compare_digest(token.encode("utf-8"), csrf.encode("utf-8")):
                return
            if given_code() is None:
                raise Refused(403, "This page is out of date. Reload it and try again.")
        self.require_code(write=write)

    def require_code(self, *, write: bool = True) -> None:
        """The code itself must come with the request (header or JSON body)."""
        code = given_code()
        if code is None:
            self._not_locked_out()
            what = "make changes" if write else "see this"
            raise Refused(401, f"Enter the access code to {what}.")
        self.confirm(code)

    def confirm(self, code: str, wrong: str = "That access code is not right.") -> None:
        """`code` must be the current one; a wrong one counts against this client."""
        client = self._not_locked_out()
        if not self.access.check(code):
            self.lockout.failed(client)
            raise Refused(403, wrong)
        self.lockout.succeeded(client)

    def _not_locked_out(self) -> str:
        client = client_key(request.remote_addr)
        wait = self.lockout.retry_after(client)
        if wait > 0:
            raise Refused(429, f"Too many wrong access codes from this device. Try again in "
                               f"{_human_wait(wait)}.", retry_after_s=wait)
        return client

    def replace_code(self) -> str:
        """A new code (`firmware.access.replace_access_code`); every session made with the old
        one ends, as after `access-code --reset`. Returns the plain code, to be shown once."""
        code = replace_access_code(self.access)
        self._end_sessions_of_an_old_code()
        return code

    def authenticated(self) -> bool:
        """Whether this request could read with closed reads (never raises, never counts twice)."""
        try:
            self.require(write=False)
        except Refused:
            return False
        return True


def client_key(address: str | None) -> str:
    """Whom a wrong guess counts against: the IPv4 address, or the /64 of an IPv6 one (a host
    there can pick new addresses in its /64 at will)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _human_wait(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    return f"{round(seconds / 60)} min"


def given_code() -> str | None:
    """The code sent with the request: the X-Access-Code header, else the JSON body's."""
    code = request.headers.get(HEADER)
    if code:
        return code
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("access_code"), str) and body["access_code"]:
            return body["access_code"]
    return None


def _guard() -> AuthGuard:
    from webui.app import ctx

    return ctx().auth


def requires_code(view: Callable[..., Any]) -> Callable[..., Any]:
    """For anything that changes or deletes data."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            _guard().require(write=True)
        except Refused as refused:
            return refused.response()
        return view(*args, **kwargs)

    wrapper.access = "write"  # type: ignore[attr-defined]  # read by webui.openapi
    return wrapper


def read_access(view: Callable[..., Any]) -> Callable[..., Any]:
    """For reads: open when the app was made with open_reads, else a session or the code."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from webui.app import ctx

        if not ctx().open_reads:
            try:
                _guard().require(write=False)
            except Refused as refused:
                return refused.response()
        return view(*args, **kwargs)

    wrapper.access = "read"  # type: ignore[attr-defined]
    return wrapper
