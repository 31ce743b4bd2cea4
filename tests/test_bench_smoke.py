"""Benchmarks are not tests, but a quick smoke run of each keeps them from rotting: each must
run to the end in its --quick mode and print its figures."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("script", "expect"), [
    ("accuracy.py", "F1"),
    ("speed.py", "µs"),
    ("hx711_read.py", "samples/s"),
    ("loop_load.py", "p99"),
    ("pulse_width.py", "p99.9"),
    ("live_latency.py", "p95"),
    ("event_delay.py", "breath"),
    ("breath_snr.py", "press/sway"),
    ("trace_memory.py", "peak RSS growth"),
    ("page_latency.py", "page weight"),
    ("mqtt_fleet.py", "0 lost at QoS 1 PASS"),
])
def test_bench_quick_run_prints_figures(script, expect):
    if script == "mqtt_fleet.py":
        from test_mqtt_broker import need_mosquitto

        need_mosquitto()  # skipped without mosquitto outside CI; in CI a missing broker fails
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--quick"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert expect in result.stdout, result.stdout[-2000:]
