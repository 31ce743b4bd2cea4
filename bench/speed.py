"""How fast and how lean is the detector? µs per sample in pure Python, and memory over a day.

    python bench/speed.py [--quick] [--repeat N] [--hours H]

1. µs per sample (best of N runs) on a simulated routine at 80 and at 10 samples/s for:
   the glitch filter alone, the detector without its filter, and the full detector (filter +
   detector, what the device runs). The bar (DESIGN §6) is 10 µs per sample on a desktop core.
2. Peak memory (tracemalloc) while a 24 h trace at 80 Hz is fed sample by sample, generated
   lazily (a cheap synthetic visitor: step on, stretches with breaths and now and then a bounce,
   step off, pause, forever): the peak after the first hour and after the last must match
   (flat), or the detector leaks.

--quick: a short trace and a 1 h memory run, for CI (a few seconds).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware.detector import DetectorConfig, HoldDetector  # noqa: E402
from firmware.detector.glitch import GlitchFilter  # noqa: E402

BAR_US = 10.0


def simulated_trace(rate_hz: float, seconds: float) -> list[tuple[float, float]]:
    """A scripted routine from the simulated person (realistic event density), as (t, kg)."""
    from firmware.sensors.simulated import scenario

    person = scenario("good_routine", seed=7, rate_hz=rate_hz, body_kg=75.0, glitch_rate=0.0005)
    out: list[tuple[float, float]] = []
    while not out or out[-1][0] < seconds:
        offset = out[-1][0] + 1.0 / rate_hz if out else 0.0
        out.extend((offset + s.t, s.kg) for s in person.samples())
    return [p for p in out if p[0] < seconds]


def best_us(run: Callable[[], int], repeat: int) -> float:
    """Best wall time per processed sample over `repeat` runs, in µs."""
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        n = run()
        best = min(best, (time.perf_counter() - started) / max(1, n))
    return best * 1e6


def time_filter(trace: list[tuple[float, float]]) -> int:
    feed = GlitchFilter().feed
    for t, kg in trace:
        feed(t, kg)
    return len(trace)


def time_detector(trace: list[tuple[float, float]], glitches: bool) -> int:
    feed = HoldDetector(DetectorConfig(reject_glitches=glitches)).feed
    for t, kg in trace:
        feed(t, kg)
    return len(trace)


def visitor(rate_hz: float, hours: float, seed: int = 1) -> Iterator[tuple[float, float]]:
    """A cheap endless-ish visitor (no simulator: memory is the detector's, not the generator's)."""
    rng = random.Random(seed)
    dt, t, end = 1.0 / rate_hz, 0.0, hours * 3600.0
    body = 70.0

    def hold(level: float, seconds: float) -> Iterator[float]:
        n = int(seconds * rate_hz)
        for k in range(n):
            x = k * dt
            breath = 0.5 * (1 - math.cos(2 * math.pi * x / 7.0))
            yield level + 0.03 * body * breath + 0.01 * body * x / seconds

    def ramp(a: float, b: float, seconds: float) -> Iterator[float]:
        n = max(1, int(seconds * rate_hz))
        for k in range(n):
            yield a + (b - a) * 0.5 * (1 - math.cos(math.pi * k / n))

    def flat(level: float, seconds: float) -> Iterator[float]:
        for _ in range(int(seconds * rate_hz)):
            yield level

    while t < end:
        stand = body * rng.uniform(0.35, 0.5)
        parts = [flat(0.0, rng.uniform(5, 30)), ramp(0.0, stand, 0.6), flat(stand, 4.0)]
        for _ in range(rng.randint(2, 4)):
            top = body * rng.uniform(0.7, 0.9)
            parts += [ramp(stand, top, 2.0), hold(top, 33.0), ramp(top + 0.01 * body, stand, 2.0),
                      flat(stand, 5.0)]
        parts.append(ramp(stand, 0.0, 0.6))
        for part in parts:
            for kg in part:
                yield t, kg + rng.gauss(0.0, 0.05)
                t += dt
                if t >= end:
                    return


def memory_run(hours: float, rate_hz: float = 80.0) -> tuple[list[tuple[float, int]], int]:
    """Feed `hours` of samples; traced memory (current) at each simulated hour, and events."""
    tracemalloc.start()
    detector = HoldDetector()
    feed = detector.feed
    marks: list[tuple[float, int]] = []
    next_mark, events = 600.0, 0
    for t, kg in visitor(rate_hz, hours):
        if feed(t, kg):
            events += 1
        if t >= next_mark:
            marks.append((t / 3600.0, tracemalloc.get_traced_memory()[0]))
            next_mark += 3600.0 if t >= 3600.0 else 600.0
    detector.finish()
    marks.append((hours, tracemalloc.get_traced_memory()[1]))
    tracemalloc.stop()
    return marks, events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Detector speed (µs/sample) and 24 h memory.")
    parser.add_argument("--quick", action="store_true", help="short runs for CI (a few seconds)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per timing (best of N)")
    parser.add_argument("--hours", type=float, default=None, help="memory run length (default 24)")
    args = parser.parse_args(argv)
    repeat = args.repeat or (2 if args.quick else 5)
    seconds = 120.0 if args.quick else 600.0
    hours = args.hours or (0.25 if args.quick else 24.0)
    ok = True
    print(f"µs per sample (best of {repeat}, {seconds:g} s simulated routine, {sys.implementation.name} "
          f"{sys.version.split()[0]}):")
    for rate in (80.0, 10.0):
        trace = simulated_trace(rate, seconds)
        filt = best_us(lambda tr=trace: time_filter(tr), repeat)
        bare = best_us(lambda tr=trace: time_detector(tr, False), repeat)
        full = best_us(lambda tr=trace: time_detector(tr, True), repeat)
        verdict = "PASS" if full <= BAR_US else "FAIL"
        ok = ok and full <= BAR_US
        print(f"  {rate:4g} Hz ({len(trace)} samples): glitch filter {filt:5.2f}  "
              f"detector alone {bare:5.2f}  filter + detector {full:5.2f} µs  (bar {BAR_US:g}) {verdict}")
    started = time.perf_counter()
    marks, events = memory_run(hours)
    first = next((m for h, m in marks if h >= min(1.0, hours)), marks[0][1])
    last_current = marks[-2][1] if len(marks) > 1 else marks[-1][1]
    peak = marks[-1][1]
    flat = last_current <= first + 64 * 1024
    ok = ok and flat
    took = time.perf_counter() - started
    print(f"memory over {hours:g} h at 80 Hz ({events} event batches, {took:.0f} s): "
          f"traced {first / 1024:.0f} KiB after {min(1.0, hours):g} h, "
          f"{last_current / 1024:.0f} KiB at the end, peak {peak / 1024:.0f} KiB "
          f"-> {'flat PASS' if flat else 'GROWING FAIL'}")
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
