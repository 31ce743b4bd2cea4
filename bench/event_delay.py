"""How late does each event leave the detector, after the moment it describes?

    python bench/event_delay.py [--quick] [--seeds N]

Events are dated when things happened (a breath at its press peak, a stretch at the start of
its ramp), but the detector can only say so once it has seen enough: a press is a press once
the let-off has begun, a release once the fall settles. The delay is the time of the sample
that produced the event minus the event's own time (a breath's `peak_t`), over simulated
routines at 10 and 80 Hz. This is what a phone's live view lags behind the step, before the
network (bench/live_latency.py measures that part). `hold_complete`, the buzzer's cue, is
dated by the sample it fires on (the first at or after the target), so its delay reads 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware.detector import DetectorConfig, HoldDetector  # noqa: E402
from firmware.sensors.simulated import scenario  # noqa: E402

KINDS = ("stretch_start", "hold_start", "breath", "hold_complete", "bounce", "stretch_end")


def delays(rate_hz: float, seeds: int) -> dict[str, list[float]]:
    """Per event kind, the delays over `seeds` simulated people (good routines and mixed visits)."""
    out: dict[str, list[float]] = defaultdict(list)
    for seed in range(seeds):
        for name in ("good_routine", "mixed"):
            person = scenario(name, seed=seed, rate_hz=rate_hz)
            detector = HoldDetector(DetectorConfig(rate_hz=rate_hz))
            for sample in person.samples():
                for event in detector.feed(sample.t, sample.kg):
                    when = event.data.get("peak_t", event.t)
                    out[event.kind].append(sample.t - when)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Detector event delays on simulated routines.")
    parser.add_argument("--seeds", type=int, default=8, help="simulated people per scenario and rate")
    parser.add_argument("--quick", action="store_true", help="2 people per scenario and rate (CI smoke)")
    args = parser.parse_args(argv)
    seeds = 2 if args.quick else args.seeds
    if seeds < 1:
        parser.error("--seeds must be at least 1")
    print(f"event delay after the moment it describes (s), {seeds} people x good_routine + mixed:")
    print(f"  {'rate':>5} {'event':14} {'count':>5} {'median':>7} {'p90':>7} {'max':>7}")
    for rate in (10.0, 80.0):
        found = delays(rate, seeds)
        for kind in KINDS:
            values = sorted(found.get(kind, []))
            if not values:
                continue
            p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
            print(f"  {rate:4g}Hz {kind:14} {len(values):5d} {statistics.median(values):7.2f} {p90:7.2f} "
                  f"{values[-1]:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
