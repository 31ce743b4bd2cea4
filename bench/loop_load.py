"""Loop under web load (DESIGN §6): `stretchstep run` at 80 Hz with N phones on the live stream.

Starts the real command on a free loopback port (simulated person, speed 1), opens N SSE
clients for the given time, then reads the loop's own figures from /api/health: samples
processed versus expected (none dropped) and how late samples were released (p99 jitter).
Traffic goes only to 127.0.0.1 and stops by itself.

    python bench/loop_load.py [--phones 10] [--seconds 30] [--quick]
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.service_proc import phone_options, run_phones, running_device, stream_messages  # noqa: E402


def phone(url: str, until: float, counts: list[int], i: int) -> None:
    """One phone: read the live stream until `until`, counting messages."""
    for _ in stream_messages(url, until):
        counts[i] += 1


def main() -> int:
    phones, seconds = phone_options(__doc__.splitlines()[0], seconds=30.0, quick_seconds=4.0)
    counts = [0] * phones
    with running_device() as url:
        before = json.load(urllib.request.urlopen(url + "/api/health", timeout=5))["stats"]["loop"]
        elapsed = run_phones(lambda i, until: phone(url, until, counts, i), phones, seconds)
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
