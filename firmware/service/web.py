"""The web process: waitress serving the dashboard, fed by the sampler over the link.

It holds no sensor and no loop: live state is a `LiveMirror` kept by `LinkClient`, commands go
to the sampler through `RemoteControl`, history is read from SQLite on its own connections. If
it crashes or is overloaded, sampling does not notice; the supervisor starts a new one on the
same port.
"""

from __future__ import annotations

import errno
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
from typing import Any

from firmware.config import Config
from firmware.service.link import LinkClient, RemoteControl
from firmware.service.logs import setup_logging

EXIT_FATAL = 3
WEB_NICENESS = 10


def build_web(cfg: Config, sock_path: str) -> tuple[Any, LinkClient, Any]:
    """(app, link, store) for the web process: the one place the two-process app is composed."""
    from firmware.access import load_access_code
    from firmware.history import history_context
    from firmware.routine.build import RoutineBook
    from firmware.store import Store
    from webui import create_app
    from webui.api_routine import BOOK

    data_dir, history = cfg.data_dir(), cfg.history_dir()
    link = LinkClient(sock_path)
    store = Store(history / "history.sqlite")
    app = create_app(store, link.live, control=RemoteControl(link.call),
                     access_code=load_access_code(data_dir, cfg.web.access_code),
                     open_reads=cfg.web.open_reads, stats=link.health, max_streams=cfg.web.max_streams,
                     allowed_hosts=cfg.web.allowed_hosts, history=history_context(cfg, store),
                     config_view={"source": cfg.sensor.source, "data_dir": str(data_dir),
                                  "history_dir": str(history)})
    app.config[BOOK] = RoutineBook.from_config(cfg)
    return app, link, store


def listen_failure(host: str, port: int, exc: OSError) -> str:
    """The one line for an address the web cannot listen on (a bad name, a port in use)."""
    hint = ("; is another stretchstep running? Stop it or choose another --port"
            if exc.errno == errno.EADDRINUSE else "")
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}"


def check_can_listen(host: str, port: int) -> None:
    """Bind and let go of the web's address, before anything else starts: a bad host name or a
    port in use is then one line with nothing stored, instead of a session of a second and a
    "stopped" before the error. (The web binds again for real; a port taken in between is
    still reported by it.) OSError with `listen_failure`'s message."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as waitress does
            probe.bind(address)
    except OSError as exc:
        raise OSError(exc.errno, listen_failure(host, port, exc)) from None


def web_main(cfg: Config, sock_path: str, port: int,
             report: multiprocessing.connection.Connection) -> None:
    """The web process (spawned by the supervisor); reports ("ready", {"port", "pid"}) or ("fatal", why)."""
    from webui.server import build_server, shutdown_streams

    setup_logging("web")
    os.nice(WEB_NICENESS)   # when the CPU is short, the sampler runs first and the page waits
    app, link, store = build_web(cfg, sock_path)
    try:
        server = build_server(app, cfg.web.host, port, threads=cfg.web.threads)
    except OSError as exc:
        report.send(("fatal", listen_failure(cfg.web.host, port, exc)))
        sys.exit(EXIT_FATAL)

    def stop(_signum: int, _frame: object) -> None:
        shutdown_streams(app)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    parent = multiprocessing.parent_process()
    if parent is not None:  # the supervisor gone (kill -9): stop rather than serve a dead device
        threading.Thread(target=_stop_with, args=(parent.sentinel,), daemon=True).start()
    report.send(("ready", {"port": getattr(server, "effective_port", port), "pid": os.getpid()}))
    try:
        server.run()
    finally:
        shutdown_streams(app)
        server.close()
        link.close()
        store.close()


def _stop_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os.kill(os.getpid(), signal.SIGTERM)
