"""Serving the app with waitress, and stopping its live streams so shutdown is prompt.

The run command must, on SIGTERM/SIGINT: call `shutdown_streams(app)` FIRST (every SSE
generator returns within `poll_s`, ~1 s, freeing its waitress thread), then stop the server
(raise SystemExit out of `server.run()`, or call `server.close()` from another thread).
"""

from __future__ import annotations

import socket
from typing import Any

import waitress
from flask import Flask

from webui.app import EXTENSION


def build_server(app: Flask, host: str, port: int, threads: int = 24) -> Any:
    """A waitress server bound to host:port (port 0 picks a free one: see `.effective_port`).

    Each live phone holds one thread for its stream, so `threads` bounds the number of phones
    (minus a few for page and API requests). Prints nothing; `.run()` serves until closed.
    """
    socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)  # a bad name: OSError, not waitress's ValueError
    return waitress.create_server(
        app, host=host, port=port, threads=threads, ident="stretchstep",
        channel_timeout=30, connection_limit=200, asyncore_use_poll=True,
        clear_untrusted_proxy_headers=True,
    )


def shutdown_streams(app: Flask) -> None:
    """End every open SSE stream of `app` now, and refuse new ones. Idempotent."""
    context = app.extensions[EXTENSION]
    context.shutdown.set()
    context.live.close_all()
