"""The local socket between the sampler and the web process: live state out, commands in.

One unix stream socket, newline-delimited JSON. The sampler listens (`LinkServer`); the web
connects (`LinkClient`) and reconnects whenever the link drops, so either side can restart.

sampler -> web:  {"type": "snapshot"|"sample"|"event"|"state", "data": ...}  (firmware.live)
                 {"type": "health", "data": {...}}            once a second: loop, store, faults
                 {"type": "reply", "id": n, "result": ...} | {"type": "reply", "id": n,
                  "error": "for a person", "status": 409|503}
web -> sampler:  {"type": "call", "id": n, "method": "tare", "kwargs": {...}}

The sampler never waits on the web: live messages reach the link through an ordinary bounded
LiveState subscription (a web that stops reading loses the oldest messages, never the loop's
time), and each connection has its own sender and receiver threads. Commands run on the
receiver thread, calling `firmware.control.DeviceControl` by method name.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from firmware.control import ControlUnavailable, DeviceControl
from firmware.live import LiveMirror, LiveState, jsonable

log = logging.getLogger(__name__)

HEALTH_EVERY_S = 1.0
SEND_TIMEOUT_S = 5.0
STALE_AFTER_S = 3.0          # no word from the sampler for this long: it is lost
CALL_TIMEOUT_S = 15.0
SETTLE_TIMEOUT_S = 2.0     # longest an event waits for its commit before the web sees it
QUEUE_SIZE = 2048            # live messages buffered for a slow web process before the oldest go
LINE_MAX = 1 << 20


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode() + b"\n"


def _lines(sock: socket.socket) -> Any:
    """Decoded JSON objects from a stream socket until it closes (bad lines are skipped)."""
    buffer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buffer += chunk
        if len(buffer) > LINE_MAX and b"\n" not in buffer:
            raise ConnectionError("a line longer than 1 MiB on the link")
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                log.warning("link: skipped a line that is not JSON")
                continue
            if isinstance(message, dict):
                yield message


# --- the sampler's side -------------------------------------------------------------------------
class LinkServer:
    """Serves the sampler's LiveState, health and DeviceControl to web processes on `path`."""

    def __init__(self, path: str, live: LiveState, control: Any,
                 health: Callable[[], dict[str, Any]], *,
                 settle: Callable[[float], bool] | None = None) -> None:
        self.path, self.live, self.control, self.health = path, live, control, health
        # waits (on this connection's sender, never the loop) until the store writer has committed
        # what was queued so far: an event a phone has seen survives a kill -9 of the sampler
        self.settle = settle
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        os.chmod(path, 0o600)
        self._listener.listen(4)
        self._closed = threading.Event()
        self.connections = 0
        threading.Thread(target=self._accept, name="link-accept", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            _Connection(self, conn).start()


class _Connection:
    """One web process: a sender (snapshot, live messages, health) and a receiver (commands)."""

    def __init__(self, server: LinkServer, sock: socket.socket) -> None:
        self.server, self.sock = server, sock
        sock.settimeout(SEND_TIMEOUT_S)
        self._send_lock = threading.Lock()
        self._gone = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._send_loop, name="link-send", daemon=True).start()
        threading.Thread(target=self._receive_loop, name="link-receive", daemon=True).start()

    def _send(self, message: dict[str, Any]) -> None:
        data = _encode(message)
        with self._send_lock:
            self.sock.sendall(data)

    def _close(self) -> None:
        self._gone.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes the other thread's recv; the web sees EOF
        with contextlib.suppress(OSError):
            self.sock.close()

    def _send_loop(self) -> None:
        live = self.server.live
        sub = live.subscribe(QUEUE_SIZE)   # a web process may fall further behind than one phone
        try:
            self._send({"type": "snapshot", "data": live.snapshot()})
            next_health = 0.0
            while not self._gone.is_set() and not self.server._closed.is_set():
                now = time.monotonic()
                if now >= next_health:
                    next_health = now + HEALTH_EVERY_S
                    self._send({"type": "health", "data": jsonable(self.server.health())})
                message = sub.get(timeout=max(0.0, next_health - time.monotonic()))
                if message is not None:
                    if message["type"] == "event" and self.server.settle is not None \
                            and not self.server.settle(SETTLE_TIMEOUT_S):
                        log.warning("link: the store has not committed an event after %.0f s; "
                                    "shown anyway (health counts the writer's state)",
                                    SETTLE_TIMEOUT_S)
                    self._send({"type": message["type"], "data": message["data"]})
        except (OSError, ValueError) as exc:
            if not self._gone.is_set():
                log.info("link: web connection closed (%s)", exc)
        finally:
            live.unsubscribe(sub)
            self._close()

    def _receive_loop(self) -> None:
        try:
            self.sock.settimeout(None)
            for message in _lines(self.sock):
                if message.get("type") == "call":
                    self._send(self._answer(message))
        except (OSError, ConnectionError):
            pass
        finally:
            self._close()

    def _answer(self, message: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"type": "reply", "id": message.get("id")}
        method, kwargs = message.get("method"), message.get("kwargs") or {}
        if not isinstance(method, str) or method.startswith("_") or not isinstance(kwargs, dict) \
                or not callable(getattr(self.server.control, method, None)):
            return {**reply, "error": f"the device has no command {method!r}", "status": 404}
        try:
            reply["result"] = jsonable(getattr(self.server.control, method)(**kwargs))
        except TypeError as exc:
            return {**reply, "error": f"{method}: {exc}", "status": 400}
        except ValueError as exc:
            return {**reply, "error": str(exc), "status": getattr(exc, "http_status", 409)}
        except Exception as exc:
            log.exception("command %s failed", method)
            return {**reply, "error": f"the device could not {method}: {type(exc).__name__}: {exc}",
                    "status": 503}
        return reply


