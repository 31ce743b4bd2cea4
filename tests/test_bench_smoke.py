"""Benchmarks are not tests, but a quick smoke run of each keeps them from rotting: each must
run to the end in its --quick mode and print its figures."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("script", "expect"), [
    ("accuracy.py", "F1"),
    ("independent.py", "independent generator"),
    ("speed.py", "µs"),
    ("hx711_read.py", "samples/s"),
    ("loop_load.py", "p99"),
    ("pulse_width.py", "EMULATED pins"),   # and no pass/fail on them: the bar is for a Pi
    ("live_latency.py", "p95"),
    ("event_delay.py", "breath"),
    ("breath_snr.py", "press/sway"),
    ("trace_memory.py", "peak RSS growth"),
    ("page_latency.py", "page weight"),
    ("mqtt_fleet.py", "0 lost at QoS 1 PASS"),
    ("export_size.py", "stretchstep import:"),
    ("recount.py", "0 counts differ from the detector's"),   # the replay is exact on unchanged code
])
def test_bench_quick_run_prints_figures(script, expect):
    if script == "mqtt_fleet.py":
        from test_mqtt_broker import need_mosquitto

        need_mosquitto()  # skipped without mosquitto outside CI; in CI a missing broker fails
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--quick"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert expect in result.stdout, result.stdout[-2000:]


def test_pulse_width_never_judges_emulated_pins_and_real_pins_off_a_pi_are_one_line():
    """The DESIGN bar is about a Pi's GPIO: on the emulator the bench says NOT JUDGED (never a
    PASS it did not measure); asked for real pins where there are none, one line and exit 2."""
    model = Path("/proc/device-tree/model")
    if model.exists() and "Raspberry Pi" in model.read_text(errors="replace"):
        pytest.skip("on a Raspberry Pi --pins real would really read the pins")
    import importlib.util

    spec = importlib.util.spec_from_file_location("pulse_width", ROOT / "bench" / "pulse_width.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    emulated = bench.argparse.Namespace(pins="emulated", data_bcm=5, clock_bcm=6)
    assert "NOT JUDGED" in bench.verdict(emulated, 1.0) and "PASS" not in bench.verdict(emulated, 1.0)
    real = bench.argparse.Namespace(pins="real", data_bcm=5, clock_bcm=6)
    assert bench.verdict(real, 0.5).endswith("FAIL") and bench.verdict(real, 0.9995).endswith("PASS")
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "pulse_width.py"), "--pins", "real"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stdout == ""
    said = [line for line in result.stderr.splitlines() if line.startswith("pulse_width: ")]
    assert len(said) == 1 and said[0].startswith("pulse_width: cannot read the HX711 on real pins: ")


def test_accuracy_over_several_corpora_names_a_missing_one_and_builds_nothing(tmp_path, capsys):
    """One --corpus folder without its part is built (seed 0); of several, each is a seed's own,
    so a missing one is named, with how to build it, and nothing is written."""
    from bench.accuracy import main

    assert main(["--corpus", str(tmp_path / "a"), "--corpus", str(tmp_path / "b"), "--part", "tune"]) == 2
    err = capsys.readouterr().err
    assert "no tune part in" in err and "bench/corpus.py" in err
    assert not any(tmp_path.iterdir())
