"""What may change a running device from outside (web, MQTT): one object, one set of rules.

The web and the MQTT publisher both call `DeviceControl`, so a tare from Home Assistant is
refused for exactly the reasons a tare from the phone is: someone on the step (a tare then
would zero their weight away), a sensor fault, or no sensor at all. A refusal is a ValueError
whose message is for a person.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TARE_STATES = ("empty",)   # detector states in which nothing stands on the step


class DeviceControl:
    """Commands on the sampler side. `calibration` is a CalibrationControl (or None: simulated or
    replayed input has no sensor to tare); `state` returns the loop's state right now."""

    def __init__(self, calibration: Any, state: Callable[[], str | None]) -> None:
        self._calibration = calibration
        self._state = state

    def _sensor(self) -> Any:
        if self._calibration is None:
            raise ValueError("no sensor to tare or calibrate: this device runs on simulated or replayed "
                             "input")
        return self._calibration

    def tare(self) -> dict[str, Any]:
        """Zero the scale; only with nothing on the step."""
        sensor = self._sensor()
        state = self._state()
        if state == "fault":
            raise ValueError("the sensor reports a fault; fix the wiring before taring")
        if state not in TARE_STATES:
            raise ValueError(f"the step is not empty ({state}); step off and try again")
        return sensor.tare()

    def calibrate(self, known_kg: float) -> dict[str, Any]:
        return self._sensor().calibrate(known_kg)
