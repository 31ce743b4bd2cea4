"""Breath counting inside a hold: out-breath presses as peaks of the smoothed load.

Each out-breath presses the heel down a little more (2-6 % BW over 2-5 s); the in-breath lets
some of it off. So a breath is a *rise* of the load followed by a *fall*: a zig-zag with
hysteresis (Schaefer & Kratky's "advanced counting", streaming) on the load smoothed over a
third of the breath cycle, with the hold's own rhythm deciding what is too soon to be a breath
(see `BreathCounter`). `SwayGauge` measures how much the person sways while standing, which
sets the smallest press worth counting.

The counter is fed the 1 s mean a couple of seconds late (by the detector), so stretches of
signal that quick swings disturbed are known before they reach it and can be held flat.
"""

from __future__ import annotations

import math

RING = 64          # recent 1 s means kept (the widest smoothing box is 36)
BLOCK_S = 0.1      # the detector feeds one 1 s mean per 0.1 s block
MAX_PRESS_S = 16.0  # a press rises 2-5 s (two the smoothing merged: up to ~15 s); longer is creep


class BreathCounter:
    """One hold's breath presses, streaming. `feed(t, y)` returns (peak_t, peak_y) when one counts.

    Why it looks the way it does (DESIGN §2; measured with bench/accuracy.py):
    - The 1 s mean `y` still carries postural sway. Real one-foot sway (the realsway corpus
      group) has rises as big as the smallest presses, but mostly faster: 1-2 s swings at
      0.3-0.5 Hz, where a press takes 2-5 s of a 4-12 s cycle. So the zig-zag runs on `y`
      boxcar-averaged over a share (`smooth_share`, ~1/3) of the breath cycle: long enough to
      flatten sway swings, short enough to keep the press/let-off of the shortest cycles.
    - The cycle is not known in advance (4-12 s, per person and hold): it starts at `cycle_s`
      and follows the gaps between counted presses.
    - A press is a trough-to-peak rise of at least `floor_rise` lasting at least `min_press_s`
      (of the smoothed signal), at least `min_gap_s` after the previous press (no breath cycle
      is shorter) and, once the rhythm is known, at least `BEAT` of a cycle after it: an
      off-beat rise between two presses is sway, however big.
    - After a quiet spell of more than `QUIET_CYCLES` cycles the person has likely stopped
      pressing (holds often end with a quiet tail); a rise then must be at least
      `QUIET_SHARE` of the hold's biggest press, or it is sway.
    """

    __slots__ = ("floor_rise", "hyst", "min_gap_s", "min_press_s", "cycle_s", "smooth_share",
                 "cycle", "count", "_ys", "_sums", "_n", "_rising", "_ext", "_ext_t",
                 "_ext_y", "_trough", "_trough_t", "_last_t", "_tc", "_reach", "_reach_t", "_top_rise")

    QUIET_CYCLES, QUIET_SHARE = 2.0, 0.5  # a late rise after a quiet spell: see above
    BEAT = 0.6           # a press less than this share of the hold's cycle after the last is sway
    MAX_CYCLE_S = 13.0   # a longer gap between presses is a pause or a missed press, not a cycle
    MIN_BOX, MAX_BOX = 10, 36  # smoothing box, in 0.1 s blocks (1.0-3.6 s)

    def __init__(self, floor_rise: float, hyst: float, *, min_gap_s: float = 3.0, min_press_s: float = 1.5,
                 cycle_s: float = 7.0, smooth_share: float = 0.35) -> None:
        self.floor_rise = floor_rise
        self.hyst = hyst
        self.min_gap_s = min_gap_s
        self.min_press_s = min_press_s
        self.cycle_s = cycle_s
        self.smooth_share = smooth_share
        self.cycle = 0.0   # breath period seen in this hold (0: fewer than two presses yet)
        self.count = 0
        self._ys = [0.0] * RING
        self._sums = [0.0] * RING  # running sums of y: a box mean is a difference of two
        self._n = 0
        self._rising: bool | None = None  # None until the first value
        self._ext = self._trough = 0.0
        self._ext_t = self._trough_t = 0.0
        self._ext_y = 0.0
        self._last_t = -math.inf
        self._top_rise = 0.0
        self._tc = -math.inf  # time of the newest smoothed value
        self._reach = 0.0     # the last new high of a rise that beat the one before by the hysteresis
        self._reach_t = -math.inf

    def box(self) -> int:
        """The smoothing box now, in blocks: a share of the cycle seen (or guessed)."""
        cycle = self.cycle or self.cycle_s
        return min(max(round(self.smooth_share * cycle / BLOCK_S), self.MIN_BOX), self.MAX_BOX)

    def feed(self, t: float, y: float) -> tuple[float, float] | None:
        n = self._n
        k = n % RING
        self._sums[k] = (self._sums[(n - 1) % RING] if n else 0.0) + y
        self._ys[k] = y
        self._n = n = n + 1
        w = min(self.box(), n)
        v = (self._sums[k] - (self._sums[(n - 1 - w) % RING] if n > w else 0.0)) / w
        self._tc = tc = t - 0.5 * (w - 1) * BLOCK_S  # a trailing box's value belongs to its middle
        if self._rising is None:
            self._rising = False
            self._ext = self._trough = v
            self._ext_t = self._trough_t = tc
            return None
        if self._rising:
            if v > self._ext:
                self._set_ext(v, tc, w)
                if v - self._reach >= self.hyst:
                    self._reach, self._reach_t = v, tc
            elif self._ext - v >= self.hyst:
                found = self._judge()
                self._rising = False
                self._set_ext(v, tc, w)
                return found
        elif v < self._ext:
            self._set_ext(v, tc, w)
        elif v - self._ext >= self.hyst:
            self._trough, self._trough_t = self._ext, self._ext_t
            self._reach, self._reach_t = v, tc
            self._rising = True
            self._set_ext(v, tc, w)
        return None

    def _set_ext(self, v: float, tc: float, w: int) -> None:
        self._ext, self._ext_t = v, tc
        self._ext_y = self._ys[(self._n - 1 - w // 2) % RING]  # the 1 s mean at the box's middle

    def _judge(self) -> tuple[float, float] | None:
        peak_t = self._ext_t
        rise_s = peak_t - self._trough_t
        if self._ext - self._trough < self.floor_rise or not self.min_press_s <= rise_s <= MAX_PRESS_S:
            return None  # too small, too quick for a press, or a slow creep of the whole hold
        gap = peak_t - self._last_t
        if gap < self.min_gap_s or (self.cycle and gap < self.BEAT * self.cycle):
            return None  # too soon after the last press: sway
        rise = self._ext - self._trough
        if self.count and gap > self.QUIET_CYCLES * (self.cycle or self.cycle_s) \
                and rise < self.QUIET_SHARE * self._top_rise:
            return None  # after a long quiet spell, a rise much smaller than the presses is sway
        self._top_rise = max(self._top_rise, rise)
        if self.count and gap <= self.MAX_CYCLE_S:
            self.cycle = 0.5 * ((self.cycle or self.cycle_s) + gap)
        self.count += 1
        self._last_t = peak_t
        return peak_t, self._ext_y

    def finish(self, release_t: float, settle_s: float = 1.5) -> tuple[float, float] | None:
        """At release: a press still waiting for its let-off counts if it stopped rising well
        before the release and the last smoothed value fed (a rise still going at the end is a
        creep, not a press; noise on a held press makes only tiny new highs)."""
        if self._rising and self._reach_t <= min(release_t, self._tc) - settle_s:
            return self._judge()
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
