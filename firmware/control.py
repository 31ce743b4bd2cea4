"""The commands the web may send the sampling process: tare, calibrate, and whatever is added here.

Contract (COMMON.md, contract 1): every public method of `DeviceControl` takes JSON-able keyword
arguments and returns a JSON-able dict; a refusal raises `ValueError` with a message for a
person. Across processes the web calls these by name (firmware.service.link.RemoteControl); to
add a command, add a method here and the web side can call it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

CALIBRATED_SOURCES = ("hx711", "hx711-iio", "hx711-emulated")


class ControlUnavailable(ValueError):
    """The sampler is not answering right now: the web answers 503."""

    http_status = 503


class DeviceControl:
    """Runs in the sampler. `device` returns the running Device (or None while the source is down)."""

    def __init__(self, source_name: str, data_dir: str | Path, device: Callable[[], Any], *,
                 next_profile: Callable[[], None] | None = None) -> None:
        self._device = device
        self._next_profile = next_profile     # RoutineKeeper.next_profile (never blocks)
        self._calibration: Any = None
        if source_name in CALIBRATED_SOURCES:
            from firmware.calibration import CalibrationControl

            self._calibration = CalibrationControl(self._source, data_dir, step_state=self._step_state)

    def _source(self) -> Any:
        device = self._device()
        return device.source if device is not None else None

    def _step_state(self) -> str | None:
        """The detector's state, so tare and calibrate can refuse while someone stretches."""
        device = self._device()
        return device.detector.state if device is not None else None

    def _calibration_control(self) -> Any:
        if self._calibration is None:  # a state of this device, not a fault: the API answers 409
            raise ValueError("There is no sensor to calibrate: this device runs on simulated or "
                             "replayed input.")
        return self._calibration

    def tare(self) -> dict[str, Any]:
        """Zero the step on the last seconds of readings (the step must be empty)."""
        return self._calibration_control().tare()

    def calibrate(self, known_kg: float) -> dict[str, Any]:
        """Set the scale from a known weight lying on the step now."""
        return self._calibration_control().calibrate(float(known_kg))

    def require_empty_step(self) -> dict[str, Any]:
        """{"ok": True} while the detector says the step is empty (or runs no detector now), else
        ValueError: a profile change from the button or Home Assistant must not move a hold
        under way to someone else."""
        state = self._step_state()
        if state not in (None, "empty"):
            raise ValueError(f"step off first: someone is on the step (the detector says {state!r}), and "
                             "a profile switch waits for an empty step so a hold under way stays theirs")
        return {"ok": True}

    def next_profile(self) -> dict[str, Any]:
        """Switch to the profile the standing load suggests, else the next one (the button's long
        hold). Only while the step is empty: a hold under way stays the stretching person's."""
        if self._next_profile is None:
            raise ValueError("There are no profiles to switch between: the history cannot be written.")
        self.require_empty_step()
        self._next_profile()
        return {"ok": True, "message": "switching to the next profile; it applies from the next hold"}

    def status(self) -> dict[str, Any]:
        """The calibration in use (for the dashboard)."""
        return self._calibration_control().status()
