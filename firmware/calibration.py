"""Raw HX711 counts -> kg: tare, known-weight calibration, drift, glitches and sensor faults.

A `Calibration` is (offset, scale, date): kg = (code - offset) / scale, scale in counts per kg
(its sign absorbs how the cell is wired). Tare and calibration are accepted only from a still
signal - a tare taken while someone stands on the step would make every later reading wrong by
their weight - and the error says what spread was seen and what is allowed.

`CalibratedSource` turns a raw reader into the kg `SampleSource` the loop wants. On the way a
`FaultMonitor` drops isolated wild codes (HX711 bit errors; firmware.filters.GlitchFilter) and
turns a misbehaving sensor into `Sample(t, nan, fault=reason)`: "unplugged" (never ready),
"stuck" (the same code for seconds), "saturated" (0x7FFFFF / 0x800000), "spiking" (wild codes
keep coming), "timing" (reads keep being preempted). Normal samples resume after `recover_s`
of clean readings. Zero follows slow drift while the step is empty (`DriftCorrector`).
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from firmware.files import private_dir, write_atomic
from firmware.filters import GlitchFilter
from firmware.sensors.base import Sample
from firmware.sensors.hx711 import NOT_READY, PREEMPTED, SATURATED_HIGH, SATURATED_LOW, RawReading

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

    def _still(self, codes: list[float], scale: float, what: str, still_kg: float) -> None:
        if len(codes) < MIN_READINGS:
            raise CalibrationError(f"only {len(codes)} readings for the {what}; need at least "
                                   f"{MIN_READINGS}: is the sensor answering?")
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
        if len(codes) < MIN_READINGS:
            self._still(codes, self.scale, "calibration", still_kg)
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

    # --- files ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, data_dir: str | Path, name: str = "hx711") -> Path:
        """Write atomically to the data dir (a crash never leaves half a file)."""
        path = calibration_path(data_dir, name)
        private_dir(path.parent)
        return write_atomic(path, json.dumps(self.to_dict(), indent=2) + "\n")  # 0600, fsynced


def calibration_path(data_dir: str | Path, name: str = "hx711") -> Path:
    """`calibration.json` for the real sensor; `calibration-NAME.json` for others (the emulator)."""
    return Path(data_dir) / ("calibration.json" if name == "hx711" else f"calibration-{name}.json")


def load_calibration(data_dir: str | Path, name: str = "hx711",
                     default: Calibration | None = None) -> Calibration:
    """The saved calibration, or `default` (the uncalibrated one) if none was saved yet."""
    path = calibration_path(data_dir, name)
    if not path.exists():
        return default or Calibration()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = {"offset", "scale", "date", "calibrated_at", "known_kg"}
        return Calibration(**{k: v for k, v in raw.items() if k in known})
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, AttributeError) as exc:
        raise CalibrationError(f"{path}: not a calibration file ({exc}); delete it and tare again") from None
    except CalibrationError as exc:
        raise CalibrationError(f"{path}: {exc}") from None


# --- faults and glitches -------------------------------------------------------------------------

class FaultMonitor:
    """Raw readings -> (fault reason or None, the (t, code) pairs that are good to use).

    Isolated wild codes (HX711 bit errors) are dropped by `firmware.filters.GlitchFilter` on the
    calibrated kg; a drop that the next sample confirms (it is back near the level before) counts
    as a glitch, and `spike_count` glitches within `spike_window_s` make the sensor "spiking".
    """

    def __init__(self, rate_hz: float, calibration: Calibration | None = None, *, stuck_s: float = 3.0,
                 spike_count: int = 4, spike_window_s: float = 2.0, recover_s: float = 0.5,
                 timing_s: float = 1.0, glitch_filter: GlitchFilter | None = None) -> None:
        self.rate_hz = rate_hz
        self.stuck_s, self.spike_count, self.spike_window_s = stuck_s, spike_count, spike_window_s
        self.recover_s, self.timing_s = recover_s, timing_s
        self.calibration = calibration or Calibration()
        self.glitch_filter = glitch_filter or GlitchFilter()
        self.fault: str | None = None
        self.glitches = 0
        self._clean_since: float | None = None
        self._glitch_times: deque[float] = deque()
        self._last_kg = math.nan
        self._dropped: tuple[float, float] | None = None   # (kg before, kg dropped)
        self._same_code: int | None = None
        self._same_since = 0.0
        self._last_good_t: float | None = None

    def set_calibration(self, calibration: Calibration) -> None:
        self.calibration = calibration
        self._restart_filter()

    def _restart_filter(self) -> None:
        self.glitch_filter.reset()
        self._dropped, self._last_kg = None, math.nan

    def feed(self, r: RawReading) -> tuple[str | None, list[tuple[float, int]]]:
        condition, good = self._condition(r)
        if condition is not None:
            self.fault, self._clean_since = condition, None
            if condition != "spiking":      # the level after a fault may be anywhere: start afresh
                self._restart_filter()
        elif self.fault is not None and r.code is not None:
            self._clean_since = r.t if self._clean_since is None else self._clean_since
            if r.t - self._clean_since >= self.recover_s:
                self.fault = None
        return self.fault, ([] if self.fault else good)

    def _condition(self, r: RawReading) -> tuple[str | None, list[tuple[float, int]]]:
        if r.problem == NOT_READY:
            return "unplugged", []
        if r.code is None:
            if r.problem == PREEMPTED and self._last_good_t is not None \
                    and r.t - self._last_good_t > self.timing_s:
                return "timing", []
            return None, []
        self._last_good_t = r.t
        if r.code in (SATURATED_HIGH, SATURATED_LOW):
            return "saturated", []
        if r.code != self._same_code:
            self._same_code, self._same_since = r.code, r.t
        elif r.t - self._same_since >= self.stuck_s:
            return "stuck", []
        good = self._deglitch(r.t, r.code)
        while self._glitch_times and r.t - self._glitch_times[0] > self.spike_window_s:
            self._glitch_times.popleft()
        limit = 1 if self.fault == "spiking" else self.spike_count
        if len(self._glitch_times) >= limit:
            return "spiking", []
        return None, good

    def _deglitch(self, t: float, code: int) -> list[tuple[float, int]]:
        kg = self.calibration.kg(code)
        kept = self.glitch_filter.feed(t, kg)
        if self._dropped is not None:
            before, dropped = self._dropped
            self._dropped = None
            if not math.isnan(kept) and abs(kg - before) < abs(kg - dropped):
                self.glitches += 1               # back near the level before: it was a glitch
                self._glitch_times.append(t)
        if math.isnan(kept):
            self._dropped = (self._last_kg, kg)
            return []
        self._last_kg = kg
        return [(t, code)]


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


# --- flows for the CLI, the web API and a running loop -------------------------------------------

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
    new.save(data_dir, name)
    return new


def calibrate(raw: RawSource, data_dir: str | Path, known_kg: float, seconds: float = 2.0, *,
              name: str = "hx711") -> Calibration:
    """Read the known weight on the tared step for `seconds`, set the scale, save."""
    current = load_calibration(data_dir, name)
    new = current.calibrated(collect_codes(raw, seconds), known_kg)
    new.save(data_dir, name)
    return new


class CalibrationControl:
    """What the web API calls on a running device: tare()/calibrate(kg) -> dict, ValueError if refused.

    Works on the last `seconds` of good readings the running source has seen, so the sensor is
    never read twice. `source` is the running SampleSource (or a function returning it: the loop
    may restart with a fresh one); its cells are found with `calibrated_cells_of`. A two-cell
    step tares both cells; a known weight cannot say how it splits between two cells, so
    calibrating those is refused with the command that does it one cell at a time.
    """

    def __init__(self, source: Any, data_dir: str | Path, seconds: float = 2.0) -> None:
        self._source = source
        self.data_dir, self.seconds = data_dir, seconds

    def _cells(self) -> list[CalibratedSource]:
        source = self._source() if callable(self._source) else self._source
        cells = calibrated_cells_of(source)
        if not cells:
            raise CalibrationError("the sensor is not running right now; try again in a few seconds")
        return cells

    def _apply(self, changes: list[tuple[CalibratedSource, Calibration]], what: str) -> dict[str, Any]:
        paths = [str(new.save(self.data_dir, cell.name)) for cell, new in changes]
        for cell, new in changes:
            cell.set_calibration(new)
        described = "; ".join(new.describe() for _, new in changes)
        return {"ok": True, "message": f"{what}: {described}", "calibration": changes[0][1].to_dict(),
                "cells": [new.to_dict() for _, new in changes], "path": paths[0], "paths": paths}

    def tare(self) -> dict[str, Any]:
        cells = self._cells()
        # Every cell is checked before any is saved: one moving cell refuses the whole tare.
        changes = [(cell, cell.calibration.tared(cell.recent_codes(self.seconds))) for cell in cells]
        return self._apply(changes, "tared")

    def calibrate(self, known_kg: float) -> dict[str, Any]:
        cells = self._cells()
        if len(cells) > 1:
            raise CalibrationError(
                "two load cells: a known weight cannot say how it splits between them; stop the "
                "device and run `stretchstep calibrate --known-kg KG --cell 1`, then `--cell 2`")
        cell = cells[0]
        new = cell.calibration.calibrated(cell.recent_codes(self.seconds), known_kg)
        return self._apply([(cell, new)], f"calibrated with {known_kg:g} kg")

    def status(self) -> dict[str, Any]:
        """The calibration in use, for the dashboard ("shown with its date")."""
        cals = [cell.calibration for cell in self._cells()]
        return {"calibration": cals[0].to_dict(), "cells": [c.to_dict() for c in cals],
                "describe": "; ".join(c.describe() for c in cals), "default": any(c.is_default for c in cals)}


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
