"""Breath counting inside a hold: out-breath presses as peaks of the smoothed load.

Each out-breath presses the heel down a little more (2-6 % BW over 2-5 s); the in-breath lets
some of it off. So a breath is a *rise* of the 1 s mean load followed by a *fall*: a zig-zag
with hysteresis (Schaefer & Kratky's "advanced counting", streaming). A peak counts when its
rise beats an adaptive share of the recent press sizes and a floor set by how much the person
swayed while standing, and it comes at least `min_gap_s` after the previous breath. Sway and
sensor noise at the same scale would otherwise be counted; the floor is what keeps them out.

The counter is fed the smoothed load a couple of seconds late (by the detector), so stretches
already flagged as bounces can be skipped rather than mistaken for presses.
"""

from __future__ import annotations

import math

RISING = 1
FALLING = -1
MAX_PRESS_S = 8.0  # presses last 2-5 s; an unfinished longer rise at the release is creep


class BreathCounter:
    """One hold's breath zig-zag. `feed(t, y)` returns (peak_t, peak_y) when a breath counts."""

    __slots__ = ("floor_rise", "floor_fall", "min_gap_s", "min_press_s", "recent", "phase",
                 "trough", "trough_t", "peak", "peak_t", "count", "last_t", "h_rise", "h_fall", "cycle",
                 "typical")

    def __init__(self, floor_rise: float, floor_fall: float, recent: list[float], *,
                 min_gap_s: float = 2.5, min_press_s: float | None = None) -> None:
        self.floor_rise = floor_rise
        self.floor_fall = floor_fall
        self.min_gap_s = min_gap_s
        self.min_press_s = self.MIN_PRESS_S if min_press_s is None else min_press_s
        self.recent = recent  # recent counted press sizes, shared across holds (adaptive threshold)
        self.phase = 0
        self.trough = self.peak = math.nan
        self.trough_t = self.peak_t = -math.inf
        self.count = 0
        self.last_t = -math.inf
        self.h_rise = self.h_fall = 0.0
        self.cycle = 0.0      # breath period seen in this hold (0: not yet)
        self.typical = 0.0    # median of the recent presses
        self._thresholds()

    RISE_SHARE = 0.4    # a press counts when it rises this share of the typical recent press ...
    FALL_SHARE = 0.18   # ... and ends when the load falls this share of it
    MIN_PRESS_S = 0.8   # trough-to-peak time of the 1 s mean below which a rise is sway, not a press
    OFF_BEAT_SHARE = 0.8  # a press off the hold's rhythm must rise this share of the typical one
    BEAT_LO, BEAT_HI = 0.6, 1.6  # on the rhythm: this share of the breath period since the last press
    KEEP = 4            # presses remembered (across holds: a person's presses are alike)

    def _thresholds(self) -> None:
        self.typical = typical = sorted(self.recent)[len(self.recent) // 2] if self.recent else 0.0
        self.h_rise = max(self.floor_rise, self.RISE_SHARE * typical)
        self.h_fall = max(self.floor_fall, self.FALL_SHARE * typical)

    def feed(self, t: float, y: float) -> tuple[float, float] | None:
        if self.phase == RISING:
            if y > self.peak:
                self.peak, self.peak_t = y, t
            elif self.peak - y >= self.h_fall:
                found = self._judge_peak()
                self.phase, self.trough, self.trough_t = FALLING, y, t
                return found
            return None
        if self.phase == FALLING:
            if y < self.trough:
                self.trough, self.trough_t = y, t
            elif y - self.trough >= self.h_fall:
                self.phase, self.peak, self.peak_t = RISING, y, t
            return None
        self.phase, self.trough, self.trough_t = FALLING, y, t  # first value: a trough to rise from
        return None

    def _judge_peak(self) -> tuple[float, float] | None:
        rise = self.peak - self.trough
        if rise < self.h_rise or self.peak_t - self.trough_t < self.min_press_s:
            return None  # too small or too quick for a press
        gap = self.peak_t - self.last_t
        if gap < self.min_gap_s:
            return None
        if self.cycle > 0.0 and not self.BEAT_LO * self.cycle <= gap <= self.BEAT_HI * self.cycle \
                and rise < self.OFF_BEAT_SHARE * self.typical:
            return None  # off the breathing rhythm and no bigger than sway: not a press
        if self.count:
            self.cycle = gap if self.cycle == 0.0 else 0.5 * (self.cycle + gap)
        self.count += 1
        self.last_t = self.peak_t
        self.recent.append(rise)
        if len(self.recent) > self.KEEP:
            del self.recent[0]
        self._thresholds()
        return self.peak_t, self.peak

    def finish(self, release_t: float, settle_s: float = 1.5) -> tuple[float, float] | None:
        """At release: a press still waiting for its let-off counts if it peaked well before."""
        if self.phase == RISING and self.peak_t <= release_t - settle_s \
                and self.peak_t - self.trough_t <= MAX_PRESS_S:  # not the hold's slow creep
            return self._judge_peak()
        return None


class SwayGauge:
    """How big the slow rises of plain standing are: the largest trough-to-peak swing of the 1 s
    mean lasting 0.8-8 s (breath-like timescales), forgotten slowly (~3 min). A press smaller
    than what the person sways while standing cannot be told from sway, so it sets the floor."""

    __slots__ = ("hyst", "dir", "ext", "ext_t", "prev", "prev_t", "swing")

    def __init__(self) -> None:
        self.hyst = 0.1
        self.dir = 0
        self.ext = self.prev = 0.0
        self.ext_t = self.prev_t = 0.0
        self.swing = 0.0

    def feed(self, t: float, y: float) -> None:
        self.swing *= 0.9995
        d = self.dir
        if d > 0:
            if y > self.ext:
                self.ext, self.ext_t = y, t
                return
            if self.ext - y < self.hyst:
                return
        elif d < 0:
            if y < self.ext:
                self.ext, self.ext_t = y, t
                return
            if y - self.ext < self.hyst:
                return
        else:
            self.dir, self.ext, self.ext_t, self.prev, self.prev_t = 1, y, t, y, t
            return
        amp = abs(self.ext - self.prev)
        if 0.8 <= self.ext_t - self.prev_t <= 8.0 and amp > self.swing:
            self.swing = amp
        self.prev, self.prev_t = self.ext, self.ext_t
        self.dir, self.ext, self.ext_t = -d, y, t

    def pause(self) -> None:
        """The standing stretch was interrupted: start a fresh zig-zag next time."""
        self.dir = 0
