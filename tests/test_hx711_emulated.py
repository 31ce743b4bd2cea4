"""The whole chain with no hardware: person -> emulated chip -> real driver -> calibration."""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner

from firmware.calibration import Calibration, save_calibration
from firmware.calibration.emulated import EmulatedHX711Source, open_emulated_source
from firmware.cli import main
from firmware.config import DEFAULTS
from firmware.sensors import simulated
from firmware.sensors.base import SampleSource
from firmware.sensors.trace import read_trace

QUANTUM_KG = 1 / 21_000


def wave(t: float) -> float:
    return 30.0 + 10.0 * math.sin(t)


@pytest.mark.parametrize("rate", [80, 10])
def test_timestamps_follow_the_chip_rate(rate: int) -> None:
    source = EmulatedHX711Source(wave, rate_hz=rate, noise_counts=0)
    assert isinstance(source, SampleSource) and source.live is False and source.rate_hz == rate
    samples = []
    for s in source.samples():
        samples.append(s)
        if len(samples) == 20 * rate:
            break
    assert all(s.ok for s in samples)
    gaps = [b.t - a.t for a, b in zip(samples, samples[1:], strict=False)]
    assert (len(samples) - 1) / (samples[-1].t - samples[0].t) == pytest.approx(rate, rel=1e-6)
    assert max(gaps) == pytest.approx(1 / rate, abs=1 / rate / 20)
    assert all(abs(s.kg - wave(s.t)) < 10 / rate * 1.01 for s in samples)   # at most one period old
    source.close()


@pytest.mark.parametrize("gain", [128, 64, 32])
def test_each_gain_reads_the_load_in_kg(gain: int) -> None:
    source = EmulatedHX711Source(lambda t: 12.5, gain=gain, noise_counts=0)
    it = source.samples()
    values = {round(next(it).kg, 3) for _ in range(40)}
    assert values == {12.5}


def test_same_signal_as_the_simulated_person_directly() -> None:
    """Each sample is the person's sample at the conversion time, to within one count."""
    direct = list(simulated.scenario("good_routine", seed=3, rate_hz=10.0, reps=1).samples())
    person = simulated.scenario("good_routine", seed=3, rate_hz=10.0, reps=1)
    emulated = list(EmulatedHX711Source(person, rate_hz=10, noise_counts=0, drift=False).samples())
    assert len(emulated) >= 0.99 * len(direct)
    j = 0
    for s in emulated:
        while j + 1 < len(direct) and direct[j + 1].t <= s.t:
            j += 1
        assert s.fault is None
        assert abs(s.kg - direct[j].kg) <= QUANTUM_KG
        assert 0 <= s.t - direct[j].t < 0.1
    stretches = person.truth["stretches"]
    peak = max(s.kg for s in emulated)
    assert peak == pytest.approx(max(st["peak_kg"] for st in stretches), abs=0.5)


def test_preempted_reads_never_reach_the_samples() -> None:
    source = EmulatedHX711Source(wave, noise_counts=0, preempt_reads=range(50, 2000, 97))
    samples = []
    for s in source.samples():
        samples.append(s)
        if s.t > 15:
            break
    assert source.chip.power_downs >= 10 and source.reader.counts["preempted"] >= 10
    assert all(s.fault is None and abs(s.kg - wave(s.t)) < 0.2 for s in samples)


def test_a_finite_person_ends_the_source() -> None:
    person = simulated.scenario("step_on_off", seed=1, rate_hz=10.0, visits=1)
    samples = list(EmulatedHX711Source(person, rate_hz=10).samples())
    assert samples[-1].t == pytest.approx(person.duration_s, abs=0.3)


def test_open_emulated_source_uses_config_and_the_saved_calibration(tmp_path) -> None:
    cfg = DEFAULTS.with_values("store", data_dir=str(tmp_path)).with_values("sensor", rate_hz=10)
    source = open_emulated_source(cfg)
    assert source.rate_hz == 10 and source.calibration == source.truth
    source.close()
    save_calibration(Calibration(offset=85_000, scale=42_000, date="2026-01-01"), tmp_path, "hx711-emulated")
    halved = open_emulated_source(cfg)
    assert halved.calibration.scale == 42_000
    halved.close()


