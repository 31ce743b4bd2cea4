"""The calibrated source: a raw HX711 reader as the kg `SampleSource` the loop wants.

On the way a `FaultMonitor` drops isolated wild codes and turns a misbehaving sensor into
`Sample(t, nan, fault=reason)`, and a `DriftCorrector` follows zero while the step is empty.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from typing import Any, Protocol

from firmware.calibration.drift import DriftCorrector
from firmware.calibration.faults import FaultMonitor
from firmware.calibration.model import Calibration
from firmware.sensors.base import Sample
from firmware.sensors.hx711.reading import RawReading


class RawSource(Protocol):
    rate_hz: float
    live: bool

    def readings(self) -> Iterator[RawReading]: ...
    def close(self) -> None: ...


class CalibratedSource:
    """A raw reader as a kg SampleSource: glitches dropped, faults as NaN samples, zero tracked.

    `name` says which calibration file is its own ("hx711", "hx711-emulated"). A new calibration
    from another thread (the web API) is handed over and applied by the sampling thread at its
    next reading, so drift correction can never overwrite it.
    """

    def __init__(self, raw: RawSource, calibration: Calibration, *, monitor: FaultMonitor | None = None,
                 drift: DriftCorrector | None | bool = True, recent_s: float = 3.0,
                 name: str = "hx711") -> None:
        self.raw = raw
        self.name = name
        self.rate_hz = raw.rate_hz
        self.live = raw.live
        self._calibration = calibration
        self._incoming: Calibration | None = None
        self.monitor = monitor or FaultMonitor(raw.rate_hz, calibration)
        self.drift = DriftCorrector(raw.rate_hz) if drift is True else (drift or None)
        self._recent: deque[tuple[float, int]] = deque(maxlen=max(8, round(recent_s * raw.rate_hz)))

    @property
    def calibration(self) -> Calibration:
        """The calibration in use (or about to be, if one was just handed over)."""
        return self._incoming or self._calibration

    def set_calibration(self, calibration: Calibration) -> None:
        """Use this calibration from the next reading on; safe to call from any thread."""
        self._incoming = calibration

    def _take_incoming(self) -> None:
        incoming, self._incoming = self._incoming, None
        if incoming is not None:
            self._calibration = incoming
            self.monitor.set_calibration(incoming)

    def recent_codes(self, seconds: float = 2.0) -> list[int]:
        """Good raw codes of the last `seconds`, for a tare or calibration from a running loop."""
        recent = list(self._recent)      # one atomic copy: the sampling thread keeps appending
        if not recent:
            return []
        newest = recent[-1][0]
        return [code for t, code in recent if newest - t <= seconds]

    def samples(self) -> Iterator[Sample]:
        for reading in self.raw.readings():
            if self._incoming is not None:
                self._take_incoming()
            fault, good = self.monitor.feed(reading)
            if fault is not None:
                self._recent.clear()
                yield Sample(reading.t, math.nan, fault)
                continue
            for t, code in good:
                self._recent.append((t, code))
                if self.drift is not None:
                    self._calibration = self.drift.correct(self._calibration, code)
                yield Sample(t, self._calibration.kg(code))

    def close(self) -> None:
        self.raw.close()


def calibrated_source_of(source: Any) -> CalibratedSource | None:
    """The CalibratedSource inside a SampleSource (hx711, hx711-emulated), or None (simulated, replay)."""
    if isinstance(source, CalibratedSource):
        return source
    inner = getattr(source, "source", None)
    return inner if isinstance(inner, CalibratedSource) else None


def calibrated_cells_of(source: Any) -> list[CalibratedSource]:
    """Every CalibratedSource a SampleSource reads: one, the `cells` of a two-cell pair, or none."""
    cells = list(getattr(source, "cells", ()))
    if cells and all(isinstance(cell, CalibratedSource) for cell in cells):
        return cells
    single = calibrated_source_of(source)
    return [single] if single is not None else []


def already_filtered(source: Any) -> bool:
    """Whether the source's samples already had glitches rejected on raw codes.

    True when every sample comes from calibrated cells (a CalibratedSource, a source wrapping
    one, or both cells of a two-cell pair): each cell drops glitches on its raw codes. The
    loop then turns the detector's own glitch filter off, so a genuine jump does not lose its
    first sample twice. Simulated and replayed samples were never filtered: False.
    """
    return bool(calibrated_cells_of(source))


def calibration_status(source: Any) -> dict[str, Any] | None:
    """What the page and `run` show about the calibration in use; None for uncalibrated kinds
    (simulated, replay). `calibrated` is False until every cell has a known-weight scale."""
    cells = calibrated_cells_of(source)
    if not cells:
        return None
    cals = [cell.calibration for cell in cells]
    missing = [cell.name for cell, cal in zip(cells, cals, strict=True) if not cal.calibrated_at]
    return {
        "calibrated": not missing,
        "calibrated_at": min((c.calibrated_at for c in cals), default="") or None,
        "known_kg": cals[0].known_kg,
        "tared_at": cals[0].date or None,
        "warning": (f"not calibrated ({', '.join(missing)}): readings use a default scale; run "
                    "`stretchstep tare` then `stretchstep calibrate --known-kg KG`") if missing else None,
    }
