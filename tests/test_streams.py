"""Live streams cannot starve anyone: a real waitress server on loopback, raw sockets as phones.

A cap on open streams (one more gets a 503 JSON reason), readers that stop reading cut off after
a bounded backlog (counted in /api/health), and with 200 streams open the API still answers."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from firmware.live import LiveState
from firmware.store import Store
from webui import create_app
from webui.server import build_server, shutdown_streams


@pytest.fixture
def serve(tmp_path, until):
    """serve(max_streams, **build) -> (base URL, live, app); stopped after the test."""
    started = []

    def start(max_streams: int = 16, **build):
        live = LiveState(sample_hz=1000.0, queue_size=4096)
        store = Store(tmp_path / "h.sqlite")
        app = create_app(store, live, max_streams=max_streams)
        app.extensions["stretchstep"].poll_s = 0.1
        server = build_server(app, "127.0.0.1", 0, **build)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started.append((app, server, thread, store))
        return f"http://127.0.0.1:{server.effective_port}", live, app

    yield start
    for app, server, thread, store in started:
        shutdown_streams(app)
        context = app.extensions["stretchstep"]
        until(lambda c=context: c.streams_open == 0, timeout=5)  # stream threads let go first
        server.close()
        thread.join(5)
        store.close()


def open_stream(base: str, rcvbuf: int | None = None) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((host, int(port)))
    sock.sendall(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
    return sock


def first_bytes(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    return sock.recv(4096)


def health(base: str) -> dict:
    return json.load(urllib.request.urlopen(base + "/api/health", timeout=5))


def test_one_stream_over_the_cap_gets_a_503_reason_and_a_closed_connection(serve, until):
    base, live, _ = serve(max_streams=3)
    phones = [open_stream(base) for _ in range(3)]
    assert all(b"200 OK" in first_bytes(p) for p in phones)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(base + "/api/stream", timeout=5)
    assert refused.value.code == 503 and refused.value.headers["Connection"] == "close"
    assert "too many live views" in json.load(refused.value)["error"]
    body = health(base)["streams"]
    assert body == {"open": 3, "max": 3, "refused": 1, "dropped_stalled": 0}
    phones.pop().close()
    # a slot frees when a phone leaves: found on the next write (a message, or the heartbeat)
    until(lambda: live.on_sample(time.monotonic(), 1.0, {"state": "empty"}) or
          health(base)["streams"]["open"] == 2)
    assert b"200 OK" in first_bytes(open_stream(base))


def test_a_reader_that_stops_reading_is_cut_off_after_a_bounded_backlog(serve, until):
    base, live, _ = serve(stream_backlog=16 * 1024)
    stalled = open_stream(base, rcvbuf=4096)               # reads nothing after this
    reader = open_stream(base)
    assert b"200 OK" in first_bytes(reader)
    stop = threading.Event()
    padding = "x" * 400

    def pump() -> None:                                    # ~400 kB/s of live messages
        t = 0.0
        while not stop.is_set():
            t += 0.001
            live.on_sample(t, 50.0, {"state": "holding", "note": padding})
            time.sleep(0.001)

    def drain() -> None:
        reader.settimeout(1)
        while not stop.is_set():
            try:
                if not reader.recv(65536):
                    return
            except OSError:
                continue

    threads = [threading.Thread(target=pump, daemon=True), threading.Thread(target=drain, daemon=True)]
    for thread in threads:
        thread.start()
    try:
        streams = until(lambda: (s := health(base)["streams"])["dropped_stalled"] >= 1 and s)
        assert streams["dropped_stalled"] == 1 and streams["open"] == 1   # the reading phone stays
    finally:
        stop.set()
    stalled.settimeout(5)            # the server closes it from its own thread, just after the count
    received = 0
    try:
        while chunk := stalled.recv(1 << 20):
            received += len(chunk)
    except TimeoutError:
        pytest.fail("the stalled connection was left open")
    assert received < 1_000_000        # what reached it before the cut: kernel buffers + backlog


def test_with_200_streams_open_the_api_answers_within_a_second(serve, until):
    base, _, _ = serve()
    streams = [open_stream(base) for _ in range(200)]
    try:
        until(lambda: health(base)["streams"]["refused"] >= 184)
        t0 = time.monotonic()
        today = json.load(urllib.request.urlopen(base + "/api/today", timeout=5))
        took = time.monotonic() - t0
        assert "stretches" in today and took < 1.0, took
        page = urllib.request.urlopen(base + "/", timeout=5)
        assert page.status == 200
    finally:
        for sock in streams:
            sock.close()
