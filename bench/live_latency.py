"""Live view latency (DESIGN §6): event to browser <= 250 ms (p95), under N phones.

Starts the real `stretchstep run` on a free loopback port (simulated person, 80 Hz, speed 1)
and opens N phones on the live stream (server-sent events). Every event frame carries
`emitted_at`, the wall clock when the sampling loop handed the event to the live view; a
phone's latency for it is the wall time it read the frame minus that. Phones and device share
one machine, hence one clock. The event's own `t` would not do: most events are dated back to
where they began (a breath at its press peak), seconds before the detector can know them.
Traffic goes only to 127.0.0.1 and stops by itself.

    python bench/live_latency.py [--phones 10] [--seconds 60] [--quick]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.service_proc import phone_options, run_phones, running_device, stream_messages  # noqa: E402

BAR_P95_MS = 250.0


def phone(url: str, until: float, delivered: list[tuple[str, float]]) -> None:
    """One phone: read the live stream until `until`, noting (event, latency in ms) per event frame."""
    for received, kind, data in stream_messages(url, until):
        if kind == "event":
            frame = json.loads(data)
            event = frame["event"]
            delivered.append((f"{event['kind']}@{event['t']}", 1000.0 * (received - frame["emitted_at"])))


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank, as the loop's own figures (firmware.device.LoopStats) are taken."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def report(delivered: list[tuple[str, float]], phones: int, elapsed: float) -> bool:
    """Print the figures; False when no event arrived at all (nothing was measured)."""
    events = {name for name, _ in delivered}
    print(f"{phones} phones for {elapsed:.1f} s at 80 Hz: {len(events)} events, "
          f"{len(delivered)} deliveries to phones")
    if not delivered:
        print("event -> phone latency: p50 n/a, p95 n/a (no event in the window: run longer)")
        return False
    ms = sorted(latency for _, latency in delivered)
    p95 = percentile(ms, 0.95)
    print(f"event -> phone latency: p50 {percentile(ms, 0.5):.1f} ms, p95 {p95:.1f} ms, "
          f"p99 {percentile(ms, 0.99):.1f} ms, max {ms[-1]:.1f} ms  "
          f"(bar: p95 <= {BAR_P95_MS:g} ms) {'PASS' if p95 <= BAR_P95_MS else 'FAIL'}")
    return True


def main() -> int:
    phones, seconds = phone_options(__doc__.splitlines()[0], seconds=60.0, quick_seconds=5.0)
    delivered: list[tuple[str, float]] = []
    with running_device() as url:
        elapsed = run_phones(lambda _i, until: phone(url, until, delivered), phones, seconds)
    return 0 if report(delivered, phones, elapsed) else 1


if __name__ == "__main__":
    sys.exit(main())
