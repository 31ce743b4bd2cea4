"""`stretchstep run`: starts and watches the sampler and web processes (DESIGN §4).

  supervisor (this process: no sensor, no web; signals, restarts, systemd notifications)
    |- sampler  firmware.service.sampler: sensor -> detector -> routine -> cues, store writer
    |- web      firmware.service.web: waitress; live state and commands over a unix socket
                (firmware.service.link) in the runtime dir (firmware.service.runtime); history via SQLite

Start-up order: the sampler first (history checked, source opened: a fault retrying cannot fix
stops the run here with one line), then the web (port bound), then the announcement and
systemd's READY=1. A web process that dies is started again on the same port with backoff;
sampling never notices. A sampler that dies after start is started again too (a new session;
the killed one is closed at its last event). SIGTERM/SIGINT stop both, the sampler flushing
history. Children ignore SIGINT (a terminal's Ctrl-C reaches the whole process group): the
supervisor alone decides the order of the stop.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from firmware.access import AccessCode, AccessError, describe, ensure_access_code, link
from firmware.config import Config
from firmware.datalock import DataDirLock, DataDirLocked
from firmware.files import private_dir
from firmware.running_service import local_url
from firmware.service.logs import setup_logging
from firmware.service.notify import notify
from firmware.service.runtime import claim_runtime_dir

log = logging.getLogger(__name__)
SPAWN = multiprocessing.get_context("spawn")
STOP_TIMEOUT_S = 15.0
START_TIMEOUT_S = 600.0       # a long replay is read through before the sampler says ready
STABLE_S = 60.0               # a child up this long has its restart backoff reset


class ServiceError(RuntimeError):
    """The service cannot start for a reason the user can fix (e.g. the port is taken)."""


def lan_addresses() -> list[str]:
    """IPv4 addresses a phone on the LAN may reach this machine at (asks the OS; sends nothing)."""
    found: list[str] = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    except OSError:
        pass
    try:  # Raspberry Pi OS / Debian: every configured address, when the host name maps to loopback
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=2).stdout
        found.extend(word for word in out.split() if "." in word)
    except (OSError, subprocess.SubprocessError):
        pass
    return [addr for i, addr in enumerate(found) if not addr.startswith("127.") and addr not in found[:i]]


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Children are started with SIGINT ignored (kept across exec), so Ctrl-C stops only us."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Stopping(Exception):
    """A stop was asked for while waiting on a child."""


class Child:
    """One spawned process that reports ("ready", info) or ("fatal", message) on a pipe."""

    def __init__(self, name: str, target: Callable[..., None], args: tuple[Any, ...]) -> None:
        self.name, self.target, self.args = name, target, args
        self.process: Any = None
        self.started_at = 0.0
        self.info: dict[str, Any] = {}
        self._reader: Any = None

    def start(self, stop: threading.Event) -> dict[str, Any]:
        """Start it and wait for its report; ServiceError with its message if it cannot run."""
        reader, writer = SPAWN.Pipe(duplex=False)
        with _sigint_ignored():
            self.process = SPAWN.Process(target=self.target, args=(*self.args, writer), name=self.name,
                                         daemon=True)
            self.process.start()
        writer.close()
        self._reader, self.started_at = reader, time.monotonic()
        deadline = self.started_at + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if stop.is_set():
                raise _Stopping
            ready = multiprocessing.connection.wait([reader, self.process.sentinel], timeout=0.5)
            if reader in ready or (ready and reader.poll()):
                kind, data = self._receive()
                if kind == "ready":
                    self.info = data
                    return data
                raise ServiceError(str(data))
            if ready:
                raise ServiceError(f"the {self.name} process ended while starting (exit code "
                                   f"{self.process.exitcode}); see the messages above")
        raise ServiceError(f"the {self.name} process did not start within {START_TIMEOUT_S:g} s")

    def _receive(self) -> tuple[str, Any]:
        try:
            return self._reader.recv()
        except (EOFError, OSError):
            return ("fatal", f"the {self.name} process ended while starting")

    def last_word(self) -> str | None:
        """The fatal message a dead child left, if any."""
        try:
            while self._reader is not None and self._reader.poll():
                kind, data = self._reader.recv()
                if kind == "fatal":
                    return str(data)
        except (EOFError, OSError):
            pass
        return None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def terminate(self) -> None:
        if self.alive:
            self.process.terminate()

    def join(self, timeout: float) -> None:
        if self.process is None:
            return
        self.process.join(timeout)
        if self.process.is_alive():
            log.error("the %s process did not stop within %g s; killing it", self.name, timeout)
            self.process.kill()
            self.process.join(5)


def run_service(cfg: Config, *, ready: threading.Event | None = None) -> int:
    from firmware.service.sampler import EXIT_FATAL, sampler_main
    from firmware.service.web import check_can_listen, web_main

    setup_logging("supervisor")
    data_dir = cfg.data_dir()
    try:
        check_can_listen(cfg.web.host, cfg.web.port)
    except OSError as exc:
        raise ServiceError(exc.strerror) from None
    try:
        private_dir(data_dir)  # 0700 when made here: history, pain notes, the code's hash
        code = ensure_access_code(data_dir, cfg.web.access_code)
        lock = DataDirLock(cfg.history_dir()).acquire()   # one stretchstep per history
    except (AccessError, DataDirLocked) as exc:
        raise ServiceError(str(exc)) from None
    except OSError as exc:
        why = "it is a file, not a folder" if data_dir.exists() and not data_dir.is_dir() else \
            exc.strerror or str(exc)
        raise ServiceError(f"cannot use the data dir {data_dir}: {why}; choose another "
                           "with --data-dir or fix its permissions") from None
    try:
        runtime = claim_runtime_dir(cfg.history_dir())   # under the lock: a crash's leftover goes
    except OSError as exc:
        lock.release()
        raise ServiceError(f"cannot make a runtime folder: {exc}; set RUNTIME_DIRECTORY or "
                           "XDG_RUNTIME_DIR to a writable folder") from None
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sock_path = str(Path(runtime) / "sampler.sock")
    sampler = Child("sampler", sampler_main, (cfg, sock_path))
    web = Child("web", web_main, (cfg, sock_path, cfg.web.port))
    failure: str | None = None
    started = False
    try:
        sampler.start(stop)
        started = True
        port = web.start(stop)["port"]
        web.args = (cfg, sock_path, port)  # a restarted web keeps the port the phones know
        lock.note_address(local_url(cfg.with_values("web", port=int(port))))  # found without its --port
        _announce(cfg, data_dir, code, port)
        notify("READY=1")
        if ready is not None:
            ready.set()
        failure = _watch(stop, sampler, web, exit_fatal=EXIT_FATAL)
    except _Stopping:
        pass
    finally:
        notify("STOPPING=1")
        for child in (web, sampler):
            child.terminate()
        for child in (web, sampler):
            child.join(STOP_TIMEOUT_S)
        shutil.rmtree(runtime, ignore_errors=True)
        lock.release()
        if started:
            print("stopped; history kept in " + str(cfg.history_dir() / "history.sqlite"), file=sys.stderr)
    if failure is not None:
        raise ServiceError(failure)
    return 0


def _watch(stop: threading.Event, sampler: Child, web: Child, *, exit_fatal: int) -> str | None:
    """Until a stop: restart a child that died (backoff); a fatal sampler ends the run with its reason."""
    delays = {"sampler": 1.0, "web": 1.0}
    while not stop.is_set():
        sentinels = [c.process.sentinel for c in (sampler, web) if c.alive]
        multiprocessing.connection.wait(sentinels, timeout=0.5)
        for child in (sampler, web):
            if stop.is_set() or child.alive:
                continue
            reason = child.last_word()
            if child is sampler and (reason or child.process.exitcode == exit_fatal):
                return reason or "the sampler stopped on a fault it cannot recover from"
            if time.monotonic() - child.started_at > STABLE_S:
                delays[child.name] = 1.0
            log.error("the %s process died (exit code %s); starting it again in %g s", child.name,
                      child.process.exitcode, delays[child.name])
            if stop.wait(delays[child.name]):
                break
            delays[child.name] = min(30.0, delays[child.name] * 2)
            try:
                child.start(stop)
            except ServiceError as exc:
                if child is sampler:
                    return str(exc)
                log.error("%s", exc)
    return None


def _announce(cfg: Config, data_dir: Path, code: AccessCode, port: int) -> None:
    """Where to open the page; a code made just now rides in the link's #fragment (shown once)."""
    print(f"stretchstep running: source {cfg.sensor.source}, data in {data_dir}", flush=True)
    if cfg.web.host in ("0.0.0.0", "::", ""):
        hosts = lan_addresses() or ["<this machine's address>"]
        for host in hosts:
            print(f"open on your phone: {link(host, port, code.fresh)}", flush=True)
        print(f"on this machine:    {link('127.0.0.1', port, code.fresh)}", flush=True)
    else:
        print(f"open: {link(cfg.web.host, port, code.fresh)}", flush=True)
    print(describe(code), flush=True)
    if code.warning:
        print(f"warning: {code.warning}", file=sys.stderr, flush=True)