# --- the web's side -----------------------------------------------------------------------------
class CommandRefused(ValueError):
    """The sampler refused a command; `http_status` is what the API answers."""

    def __init__(self, message: str, http_status: int = 409) -> None:
        super().__init__(message)
        self.http_status = http_status


class LinkClient:
    """Keeps a connection to the sampler, feeding `live` (a LiveMirror) and carrying commands."""

    def __init__(self, path: str, live: LiveMirror | None = None, *, retry_s: float = 0.2) -> None:
        self.path, self.retry_s = path, retry_s
        self.live = live if live is not None else LiveMirror()
        self.sampler_health: dict[str, Any] = {}
        self.last_heard = 0.0
        self.connects = 0
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._waiting: dict[int, list[Any]] = {}   # id -> [threading.Event, reply]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="link-client", daemon=True)
        self._thread.start()

    @property
    def connected(self) -> bool:
        return self._sock is not None and time.monotonic() - self.last_heard < STALE_AFTER_S

    def close(self) -> None:
        self._stop.set()
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        while not self._stop.is_set():
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.path)
            except OSError:
                sock.close()
                self._stop.wait(self.retry_s)
                continue
            self.connects += 1
            self._sock = sock
            try:
                for message in _lines(sock):
                    self.last_heard = time.monotonic()
                    self._take(message)
            except (OSError, ConnectionError):
                pass
            finally:
                self._sock = None
                with contextlib.suppress(OSError):
                    sock.close()
                self._fail_waiting()
                self.live.lost()
            if not self._stop.is_set():
                log.warning("link to the sampler lost; reconnecting")
                self._stop.wait(self.retry_s)

    def _take(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "health":
            self.sampler_health = message.get("data") or {}
        elif kind == "reply":
            slot = self._waiting.get(message.get("id"))  # type: ignore[arg-type]
            if slot is not None:
                slot[1] = message
                slot[0].set()
        else:
            self.live.apply(message)

    def _fail_waiting(self) -> None:
        for slot in list(self._waiting.values()):
            slot[0].set()

    def call(self, method: str, kwargs: dict[str, Any], timeout: float = CALL_TIMEOUT_S) -> Any:
        """Run DeviceControl.`method`(**kwargs) in the sampler; its result, or ValueError."""
        sock = self._sock
        if sock is None:
            raise ControlUnavailable("the sampler is not running right now; try again in a few seconds")
        call_id = next(self._ids)
        slot: list[Any] = [threading.Event(), None]
        self._waiting[call_id] = slot
        try:
            with self._send_lock:
                sock.sendall(_encode({"type": "call", "id": call_id, "method": method, "kwargs": kwargs}))
            if not slot[0].wait(timeout):
                raise ControlUnavailable(f"the sampler did not answer {method} within {timeout:g} s")
        except OSError:
            raise ControlUnavailable("the link to the sampler broke; try again in a few seconds") from None
        finally:
            self._waiting.pop(call_id, None)
        reply = slot[1]
        if reply is None:
            raise ControlUnavailable("the link to the sampler broke; try again in a few seconds")
        if "error" in reply:
            raise CommandRefused(str(reply["error"]), int(reply.get("status") or 409))
        return reply.get("result")

    def health(self) -> dict[str, Any]:
        """The web's `stats` for /api/health: the sampler's own figures and the link's, with the
        problems that make `ok` false."""
        sampler = dict(self.sampler_health)
        problems = list(sampler.pop("problems", []))
        if not self.connected:
            problems.append("the web process has lost its sampler")
        elif not sampler:  # just (re)connected: nothing is known of the loop yet
            problems.append("waiting for the sampler's first figures")
        age = time.monotonic() - self.last_heard if self.last_heard else None
        return {**sampler, "problems": problems, "ok": not problems,
                "link": {"connected": self.connected, "connects": self.connects,
                         "last_heard_s": None if age is None else round(age, 3)},
                "web_pid": os.getpid()}


class RemoteControl:
    """DeviceControl's methods on the web side, forwarded to the sampler by name.

    Positional arguments are bound to names with DeviceControl's own signatures, so
    `control.calibrate(20.0)` sends {"known_kg": 20.0}; a method DeviceControl lacks is an
    AttributeError here, as it would be in one process."""

    def __init__(self, call: Callable[[str, dict[str, Any]], Any]) -> None:
        self._call = call

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(DeviceControl, name, None)
        if name.startswith("_") or not callable(method):
            raise AttributeError(name)
        signature = inspect.signature(method)

        def forward(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(None, *args, **kwargs)
            arguments = dict(bound.arguments)
            arguments.pop(next(iter(signature.parameters)))   # self
            return self._call(name, arguments)

        forward.__name__ = name
        forward.__doc__ = method.__doc__
        return forward
