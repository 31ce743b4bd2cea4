"""HX711 through the real adafruit driver and the pin-level emulator: rate and CPU per read.

    python bench/hx711_read.py [--quick] [--json]

Measures, on the emulator's virtual clock (nothing sleeps):
- achieved sample rate from reading timestamps, at 80 and 10 SPS, against the chip's rate;
- CPU per read (process time): the adapter + the unmodified driver's bit-banging (27 pin
  writes/reads, delay calls) + the emulator answering every pin access. The emulator's own share
  is included, so on real pins the Python side costs about the same, plus Blinka's GPIO calls;
- CPU per sample of the whole chain (reader + fault monitor + glitch filter + calibration),
  fed a constant load so the simulated person's cost is not counted;
- how reads survive injected preemption (PD_SCK held high 200 us on 1 read in 50).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware.calibration.emulated import EmulatedHX711Source
from firmware.sensors.hx711.emulated import emulated_pair  # noqa: E402


def bench_reader(rate: int, reads: int, preempt_every: int = 0) -> dict[str, float]:
    preempt = range(preempt_every, reads * 2, preempt_every) if preempt_every else ()
    chip, reader = emulated_pair(lambda t, pulses: 123_456, rate_hz=rate, preempt_reads=preempt)
    reader.read_code()                           # past the warm-up reads
    got = []
    cpu0 = time.process_time()
    for _ in range(reads):
        got.append(reader.read())
    cpu = time.process_time() - cpu0
    good = [r for r in got if r.code is not None]
    span = got[-1].t - got[0].t
    return {
        "rate_hz": rate,
        "reads": reads,
        "achieved_hz": (len(got) - 1) / span,
        "good_hz": len(good) / span,
        "cpu_us_per_read": cpu / reads * 1e6,
        "garbage_passed": sum(1 for r in good if r.code != 123_456),
        "preempted": reader.counts["preempted"],
        "power_downs": chip.power_downs,
    }


def bench_chain(rate: int, samples: int) -> dict[str, float]:
    source = EmulatedHX711Source(lambda t: 42.0, rate_hz=rate)
    it = source.samples()
    next(it)
    cpu0 = time.process_time()
    last = None
    for _ in range(samples):
        last = next(it)
    cpu = time.process_time() - cpu0
    return {"rate_hz": rate, "samples": samples, "cpu_us_per_sample": cpu / samples * 1e6,
            "kg": round(last.kg, 3) if last else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer reads (CI smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    n = 400 if args.quick else 8000
    result = {
        "reader": [bench_reader(80, n), bench_reader(10, n // 4)],
        "preempted_1_in_50": bench_reader(80, n, preempt_every=50),
        "chain": [bench_chain(80, n), bench_chain(10, n // 4)],
    }
    if args.json:
        print(json.dumps(result))
        return 0
    for r in result["reader"]:
        print(f"reader {r['rate_hz']:>2} SPS: achieved {r['achieved_hz']:.3f} samples/s "
              f"over {r['reads']} reads, CPU {r['cpu_us_per_read']:.0f} us per read "
              "(driver + adapter + emulator)")
    p = result["preempted_1_in_50"]
    print(f"preempted 1 read in 50: {p['preempted']} discarded, {p['power_downs']} chip resets, "
          f"good samples {p['good_hz']:.1f}/s, garbage passed on: {p['garbage_passed']}")
    for c in result["chain"]:
        print(f"whole chain {c['rate_hz']:>2} SPS: CPU {c['cpu_us_per_sample']:.0f} us per sample "
              f"(reader + faults + glitch filter + calibration), reads {c['kg']} kg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
