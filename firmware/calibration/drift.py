"""Zero drift: a load cell's zero creeps with temperature; follow it while the step is empty."""

from __future__ import annotations

from dataclasses import replace

from firmware.calibration.model import Calibration


class DriftCorrector:
    """Moves zero slowly (time constant `tau_s`) while the step has been empty for `empty_s`."""

    def __init__(self, rate_hz: float, *, empty_kg: float = 0.5, empty_s: float = 2.0, tau_s: float = 60.0):
        self.empty_kg = empty_kg
        self._need = max(1, round(empty_s * rate_hz))
        self._gain = 1.0 / max(1.0, tau_s * rate_hz)
        self._empty_run = 0
        self.moved_counts = 0.0

    def correct(self, calibration: Calibration, code: int) -> Calibration:
        """The calibration after this code (the same object when nothing moves)."""
        if abs(calibration.kg(code)) >= self.empty_kg:
            self._empty_run = 0
            return calibration
        self._empty_run += 1
        if self._empty_run < self._need:
            return calibration
        step = (code - calibration.offset) * self._gain
        self.moved_counts += step
        return replace(calibration, offset=calibration.offset + step)
