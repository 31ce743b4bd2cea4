"""Bounce watch inside a stretch: fast (1-3 Hz) swings of the load around its 1 s mean.

The detector hands in the load minus its centred 1 s mean (a band-pass that keeps bounces and
drops breathing, sway below ~0.5 Hz and the slow ramps). A zig-zag with hysteresis turns that
into swings; a swing *qualifies* when it is big (>= `min_amp` kg) and fast (0.1-0.75 s, i.e.
1-3 Hz half cycles with room for 10 Hz sampling). Two qualifying swings in a row are one
bounce cycle: an episode starts. The curve at the start and end of a ramp or a release also
looks like one cycle of a slow swing; it is told apart because its 1 s mean moves a lot during
the "cycle" while a real bounce oscillates around a steady level. Both swings of a bounce's
first cycle also stand well above the hold's own quick sway *at their pace*: real sway grows
towards low frequencies (a 1 Hz swing of an older adult's sway is as big as a small bounce),
so slow and quick half swings are each set against the sway's own of that pace. A bounce of
one cycle near 1 Hz moves its own 1 s mean (by about 0.3 of its swing, and sway or a let-off
beneath it add to that) as a bend or a step does; such a pair is kept (`LoneCycle`) and the third
swing decides: a lone cycle comes back to the load where it began, a step or a bend never does.
Only one event per episode: an episode ends after `gap_s` without a qualifying swing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class QuickSwingSpan:
    """Where quick swings were seen (`lo`..`hi`, s) and whether a bounce episode began there."""

    lo: float
    hi: float
    bounce: bool = False


PAIR_SHARE = 0.4  # the smaller swing of a pair is at least this share of the bigger (a bounce
                  # swings evenly; sampling a 3 Hz swing at 10 Hz can shrink one to ~0.6)


SWAY_EMA = 0.2    # the hold's quick sway: running mean of its last ~5 quick swings (2-3 s; real
                  # sway waxes and wanes, and a bounce must stand out of the sway around it)
SLOW_HALF_S = 0.3  # half swings at least this long (<= 1.7 Hz) are judged against the sway's own
                   # slow swings: real sway grows towards low frequencies, a bounce does not
ABOVE_SWAY = 2.5  # both swings of a bounce's first cycle are at least this many times that ...
                  # (and a swing joins that mean as at most this many times it: sway's swings,
                  # Rayleigh-like, pass that 1 in ~140; a lurch's or a bounce's pass it often)
ONE_CYCLE_ABOVE = (3.75, 2.0)  # ... or the bigger 1.5 times that and the smaller 2x: a bounce of
                               # one cycle swings a quarter, a half, a quarter (A, 2A, A)
MAX_CYCLE_S = 1.0  # a bounce is 1-3 Hz: its first cycle (two half swings) takes at most 1 s
LEVEL_SHARE = 0.35  # over a bounce's first cycle the 1 s mean moves less than this share of it
BACK_SHARE = 0.35  # ... but it comes back: a lone cycle ends within this share of its swing of its start
PACE_SHARE = 0.6  # a lone cycle's quarter swings take about as long: the shorter >= this share
LONE_CYCLE_S = 1.25  # a lone cycle's three swings span one 1-3 Hz cycle, <= 1 s (and a 0.1 s
                     # block either end, and sway shifting its extremes)


@dataclass(slots=True)
class LoneCycle:
    """A pair that was like a bounce in all but its level: the third swing tells whether the
    load came back to where it started (a lone bounce cycle) or not (a step, a ramp's bend)."""

    start: float     # start of its second swing: the bounce's first peak
    load: float      # the load (band plus 1 s mean) where its first swing began
    pp: float        # its bigger swing
    dur: float       # its two swings' duration
    first_dur: float  # its first swing's (a quarter cycle, as the third will be)


class BounceWatch:
    """`feed(t, v, level)` -> (start_t, hz, pp) when an episode starts, else None."""

    __slots__ = ("min_amp", "max_half_s", "gap_s", "dir", "ext", "ext_t", "ext_level", "prev",
                 "prev_t", "prev_level", "last_qual_end", "last_amp", "last_dur", "last_level",
                 "in_episode", "episodes", "masks", "sway_by_pace", "unjudged", "last_load", "lone")

    def __init__(self, min_amp: float, *, max_half_s: float = 0.75, gap_s: float = 1.0,
                 quick_sway: float = 0.0) -> None:
        self.min_amp = min_amp
        self.max_half_s = max_half_s
        self.gap_s = gap_s
        self.dir = 0
        self.ext = self.prev = 0.0
        self.ext_t = self.prev_t = -math.inf
        self.ext_level = self.prev_level = 0.0
        self.last_qual_end = -math.inf   # end time of the last qualifying swing
        self.last_amp = 0.0
        self.last_dur = 0.0
        self.last_level = 0.0            # the mean load where the last qualifying swing began
        self.last_load = 0.0             # ... and the load there (band plus mean)
        self.lone: LoneCycle | None = None  # a level-rejected pair, until its third swing
        self.in_episode = False
        self.episodes = 0
        self.masks: list[QuickSwingSpan] = []  # oldest first, not overlapping
        # typical quick swing outside episodes (kg), for swings slower and quicker than
        # SLOW_HALF_S (sway grows towards lower frequencies); both start from what standing showed
        self.sway_by_pace = [quick_sway, quick_sway]
        # the last swing (pace, amp), not yet in sway_by_pace: a swing joins the sway only once
        # the next one shows it began no bounce, so a pair is never judged against itself
        self.unjudged: tuple[bool, float] | None = None

    def feed(self, t: float, v: float, level: float) -> tuple[float, float, float] | None:
        d = self.dir
        if d > 0:
            if v > self.ext:
                self.ext, self.ext_t, self.ext_level = v, t, level
                return None
            if self.ext - v < 0.25 * self.min_amp:
                return None
        elif d < 0:
            if v < self.ext:
                self.ext, self.ext_t, self.ext_level = v, t, level
                return None
            if v - self.ext < 0.25 * self.min_amp:
                return None
        else:
            self.dir, self.ext, self.ext_t, self.ext_level = 1, v, t, level
            self.prev, self.prev_t, self.prev_level = v, t, level
            return None
        # A reversal: the swing prev -> ext is complete.
        found = self._swing(self.ext - self.prev, self.ext_t - self.prev_t)
        self.prev, self.prev_t, self.prev_level = self.ext, self.ext_t, self.ext_level
        self.dir, self.ext, self.ext_t, self.ext_level = -d, v, t, level
        return found

    def _swing(self, amp: float, dur: float) -> tuple[float, float, float] | None:
        amp = abs(amp)
        if self.in_episode and self.ext_t - self.last_qual_end > self.gap_s:
            self.in_episode = False
        quick = 0.05 <= dur <= self.max_half_s
        before = self.unjudged
        self.unjudged = (dur >= SLOW_HALF_S, amp) if quick and not self.in_episode else None
        found = self._judge(amp, dur) if quick else None
        if found is not None:
            self.unjudged = None  # a bounce's swings are no part of the hold's sway
        elif before is not None and not self.in_episode:
            # the swing before began no bounce with this one: it was the hold's own sway
            # (as no more than the bar: else a lurch, or a bounce whose first pair fell short,
            # lifts the bar past the bounce's later cycles, and the bounce never stands clear)
            pace, was = before
            sway = self.sway_by_pace[pace]
            self.sway_by_pace[pace] += SWAY_EMA * (min(was, ABOVE_SWAY * sway) - sway)
        return found

    def _judge(self, amp: float, dur: float) -> tuple[float, float, float] | None:
        """Does this quick swing, with the one before, make a bounce's first cycle?"""
        start, end = self.prev_t, self.ext_t
        pace = dur >= SLOW_HALF_S
        sway = self.sway_by_pace
        lone, self.lone = self.lone, None
        if amp < 0.5 * self.min_amp:
            return None
        self._mask(start - 0.6, end + 0.6)
        paired = start - self.last_qual_end < 1e-9 and self.last_amp > 0.0
        first_amp, first_dur, first_level = self.last_amp, self.last_dur, self.last_level
        first_load = self.last_load
        self.last_qual_end, self.last_amp, self.last_dur, self.last_level = end, amp, dur, self.prev_level
        self.last_load = self.prev + self.prev_level
        if not paired or self.in_episode:
            return None
        if lone is not None and self._came_back(lone, amp, dur):
            return self._begin_episode(lone.start, 1.0 / (lone.dur + dur), lone.pp)
        if max(amp, first_amp) < self.min_amp:
            return None
        if dur + first_dur > MAX_CYCLE_S:
            return None  # slower than 1 Hz: sway (which grows towards low frequencies), no bounce
        fast = max(sway[pace], sway[first_dur >= SLOW_HALF_S])  # the sway at the pair's pace
        lo, hi = min(amp, first_amp), max(amp, first_amp)
        if lo < PAIR_SHARE * hi:
            return None  # a bounce swings evenly
        big, small = ONE_CYCLE_ABOVE
        if lo < ABOVE_SWAY * fast and not (hi >= big * fast and lo >= small * fast):
            return None  # a bounce stands out of the hold's own quick sway
        if abs(self.ext_level - first_level) > LEVEL_SHARE * hi:
            # the mean load moved: a ramp or release bend, a step -- or a lone bounce cycle, whose
            # own half cycles move the 1 s mean (a 1 Hz one by 0.3 of its swing); the next swing
            # tells them apart
            self.lone = LoneCycle(start, first_load, hi, dur + first_dur, first_dur)
            return None
        return self._begin_episode(start, 1.0 / (2.0 * max(0.05, 0.5 * (dur + first_dur))), hi)

    def _came_back(self, lone: LoneCycle, amp: float, dur: float) -> bool:
        """Does this third swing end a lone bounce cycle: even with the pair's, as quick as its
        first (both are quarter cycles), within one 1-3 Hz cycle, and back at the load where the
        cycle began (a step or a bend never comes back)?"""
        back = abs(self.ext + self.ext_level - lone.load) <= BACK_SHARE * lone.pp
        mirrored = min(dur, lone.first_dur) >= PACE_SHARE * max(dur, lone.first_dur)
        return amp >= PAIR_SHARE * lone.pp and mirrored and lone.dur + dur <= LONE_CYCLE_S and back

    def _begin_episode(self, start: float, hz: float, pp: float) -> tuple[float, float, float]:
        self.in_episode = True
        self.episodes += 1
        self.masks[-1].bounce = True
        return start, hz, pp  # start of the 2nd swing: the 1st bounce peak

    def _mask(self, lo: float, hi: float) -> None:
        masks = self.masks
        if masks and lo <= masks[-1].hi:
            masks[-1].hi = hi
        else:
            masks.append(QuickSwingSpan(lo, hi))

    def hides_breath(self, t: float) -> bool:
        """Should breath counting hold the load flat at t (non-decreasing between calls)?

        Yes around isolated quick swings: a lurch or fast sway, whose slow part would look like
        a press. No inside a bounce episode: there the 1 s mean and the breath counter's
        cycle-long smoothing already cancel the 1-3 Hz swing, and holding flat would erase the
        in-breath let-off beneath it, merging two presses into one. Forgets masks passed."""
        masks = self.masks
        while masks and masks[0].hi < t:
            del masks[0]
        return bool(masks) and masks[0].lo <= t and not masks[0].bounce
