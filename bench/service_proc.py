"""The real `stretchstep run` as a subprocess, and phones reading its live stream, for benchmarks.

Benchmarks of the whole service (bench/loop_load.py, bench/live_latency.py) must measure the
command people run, not a rebuilt copy of it: so the device runs as its own process on a free
loopback port (port 0, the address read from its announcement), with a throwaway data dir, and
is stopped with SIGTERM like systemd does. Phones are plain HTTP readers in threads.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ANNOUNCE = re.compile(r"open: (http://127\.0\.0\.1:\d+)/")


def start_device(data_dir: str, *args: str) -> tuple[subprocess.Popen, str]:
    """`stretchstep run` on 127.0.0.1 with `args` (e.g. "--speed", "2"); returns it and its base URL."""
    env = dict(os.environ, STRETCHSTEP_DATA_DIR=data_dir, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware", "run", "--host", "127.0.0.1", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    for line in proc.stdout:
        match = ANNOUNCE.search(line)
        if match:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return proc, match.group(1)
    raise SystemExit("stretchstep run did not start")


@contextmanager
def running_device(*args: str, prepare: Callable[[str], None] | None = None) -> Iterator[str]:
    """A device on a throwaway data dir for the `with` block; yields its base URL, SIGTERMs it after.

    `prepare(data_dir)` runs before the device starts (e.g. to give it a year of history)."""
    with tempfile.TemporaryDirectory() as data_dir:
        if prepare is not None:
            prepare(data_dir)
        proc, url = start_device(data_dir, *args)
        try:
            yield url
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)


def stream_messages(url: str, until: float) -> Iterator[tuple[float, str, bytes]]:
    """One phone on /api/stream until monotonic time `until`: (wall time received, kind, data).

    The wall time is taken as soon as the data line is read, before any parsing, so it is what a
    browser's EventSource would see; parsing the JSON is left to the caller that needs it.
    """
    with urllib.request.urlopen(url + "/api/stream", timeout=15) as resp:
        kind = "message"
        for raw in resp:
            if raw.startswith(b"data:"):
                yield time.time(), kind, raw[5:]
            elif raw.startswith(b"event:"):
                kind = raw[6:].strip().decode()
            elif raw in (b"\n", b"\r\n"):
                kind = "message"
            if time.monotonic() >= until:
                return


def phone_options(description: str, *, seconds: float, quick_seconds: float) -> tuple[int, float]:
    """(phones, seconds) from --phones (10), --seconds and --quick (3 phones, `quick_seconds`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--phones", type=int, default=10, help="phones on the live stream")
    parser.add_argument("--seconds", type=float, default=seconds, help="how long they watch")
    parser.add_argument("--quick", action="store_true", help=f"CI smoke: 3 phones for {quick_seconds:g} s")
    args = parser.parse_args()
    if args.phones < 1 or args.seconds <= 0:
        parser.error(f"--phones must be at least 1 and --seconds above 0, not {args.phones} "
                     f"and {args.seconds:g}")
    return (3, quick_seconds) if args.quick else (args.phones, args.seconds)


def run_phones(phone: Callable[[int, float], None], phones: int, seconds: float) -> float:
    """`phone(i, until)` in `phones` threads at once until `seconds` are up; the seconds it took."""
    t0 = time.monotonic()
    threads = [threading.Thread(target=phone, args=(i, t0 + seconds)) for i in range(phones)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 20)
    return time.monotonic() - t0


# --- the web load of DESIGN §6: live phones, heavy history readers, stalled streams ------------
def year_of_history(path: str, *, per_day: int = 12, days: int = 366) -> None:
    """A history file with a year of stretches, bounces and pain entries (what heavy readers read)."""
    from firmware import events as ev
    from firmware.events import Event
    from firmware.history import PainLog
    from firmware.store import Store

    store = Store(path)
    now = time.time()
    session = store.start_session("simulated", now - days * 86400)
    items = []
    for day in range(days):
        for k in range(per_day):
            wall = now - day * 86400 - k * 300
            items.append((session, Event(ev.STRETCH_END, 0.0, {
                "start": 0.0, "hold_start": 3.0, "end": 33.0, "hold_s": 30.0, "breaths": 5,
                "bounces": k % 3,
                "completed": k % 4 != 0, "peak_kg": 60.0, "leg": "left" if k % 2 else "right",
                "knee": "straight" if k % 4 < 2 else "bent"}), wall, {}))
            if k % 3:
                items.append((session, Event(ev.BOUNCE, 10.0, {"hz": 2.0, "pp_kg": 8.0}), wall - 20, {}))
        PainLog(store).add(now - day * 86400, day % 7, day % 5, "")
    store.add_events(items)
    store.end_session(session, now)
    store.close()


def stalled_stream(url: str) -> socket.socket:
    """A phone that asks for the live stream and then never reads (asleep, out of Wi-Fi)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(f"GET /api/stream HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    return sock


def heavy_reader(url: str, until: float, done: list[int]) -> None:
    """Reads a year of history per day, again and again, until monotonic `until`."""
    while time.monotonic() < until:
        try:
            with urllib.request.urlopen(url + "/api/history?days=366", timeout=30) as resp:
                resp.read()
            done.append(1)
        except OSError:
            time.sleep(0.1)


def web_load(url: str, seconds: float, *, phones: int = 10, heavy: int = 8,
             stalled: int = 10) -> dict[str, int]:
    """DESIGN §6's load on the device at `url` for `seconds`: `phones` live readers first, then
    `stalled` streams that never read, and `heavy` readers of a year of history."""
    until = time.monotonic() + seconds
    messages = [0] * phones
    reads: list[int] = []

    def phone(i: int) -> None:
        try:
            for _ in stream_messages(url, until):
                messages[i] += 1
        except OSError:
            pass

    threads = [threading.Thread(target=phone, args=(i,), daemon=True) for i in range(phones)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)                    # the phones hold their slots before the stalled ones come
    sockets = []
    for _ in range(stalled):
        with contextlib.suppress(OSError):
            sockets.append(stalled_stream(url))
    more = [threading.Thread(target=heavy_reader, args=(url, until, reads), daemon=True)
            for _ in range(heavy)]
    for thread in more:
        thread.start()
    for thread in threads + more:
        thread.join(max(0.0, until - time.monotonic()) + 35)
    for sock in sockets:
        sock.close()
    return {"phones": phones, "messages_min": min(messages, default=0), "heavy_reads": len(reads),
            "stalled": len(sockets)}
