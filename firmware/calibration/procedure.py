"""Tare and calibrate by reading a raw chip directly: the CLI's way, with the service stopped."""

from __future__ import annotations

from pathlib import Path

from firmware.calibration.files import load_calibration, save_calibration
from firmware.calibration.model import Calibration, CalibrationError
from firmware.calibration.source import RawSource
from firmware.sensors.hx711.reading import NOT_READY


def collect_codes(raw: RawSource, seconds: float) -> list[int]:
    """Good codes over `seconds` of the reader's own time; CalibrationError if it never answers."""
    codes: list[int] = []
    start: float | None = None
    for reading in raw.readings():
        start = reading.t if start is None else start
        if reading.problem == NOT_READY:
            raise CalibrationError(f"the sensor did not answer: {reading.detail}")
        if reading.code is not None:
            codes.append(reading.code)
        if reading.t - start >= seconds:
            return codes
    return codes


def tare(raw: RawSource, data_dir: str | Path, seconds: float = 2.0, *, name: str = "hx711",
         force: bool = False) -> Calibration:
    """Read the empty step for `seconds`, set zero there, save; CalibrationError if not still."""
    current = load_calibration(data_dir, name)
    new = current.tared(collect_codes(raw, seconds), force=force)
    save_calibration(new, data_dir, name)
    return new


def calibrate(raw: RawSource, data_dir: str | Path, known_kg: float, seconds: float = 2.0, *,
              name: str = "hx711") -> Calibration:
    """Read the known weight on the tared step for `seconds`, set the scale, save."""
    current = load_calibration(data_dir, name)
    new = current.calibrated(collect_codes(raw, seconds), known_kg)
    save_calibration(new, data_dir, name)
    return new
