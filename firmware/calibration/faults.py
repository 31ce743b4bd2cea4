"""Fault watching: raw readings -> a fault name, or the codes that are good to use.

"unplugged" (never ready), "stuck" (the same code for seconds), "saturated" (0x7FFFFF /
0x800000), "spiking" (wild codes keep coming), "timing" (reads keep being preempted). Normal
samples resume after `recover_s` of clean readings.
"""

from __future__ import annotations

import math
from collections import deque

from firmware.calibration.model import Calibration
from firmware.filters import GlitchFilter
from firmware.sensors.hx711.reading import NOT_READY, PREEMPTED, SATURATED_HIGH, SATURATED_LOW, RawReading


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
