"""The calibration control the web API calls on a running device (`tare()`, `calibrate(kg)`).

A running device knows more than the readings: its detector says whether someone is on the
step. A tare is accepted only while the detector says "empty" (a tare during a hold moved zero
by a person's weight and then read the person as an empty step), a calibration only while no
one is stretching; both still need still, unsaturated readings (`Calibration.tared/calibrated`).
Before the first tare the detector's kg mean nothing (the default zero), so then stillness
alone decides.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware.calibration.files import save_calibration
from firmware.calibration.model import Calibration, CalibrationError
from firmware.calibration.source import CalibratedSource, calibrated_cells_of, calibration_status

UNTARED_LOOKS_LIKE = ("empty", "standing")   # what an empty step through a default zero can read as


class CalibrationControl:
    """What the web API calls on a running device: tare()/calibrate(kg) -> dict, ValueError if refused.

    Works on the last `seconds` of good readings the running source has seen, so the sensor is
    never read twice. `source` is the running SampleSource (or a function returning it: the loop
    may restart with a fresh one); its cells are found with `calibrated_cells_of`. A two-cell
    step tares both cells; a known weight cannot say how it splits between two cells, so
    calibrating those is refused with the command that does it one cell at a time.
    """

    def __init__(self, source: Any, data_dir: str | Path, seconds: float = 2.0, *,
                 step_state: Callable[[], str | None] = lambda: None) -> None:
        self._source = source
        self.data_dir, self.seconds = data_dir, seconds
        self._step_state = step_state    # the detector's state ("empty", "holding", ...) or None

    def _require(self, cells: list[CalibratedSource], allowed: tuple[str, ...], problem: str,
                 advice: str) -> None:
        """Refuse when the detector says the step is not in an `allowed` state (if it knows).

        A step never tared reads through a default zero, so the detector may take the empty
        step for someone standing (a constant offset looks like a constant load); the first
        tare is then allowed while it says "standing". Never while it says "stretching" or
        "holding": those need a load that rose and changed, which no wrong zero makes, and a
        tare then (say from Home Assistant) would zero out the person and read them as empty."""
        state = self._step_state()
        if state is None or state in allowed:
            return
        if state in UNTARED_LOOKS_LIKE and any(cell.calibration.is_default for cell in cells):
            return
        raise CalibrationError(f"{problem} (the detector says {state!r}). {advice}")

    def _running(self) -> Any:
        return self._source() if callable(self._source) else self._source

    def _cells(self) -> list[CalibratedSource]:
        cells = calibrated_cells_of(self._running())
        if not cells:
            raise CalibrationError("the sensor is not running right now; try again in a few seconds")
        return cells

    def _apply(self, changes: list[tuple[CalibratedSource, Calibration]], what: str) -> dict[str, Any]:
        paths = [str(save_calibration(new, self.data_dir, cell.name)) for cell, new in changes]
        for cell, new in changes:
            cell.set_calibration(new)
        described = "; ".join(new.describe() for _, new in changes)
        return {"ok": True, "message": f"{what}: {described}", "calibration": changes[0][1].to_dict(),
                "cells": [new.to_dict() for _, new in changes], "path": paths[0], "paths": paths}

    def tare(self) -> dict[str, Any]:
        cells = self._cells()
        self._require(cells, ("empty",), "the step is not empty right now",
                      "Step off, clear the step and try again.")
        # Every cell is checked before any is saved: one moving cell refuses the whole tare.
        changes = [(cell, cell.calibration.tared(cell.recent_codes(self.seconds))) for cell in cells]
        return self._apply(changes, "tared")

    def calibrate(self, known_kg: float) -> dict[str, Any]:
        cells = self._cells()
        if len(cells) > 1:
            raise CalibrationError(
                "two load cells: a known weight cannot say how it splits between them; stop the "
                "device and run `stretchstep calibrate --known-kg KG --cell 1`, then `--cell 2`")
        self._require(cells, ("empty", "standing"), "someone is stretching on the step",
                      "Wait until no one is, put the known weight on and let go.")
        cell = cells[0]
        if cell.calibration.is_default:
            # a scale measured from a default zero is wrong, and once saved it can make the true
            # zero look like a > 10 kg jump, which a tare from here (no --force) then refuses
            raise CalibrationError("the step was never tared: take the weight off, tare the empty step "
                                   "first (a press of the button, the page, or `stretchstep tare`), "
                                   "then calibrate")
        new = cell.calibration.calibrated(cell.recent_codes(self.seconds), known_kg)
        return self._apply([(cell, new)], f"calibrated with {known_kg:g} kg")

    def status(self) -> dict[str, Any]:
        """The calibration in use, for the dashboard ("shown with its date"): `default` until the
        first tare, `calibrated` once every cell has a known-weight scale (else a `warning`)."""
        cells = self._cells()
        cals = [cell.calibration for cell in cells]
        return {"calibration": cals[0].to_dict(), "cells": [c.to_dict() for c in cals],
                "describe": "; ".join(c.describe() for c in cals), "default": any(c.is_default for c in cals),
                **(calibration_status(self._running()) or {})}
