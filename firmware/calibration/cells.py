"""The real cells, calibrated: `--source hx711` (one or two chips) and `--source hx711-iio`.

Each opens raw readers from `firmware.sensors.hx711` and wraps them in a `CalibratedSource`
with the calibration saved in the data dir ("hx711" for cell 1, "hx711-2" for cell 2).
"""

from __future__ import annotations

from typing import Any

from firmware.calibration.files import load_calibration
from firmware.calibration.source import CalibratedSource
from firmware.sensors.hx711.pair import PairedSource

FIRST_CELL = "hx711"
SECOND_CELL = "hx711-2"


def open_hx711_source(config: Any) -> CalibratedSource:
    """`--source hx711`: the real chip, calibrated from the data dir, with fault detection."""
    from firmware.sensors.hx711.driver import open_hx711_reader

    sensor = config.sensor
    reader = open_hx711_reader(sensor.data_pin, sensor.clock_pin, rate_hz=sensor.rate_hz,
                               gain=sensor.gain, ready_timeout_s=sensor.ready_timeout_s)
    return CalibratedSource(reader, load_calibration(config.data_dir(), FIRST_CELL))


def open_pair_source(config: Any) -> PairedSource:
    """`--source hx711` with [sensor2] pins set: both real cells, each with its own calibration."""
    from firmware.sensors.hx711.driver import open_hx711_reader

    s, s2 = config.sensor, config.sensor2
    readers = [open_hx711_reader(s.data_pin, s.clock_pin, rate_hz=s.rate_hz, gain=s.gain,
                                 ready_timeout_s=s.ready_timeout_s)]
    try:
        readers.append(open_hx711_reader(s2.data_pin, s2.clock_pin, rate_hz=s.rate_hz, gain=s.gain,
                                         ready_timeout_s=s.ready_timeout_s))
    except Exception:
        readers[0].close()      # the first chip's pins are released when the second cannot open
        raise
    left, right = (CalibratedSource(r, load_calibration(config.data_dir(), name), name=name)
                   for r, name in zip(readers, (FIRST_CELL, SECOND_CELL), strict=True))
    return PairedSource(left, right)


def open_iio_source(config: Any) -> CalibratedSource:
    """`--source hx711-iio`: the kernel driver through sysfs, calibrated like the user-space reader."""
    from firmware.sensors.hx711.iio import IIOHX711Reader

    reader = IIOHX711Reader(rate_hz=config.sensor.rate_hz, gain=config.sensor.gain)
    return CalibratedSource(reader, load_calibration(config.data_dir(), FIRST_CELL))


def cell_names(config: Any) -> list[str]:
    """The calibration files the configured source reads (none for simulated or replayed input)."""
    source = config.sensor.source
    if source == "hx711":
        paired = config.sensor2.data_pin and config.sensor2.clock_pin
        return [FIRST_CELL, SECOND_CELL] if paired else [FIRST_CELL]
    if source == "hx711-iio":
        return [FIRST_CELL]
    return []


def uncalibrated_warning(config: Any) -> str | None:
    """What `run` and `doctor` say while a real cell has no saved known-weight calibration."""
    missing = []
    for name in cell_names(config):
        try:
            if not load_calibration(config.data_dir(), name).calibrated_at:
                missing.append(name)
        except ValueError as exc:          # a corrupt file: say so rather than crash
            return f"calibration unreadable: {exc}"
    if not missing:
        return None
    return (f"WARNING: the step is not calibrated ({', '.join(missing)} in {config.data_dir()}): readings "
            "use a default scale until you run `stretchstep tare` and `stretchstep calibrate --known-kg KG`")
