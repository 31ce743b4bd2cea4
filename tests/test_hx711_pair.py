"""Optional second cell: left + right halves of the edge, total for the detector, split for the leg."""

from __future__ import annotations

import math

import pytest

import firmware.service.sampler  # noqa: F401  (the loop's module, patched below)
from firmware import service
from firmware.calibration import already_filtered
from firmware.calibration.emulated import emulated_pair_source
from firmware.config import Config
from firmware.control import DeviceControl
from firmware.detector import HoldDetector
from firmware.sensors import simulated
from firmware.sensors.hx711.pair import PairedSource, leg_of
from firmware.service import LoopRunner
from firmware.sources import open_source


@pytest.mark.parametrize(("left", "right", "leg"), [(10, 40, "right"), (40, 10, "left"), (25, 25, None),
                                                    (1, 2, None), (math.nan, 3, None), (0, 30, "right")])
def test_leg_from_the_load_split(left: float, right: float, leg: str | None) -> None:
    assert leg_of(left, right) == leg


def test_total_and_split_through_two_emulated_chips() -> None:
    pair = emulated_pair_source(lambda t: 40.0, lambda t: 0.75, noise_counts=0)
    it = pair.samples()
    samples = [next(it) for _ in range(160)]
    assert all(s.ok and s.kg == pytest.approx(40.0, abs=1e-3) for s in samples)
    assert (pair.left_kg, pair.right_kg) == (pytest.approx(10.0, abs=1e-3), pytest.approx(30.0, abs=1e-3))
    assert pair.leg == "right"
    assert (len(samples) - 1) / (samples[-1].t - samples[0].t) == pytest.approx(80.0, rel=5e-3)


def test_the_stretching_leg_is_told_from_the_split() -> None:
    person = simulated.scenario("good_routine", seed=3, rate_hz=10.0, reps=1)
    holds = [(s["hold_start"], s["end"] - 4.0, s["leg"]) for s in person.truth["stretches"]]
    assert {leg for *_, leg in holds} == {"left", "right"}

    def right_share(t: float) -> float:
        for start, end, leg in holds:
            if start <= t <= end:
                return 0.85 if leg == "right" else 0.15
        return 0.5

    pair = emulated_pair_source(person, right_share, rate_hz=10)
    seen: dict[int, set] = {i: set() for i in range(len(holds))}
    standing: set = set()
    for sample in pair.samples():
        assert sample.ok
        for i, (start, end, _) in enumerate(holds):
            if start + 1.0 <= sample.t <= end - 1.0:
                seen[i].add(pair.leg)
        if 3.0 < holds[0][0] - sample.t < 6.0:
            standing.add(pair.leg)
    assert [seen[i] for i in range(len(holds))] == [{leg} for *_, leg in holds]
    assert standing == {None}


def test_a_fault_on_either_cell_is_a_fault_of_the_step() -> None:
    pair = emulated_pair_source(lambda t: 30.0 + math.sin(t), lambda t: 0.5)
    right_chip = pair.right.raw
    samples = []
    for s in pair.samples():
        if 3.0 <= s.t < 3.1:
            right_chip._data_pin._chip.disconnected = True
        if 5.0 <= s.t < 5.1:
            right_chip._data_pin._chip.disconnected = False
        samples.append((s, pair.fault_cell))
        if s.t > 8.0:
            break
    faults = [(s.fault, cell) for s, cell in samples if s.fault]
    assert faults and set(faults) == {("unplugged", "right")}
    assert samples[-1][0].ok and samples[-1][1] is None


def test_both_cells_must_share_a_rate() -> None:
    a = emulated_pair_source(lambda t: 1.0, lambda t: 0.5, rate_hz=80).left
    b = emulated_pair_source(lambda t: 1.0, lambda t: 0.5, rate_hz=10).left
    with pytest.raises(ValueError, match="same rate"):
        PairedSource(a, b)


def test_a_pair_of_calibrated_cells_is_already_glitch_filtered_and_a_simulation_is_not() -> None:
    assert already_filtered(emulated_pair_source(lambda t: 1.0, lambda t: 0.5))
    assert not already_filtered(simulated.forever_person(seed=1))
    assert not already_filtered(object())


def _detector_built_by_the_service_loop(source_name: str, monkeypatch: pytest.MonkeyPatch,
                                        source: object | None = None) -> HoldDetector:
    """Run the service's own LoopRunner for one sample on `source` (or what the name opens)."""
    cfg = Config().with_values("sensor", source=source_name)
    runner = LoopRunner(cfg, routine=None, writer=None, live=None, session_id=0)

    def open_then_stop(spec: str, config: Config) -> object:
        runner.stop.set()               # the loop processes its first sample, then ends
        return source if source is not None else open_source(spec, config)

    monkeypatch.setattr(service.sampler, "open_source", open_then_stop)
    runner.thread.start()
    runner.thread.join(timeout=30)
    assert not runner.thread.is_alive() and runner.crashes == 0 and runner.device is not None
    assert runner.device.stats.samples == 1
    return runner.device.detector


def test_the_service_loop_filters_glitches_once_for_a_pair_and_in_the_detector_for_a_simulation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pair = emulated_pair_source(lambda t: 30.0, lambda t: 0.5)
    paired = _detector_built_by_the_service_loop("hx711-emulated", monkeypatch, pair)
    assert paired.config.reject_glitches is False
    simulated_one = _detector_built_by_the_service_loop("simulated", monkeypatch)
    assert simulated_one.config.reject_glitches is True


def test_web_tare_zeroes_both_cells_and_calibrate_names_the_one_cell_at_a_time_command(tmp_path) -> None:
    from types import SimpleNamespace

    from firmware.calibration import Calibration, CalibrationError

    pair = emulated_pair_source(lambda t: 0.0, lambda t: 0.5, noise_counts=5)  # an empty step
    for cell in (pair.left, pair.right):  # both zeros off, as after the step was moved
        cal = cell.calibration
        cell.set_calibration(Calibration(offset=cal.offset - 0.5 * cal.scale, scale=cal.scale))
    samples = pair.samples()
    before = [next(samples) for _ in range(240)][-1]
    assert before.kg == pytest.approx(1.0, abs=0.05)  # 0.5 kg too much on each cell
    cfg = Config().with_values("sensor", source="hx711-emulated").with_values("store", data_dir=str(tmp_path))
    device = SimpleNamespace(source=pair, detector=SimpleNamespace(state="empty"))  # the step is empty
    control = DeviceControl(cfg.sensor.source, cfg.data_dir(), lambda: device)

    result = control.tare()

    assert result["ok"] and len(result["paths"]) == 2
    assert {p.split("/")[-1] for p in result["paths"]} == {"calibration-emulated-left.json",
                                                           "calibration-emulated-right.json"}
    assert abs(next(samples).kg) < 0.02
    assert len(control.status()["cells"]) == 2
    with pytest.raises(CalibrationError, match="--cell 1"):
        control.calibrate(20.0)
