"""The real `stretchstep run` as a subprocess, and phones reading its live stream, for benchmarks.

Benchmarks of the whole service (bench/loop_load.py, bench/live_latency.py) must measure the
command people run, not a rebuilt copy of it: so the device runs as its own process on a free
loopback port (port 0, the address read from its announcement), with a throwaway data dir, and
is stopped with SIGTERM like systemd does. Phones are plain HTTP readers in threads.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
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
def running_device(*args: str) -> Iterator[str]:
    """A device on a throwaway data dir for the `with` block; yields its base URL, SIGTERMs it after."""
    with tempfile.TemporaryDirectory() as data_dir:
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
