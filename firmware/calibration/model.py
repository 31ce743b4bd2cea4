"""The calibration maths: raw HX711 codes -> kg, and how a tare or known weight sets them.

A `Calibration` is (offset, scale, date): kg = (code - offset) / scale, scale in counts per kg
(its sign absorbs how the cell is wired). Tare and calibration are accepted only from a still
signal - a tare taken while someone stands on the step would make every later reading wrong by
their weight - and never from saturated codes (a chip at the end of its range says nothing
about the load); the error says what was seen and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from firmware.sensors.hx711.reading import SATURATED_HIGH, SATURATED_LOW

DEFAULT_COUNTS_PER_KG = 21_000.0   # a 200 kg, 2 mV/V cell at gain 128 and 3.3 V: only until calibrated
STILL_KG = 0.8                     # allowed 5th-95th percentile spread of a tare / calibration
MIN_READINGS = 8
TARE_SHIFT_KG = 10.0               # a tare moving zero more than this needs force=True


class CalibrationError(ValueError):
    """A tare or calibration that was refused, or a calibration file that cannot be read."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _codes(readings: Iterable[Any]) -> list[float]:
    """Codes from ints or RawReadings (readings without a code are skipped)."""
    out = []
    for r in readings:
        code = getattr(r, "code", r)
        if code is not None:
            out.append(float(code))
    return out


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))]


def spread_counts(codes: list[float]) -> float:
    """The 5th-95th percentile range: how much the load moved, ignoring a few wild codes."""
    ordered = sorted(codes)
    return _percentile(ordered, 0.95) - _percentile(ordered, 0.05)


def robust_mean(codes: list[float]) -> float:
    """Mean of the middle 90 %, so a glitch does not move the zero."""
    ordered = sorted(codes)
    cut = len(ordered) // 20
    middle = ordered[cut:len(ordered) - cut] or ordered
    return sum(middle) / len(middle)


@dataclass(frozen=True)
class Calibration:
    """kg = (code - offset) / scale. `date` is the last change; `calibrated_at` the last scale."""

    offset: float = 0.0
    scale: float = DEFAULT_COUNTS_PER_KG
    date: str = ""
    calibrated_at: str = ""
    known_kg: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.offset):
            raise CalibrationError(f"calibration offset must be a finite number, not {self.offset!r}")
        if not math.isfinite(self.scale) or self.scale == 0:
            raise CalibrationError(f"calibration scale must be a non-zero number of counts per kg, "
                                   f"not {self.scale!r}")

    @property
    def is_default(self) -> bool:
        return not self.date

    def kg(self, code: float) -> float:
        return (code - self.offset) / self.scale

    def describe(self) -> str:
        if self.is_default:
            return "not calibrated (default scale): run `stretchstep tare` and `stretchstep calibrate`"
        scale = (f"scale {self.scale:.1f} counts/kg from {self.known_kg:g} kg on {self.calibrated_at}"
                 if self.calibrated_at else "scale not calibrated yet (default)")
        return f"zero {self.offset:.0f} counts, {scale}; last change {self.date}"

    @staticmethod
    def _usable(codes: list[float], what: str) -> None:
        """Enough readings, none saturated: else a CalibrationError saying what to check."""
        saturated = sum(1 for c in codes if c in (SATURATED_HIGH, SATURATED_LOW))
        if saturated:
            raise CalibrationError(
                f"{saturated} of {len(codes)} readings for the {what} were saturated (the chip at the "
                "end of its range says nothing about the load): check the cell's four wires and the "
                "gain, then try again")
        if len(codes) < MIN_READINGS:
            raise CalibrationError(f"only {len(codes)} readings for the {what}; need at least "
                                   f"{MIN_READINGS}: is the sensor answering?")

    def _still(self, codes: list[float], scale: float, what: str, still_kg: float) -> None:
        self._usable(codes, what)
        spread_kg = spread_counts(codes) / abs(scale)
        if spread_kg > still_kg:
            advice = ("step off and keep the step clear" if what == "tare"
                      else "let the weight rest still on the step edge and do not touch it")
            raise CalibrationError(
                f"the load was not still during the {what}: it moved {spread_kg:.2f} kg "
                f"(5th to 95th percentile of {len(codes)} readings); the limit is {still_kg:g} kg. "
                f"{advice[0].upper()}{advice[1:]}, then try again.")

    def tared(self, readings: Iterable[Any], *, still_kg: float = STILL_KG, force: bool = False,
              max_shift_kg: float = TARE_SHIFT_KG) -> Calibration:
        """A copy with zero at these readings (raw codes) of the empty step, if they are still.

        Once calibrated, a tare that would move zero by more than `max_shift_kg` is refused
        unless forced: that is someone (or something) on the step, not drift.
        """
        codes = _codes(readings)
        self._still(codes, self.scale, "tare", still_kg)
        offset = robust_mean(codes)
        shift_kg = (offset - self.offset) / self.scale
        if not force and not self.is_default and abs(shift_kg) > max_shift_kg:
            raise CalibrationError(
                f"the step reads {shift_kg:+.1f} kg: a tare would move zero by more than "
                f"{max_shift_kg:g} kg. Clear the step and try again (or force it if the step was rebuilt).")
        return replace(self, offset=offset, date=_now())

    def calibrated(self, readings: Iterable[Any], known_kg: float, *, still_kg: float = STILL_KG,
                   min_counts: float = 500.0) -> Calibration:
        """A copy whose scale makes these readings (the known weight on the tared step) read known_kg."""
        if not isinstance(known_kg, int | float) or not math.isfinite(known_kg) or not 0.5 <= known_kg <= 300:
            raise CalibrationError(f"the known weight must be from 0.5 to 300 kg, not {known_kg!r}")
        codes = _codes(readings)
        self._usable(codes, "calibration")
        delta = robust_mean(codes) - self.offset
        noise = spread_counts(codes)
        if abs(delta) < max(min_counts, 3 * noise):
            raise CalibrationError(
                f"no weight seen: the reading is only {delta:+.0f} counts from zero "
                f"(noise {noise:.0f} counts). Tare the empty step first, then put the {known_kg:g} kg "
                "weight on the step edge.")
        scale = delta / known_kg
        self._still(codes, scale, "calibration", still_kg)
        now = _now()
        return replace(self, scale=scale, date=now, calibrated_at=now, known_kg=float(known_kg))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
