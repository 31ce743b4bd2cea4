"""The kernel IIO HX711 source against a fake sysfs tree."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from firmware.calibration import CalibratedSource, Calibration
from firmware.sensors.hx711 import NOT_READY, SensorFault
from firmware.sensors.hx711.chip import VirtualClock
from firmware.sensors.hx711.iio import IIOHX711Reader, find_hx711_device

SCALES = "0.000015040 0.000030080 \n"   # gain 128, gain 64 at AVDD 3.3 V (mV per count)


def fake_sysfs(root: Path, raw: str = "8388608\n", raw_b: str = "8388608\n") -> Path:
    other = root / "iio:device0"
    other.mkdir(parents=True)
    (other / "name").write_text("ads1015\n")
    device = root / "iio:device1"
    device.mkdir()
    (device / "name").write_text("hx711\n")
    (device / "in_voltage0_raw").write_text(raw)
    (device / "in_voltage1_raw").write_text(raw_b)
    (device / "in_voltage0_scale_available").write_text(SCALES)
    (device / "in_voltage1_scale_available").write_text("0.000060161 \n")
    (device / "in_voltage_scale").write_text("0.000015040\n")
    return device


def test_finds_the_hx711_among_other_iio_devices(tmp_path: Path) -> None:
    device = fake_sysfs(tmp_path)
    assert find_hx711_device(tmp_path) == device
    (device / "name").write_text("bme280\n")
    with pytest.raises(SensorFault, match="no IIO device named hx711.*ads1015.*bme280.*overlay"):
        find_hx711_device(tmp_path)


@pytest.mark.parametrize(("raw", "code"), [("8388608", 0), ("8388609", 1), ("8388607", -1),
                                           ("0", -0x800000), ("16777215", 0x7FFFFF)])
def test_offset_binary_becomes_signed_codes(tmp_path: Path, raw: str, code: int) -> None:
    fake_sysfs(tmp_path, raw=raw + "\n")
    reader = IIOHX711Reader(root=tmp_path, clock=VirtualClock())
    assert reader.read().code == code


@pytest.mark.parametrize(("gain", "scale"), [(128, "0.000015040"), (64, "0.000030080")])
def test_gain_is_chosen_through_the_scale(tmp_path: Path, gain: int, scale: str) -> None:
    device = fake_sysfs(tmp_path)
    IIOHX711Reader(root=tmp_path, gain=gain, clock=VirtualClock())
    assert (device / "in_voltage_scale").read_text() == scale


def test_gain_32_reads_channel_b(tmp_path: Path) -> None:
    fake_sysfs(tmp_path, raw_b="8389608\n")
    assert IIOHX711Reader(root=tmp_path, gain=32, clock=VirtualClock()).read().code == 1000


def test_reads_are_paced_at_the_chip_rate(tmp_path: Path) -> None:
    fake_sysfs(tmp_path)
    reader = IIOHX711Reader(root=tmp_path, rate_hz=10, clock=VirtualClock())
    times = [r.t for r, _ in zip(reader.readings(), range(21), strict=False)]
    assert (len(times) - 1) / (times[-1] - times[0]) == pytest.approx(10.0)


def test_a_failed_read_is_not_ready_and_an_unplugged_fault(tmp_path: Path) -> None:
    device = fake_sysfs(tmp_path)
    clock = VirtualClock()
    reader = IIOHX711Reader(root=tmp_path, clock=clock)
    assert reader.read().code == 0
    (device / "in_voltage0_raw").unlink()
    (device / "in_voltage0_raw").mkdir()          # reading it now raises an OSError, like EIO
    failed = reader.read()
    assert failed.problem == NOT_READY and "in_voltage0_raw" in failed.detail
    (device / "in_voltage0_raw").rmdir()
    (device / "in_voltage0_raw").write_text("garbage\n")
    assert reader.read().problem == NOT_READY


def test_plugs_into_calibration_and_faults(tmp_path: Path) -> None:
    device = fake_sysfs(tmp_path, raw=str(0x800000 + 21_000 * 3) + "\n")
    reader = IIOHX711Reader(root=tmp_path, clock=VirtualClock())
    source = CalibratedSource(reader, Calibration(offset=0, scale=21_000), drift=False)
    it = source.samples()
    assert next(it).kg == pytest.approx(3.0)
    (device / "in_voltage0_raw").unlink()
    bad = next(it)
    assert bad.fault == "unplugged" and math.isnan(bad.kg)


def test_bad_rate_or_gain_refused(tmp_path: Path) -> None:
    fake_sysfs(tmp_path)
    with pytest.raises(ValueError, match="10 or 80"):
        IIOHX711Reader(root=tmp_path, rate_hz=20)
    with pytest.raises(ValueError, match="128 or 64"):
        IIOHX711Reader(root=tmp_path, gain=16)
