"""Serving the app with waitress, and stopping its live streams so shutdown is prompt.

The run command must, on SIGTERM/SIGINT: call `shutdown_streams(app)` FIRST (every SSE
generator returns within `poll_s`, ~1 s, freeing its waitress thread), then stop the server
(raise SystemExit out of `server.run()`, or call `server.close()` from another thread).

A phone that stops reading its live stream (asleep, out of Wi-Fi) would otherwise have waitress
buffer its output without end (to temp files) and, past waitress's high watermark, pin a server
thread for good. `BoundedChannel` gives a stream a small kernel send buffer and cuts the
connection once `stream_backlog` bytes wait unsent; each cut is counted in /api/health.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import waitress
from flask import Flask
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import WSGITask

from webui.app import EXTENSION

STREAM_PATH = "/api/stream"
STREAM_BACKLOG = 128 * 1024     # bytes a stalled live stream may leave unsent before it is cut
STREAM_SNDBUF = 32 * 1024       # the kernel's share of that backlog, per stream socket


class _StreamTask(WSGITask):
    """A refused stream (503) closes its connection: a phone retrying it must not hold a socket."""

    def build_response_header(self) -> Any:
        if getattr(self.request, "path", "") == STREAM_PATH and not self.status.startswith("200"):
            self.set_close_on_finish()
        return super().build_response_header()


class BoundedChannel(HTTPChannel):
    """A waitress channel that drops a live stream whose reader stopped reading."""

    task_class = _StreamTask
    stream_backlog = STREAM_BACKLOG

    def on_drop(self) -> None:
        """Counts the cut (set per server by `build_server`)."""

    def write_soon(self, data: Any) -> Any:
        if data and self._serving_stream():
            if not getattr(self, "_small_sndbuf", False):
                self._small_sndbuf = True
                with contextlib.suppress(OSError):
                    self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SNDBUF)
            if self.total_outbufs_len > self.stream_backlog:
                self.will_close = True           # the server's own thread closes the socket
                self.server.pull_trigger()
                self.on_drop()
                raise ClientDisconnected
        return super().write_soon(data)

    def _serving_stream(self) -> bool:
        requests = self.requests
        return bool(requests) and getattr(requests[0], "path", "") == STREAM_PATH


def build_server(app: Flask, host: str, port: int, threads: int = 24,
                 stream_backlog: int = STREAM_BACKLOG) -> Any:
    """A waitress server bound to host:port (port 0 picks a free one: see `.effective_port`).

    Each live phone holds one thread for its stream; the app caps them (`max_streams`) below
    `threads` so pages and API requests always find one. Prints nothing; `.run()` serves until
    closed.
    """
    socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)  # a bad name: OSError, not waitress's ValueError
    server = waitress.create_server(
        app, host=host, port=port, threads=threads, ident="stretchstep",
        channel_timeout=30, connection_limit=200, asyncore_use_poll=True,
        clear_untrusted_proxy_headers=True,
    )
    context = app.extensions.get(EXTENSION)

    def dropped(_channel: Any) -> None:
        if context is not None:
            context.streams_dropped += 1

    channel = type("StretchstepChannel", (BoundedChannel,),
                   {"stream_backlog": stream_backlog, "on_drop": dropped})
    listeners = [server] if isinstance(server, BaseWSGIServer) else \
        [s for s in getattr(server, "map", {}).values() if isinstance(s, BaseWSGIServer)]
    for listener in listeners:
        listener.channel_class = channel
    return server


def shutdown_streams(app: Flask) -> None:
    """End every open SSE stream of `app` now, and refuse new ones. Idempotent."""
    context = app.extensions[EXTENSION]
    context.shutdown.set()
    context.live.close_all()
