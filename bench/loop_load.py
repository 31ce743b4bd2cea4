"""Loop under web load (DESIGN §6): `stretchstep run` at 80 Hz with N phones on the live stream.

Starts the real command on a free loopback port (simulated person, speed 1), opens N SSE
clients for the given time, then reads the loop's own figures from /api/health: samples
processed versus expected (none dropped) and how late samples were released (p99 jitter).
Traffic goes only to 127.0.0.1 and stops by itself.

    python bench/loop_load.py [--phones 10] [--seconds 30] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def start_device(data_dir: str) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, STRETCHSTEP_DATA_DIR=data_dir, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "firmware", "run", "--host", "127.0.0.1", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    for line in proc.stdout:
        match = re.search(r"open: (http://127\.0\.0\.1:\d+)/", line)
        if match:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return proc, match.group(1)
    raise SystemExit("stretchstep run did not start")


def phone(url: str, until: float, counts: list[int], i: int) -> None:
    """One phone: read the live stream until `until`, counting messages."""
    with urllib.request.urlopen(url + "/api/stream", timeout=15) as resp:
        for raw in resp:
            if raw.startswith(b"data:"):
                counts[i] += 1
            if time.monotonic() >= until:
                return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="CI smoke: 3 phones for 4 s")
    args = parser.parse_args()
    phones, seconds = (3, 4.0) if args.quick else (args.phones, args.seconds)
    with tempfile.TemporaryDirectory() as data_dir:
        proc, url = start_device(data_dir)
        try:
            before = json.load(urllib.request.urlopen(url + "/api/health", timeout=5))["stats"]["loop"]
            t0 = time.monotonic()
            counts = [0] * phones
            until = t0 + seconds
            threads = [threading.Thread(target=phone, args=(url, until, counts, i)) for i in range(phones)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(seconds + 20)
            elapsed = time.monotonic() - t0
            loop = json.load(urllib.request.urlopen(url + "/api/health", timeout=5))["stats"]["loop"]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
    got = loop["samples"] - before.get("samples", 0)
    expected = 80 * elapsed
    print(f"{phones} phones for {elapsed:.1f} s at 80 Hz: {got} samples processed, {expected:.0f} expected "
          f"({got / expected:.1%}); live messages per phone: {min(counts)}-{max(counts)}")
    p99 = loop["late_p99_ms"]
    print(f"loop lateness (last 8192 samples): p50 {loop['late_p50_ms']:.2f} ms, p99 {p99:.2f} ms, "
          f"max {loop['late_max_ms']:.2f} ms  (bar: p99 <= 5 ms) {'PASS' if p99 <= 5 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