@pytest.mark.parametrize("rate", [80, 10])
def test_record_writes_a_trace_at_the_configured_rate(tmp_path, rate: int) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[sensor]\nrate_hz = {rate}\n[store]\ndata_dir = '{tmp_path}'\n")
    out = tmp_path / "emu.csv"
    done = CliRunner().invoke(main, ["record", "--source", "hx711-emulated", "--seconds", "10",
                                     "--config", str(config), str(out)])
    assert done.exit_code == 0, done.output
    trace = read_trace(out)
    assert trace.rate_hz == rate
    samples = trace.samples
    # A fast step-on may lose a sample or two to glitch rejection (firmware.detector.glitch.GlitchFilter
    # drops the first sample of every jump); every sample sits on the chip's conversion grid.
    assert 0.95 * 10 * rate <= len(samples) <= 10 * rate
    assert samples[-1].t - samples[0].t == pytest.approx(10.0, abs=1.5 / rate)
    for a, b in zip(samples, samples[1:], strict=False):
        periods = (b.t - a.t) * rate
        assert periods == pytest.approx(round(periods), abs=0.01) and round(periods) >= 1


@pytest.mark.parametrize(("name", "kw"), [("good_routine", {"reps": 1}), ("bouncy", {"holds": 3})])
def test_same_stretches_through_the_real_driver_as_from_the_person_directly(name: str, kw: dict) -> None:
    from firmware.analysis import analyze_samples

    def person():
        return simulated.scenario(name, seed=5, rate_hz=10.0, **kw)

    direct = analyze_samples(person().samples(), rate_hz=10)
    through_chip = analyze_samples(EmulatedHX711Source(person(), rate_hz=10).samples(), rate_hz=10)
    assert len(direct["stretches"]) >= 2
    assert len(through_chip["stretches"]) == len(direct["stretches"])
    for a, b in zip(direct["stretches"], through_chip["stretches"], strict=True):
        assert (a["breaths"], a["bounces"], a["completed"]) == (b["breaths"], b["bounces"], b["completed"])
        for key in ("start", "hold_start", "end"):
            assert b[key] == pytest.approx(a[key], abs=0.25)
    assert len(through_chip["bounces"]) == len(direct["bounces"])
    assert name != "bouncy" or direct["bounces"]


# --- sensor faults through the whole device -----------------------------------------------------

def device_events(source: EmulatedHX711Source, until_t: float, actions: list) -> tuple[list, list]:
    """Run the device loop's per-sample step over the source, doing `actions` [(t, fn)] on the way."""
    from firmware.detector import HoldDetector
    from firmware.device import Device

    device = Device(source, HoldDetector())
    events, samples = [], []
    pending = sorted(actions, key=lambda a: a[0])
    for sample in source.samples():
        while pending and sample.t >= pending[0][0]:
            pending.pop(0)[1]()
        samples.append(sample)
        events += [e for e in device.process(sample) if e.kind in ("sensor_fault", "sensor_ok")]
        if sample.t > until_t:
            break
    return [(e.kind, e.data.get("reason", e.data.get("after")), round(e.t, 1)) for e in events], samples


def swaying(t: float) -> float:
    return 20.0 + 0.5 * math.sin(t)


def test_unplugged_then_plugged_back_in() -> None:
    source = EmulatedHX711Source(swaying)

    def unplug(flag: bool):
        return lambda: setattr(source.chip, "disconnected", flag)

    events, samples = device_events(source, 12.0, [(5.0, unplug(True)), (8.0, unplug(False))])
    assert [e[:2] for e in events] == [("sensor_fault", "unplugged"), ("sensor_ok", "unplugged")]
    assert 5.0 <= events[0][2] <= 5.6 and 8.0 <= events[1][2] <= 9.2
    assert all(abs(s.kg - swaying(s.t)) < 0.05 for s in samples if s.ok)


def test_isolated_bit_errors_are_dropped_a_burst_is_spiking() -> None:
    source = EmulatedHX711Source(swaying)
    source.chip.bit_errors = {200: 1 << 22, 500: 1 << 20}
    source.chip.bit_errors.update({n: 1 << 21 for n in range(800, 880, 12)})   # 7 in one second
    events, samples = device_events(source, 15.0, [])
    assert [e[:2] for e in events] == [("sensor_fault", "spiking"), ("sensor_ok", "spiking")]
    assert all(abs(s.kg - swaying(s.t)) < 0.05 for s in samples if s.ok)


def test_overload_saturates_and_recovers() -> None:
    def load(t: float) -> float:
        return 450.0 if 4.0 <= t < 5.0 else swaying(t)   # beyond the emulated cell's range

    events, samples = device_events(EmulatedHX711Source(load), 8.0, [])
    assert [e[:2] for e in events] == [("sensor_fault", "saturated"), ("sensor_ok", "saturated")]
    assert max(s.kg for s in samples if s.ok) < 21


def test_a_frozen_code_is_stuck() -> None:
    def load(t: float) -> float:
        return 20.0 if 3.0 <= t < 9.0 else swaying(t)

    events, _ = device_events(EmulatedHX711Source(load, noise_counts=0), 12.0, [])
    assert events == [("sensor_fault", "stuck", 6.0), ("sensor_ok", "stuck", 9.5)]
