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
import sys
import threading
import time
import urllib.request
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.service_proc import running_device, stream_messages  # noqa: E402


def phone(url: str, until: float, counts: list[int], i: int) -> None:
    """One phone: read the live stream until `until`, counting messages."""
    for _ in stream_messages(url, until):
        counts[i] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="CI smoke: 3 phones for 4 s")
    args = parser.parse_args()
    phones, seconds = (3, 4.0) if args.quick else (args.phones, args.seconds)
    with running_device() as url:
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
