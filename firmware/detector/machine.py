"""The state machine: HoldDetector, from (t, kg) samples to DESIGN §3 events.

How it sees the step (DESIGN §2):
- Samples pass a glitch filter (isolated wild samples -> missing) and are averaged into ~0.1 s
  blocks; all slower logic runs once per block, so the per-sample cost is a few additions.
- The block logic runs DELAY (2) blocks behind the newest, so a lone spike block that got past
  the filter (a small bit error at 10 Hz) is replaced by its neighbours before any average.
- Per block it keeps the block mean `m`, the 1 s running mean `y` (a boxcar that nulls 1, 2
  and 3 Hz exactly, so bounces do not move it) and `hp = m - centred y` (the 1-3 Hz band).
- empty -> standing when the load passes `on_kg`; the standing level S is learnt when the 1 s
  mean is still, and tracked slowly while it stays within the onset threshold R; the standing
  sway (SD of y, SD of hp, largest slow swing) is measured there too, to set later floors.
- A ramp is followed when y rises R above S (R: `rise_frac` of S, or `rise_sd` standing SDs); when
  its slope dies away (its plateau), the whole rise is judged (`_judge_ramp`; a bounce on the
  plateau is waited out and the rise judged up to its first swing, `_before_bounce`) and only a heel drop
  is announced: stretch_start (back-dated to the ramp's start) with hold_start. A heel drop rises
  >= 0.15 BW to >= 0.6 BW: >= a quarter of S, >= 0.15 of any plateau seen this visit, to >= 0.6 of
  it, and (standing being <= 0.6 BW) >= a quarter of the highest standing this visit, to no lower
  than it (less two standing SDs; only standing reached by stepping on, a release or a shift down
  counts: a level a rejected rise reached may be a stretch missed); its 20-80 % takes at most
  MAX_RISE_S, no 0.3 s jump carries most of it, it does not pause on its way as a row of foot
  shifts does (long pauses, or shorter ones between bursts quicker than one smooth ramp), and,
  unless the rise is bigger than any single shift (0.1 BW: half of S), it is slower than a shift
  (0.3-1 s): 20-80 % in at least `slow_rise_s`; it rises >= SWAY_RISE standing SDs, and at
  least DROP_RISE times the biggest quick fall of the standing this visit (a foot shift down
  shows how big this person's shifts are: the rise after it may be the foot coming back). A
  configured body weight bounds the BW directly (BODY_TRUST of it). Such a
  hold is still told only once it is confirmed: it has lasted CONFIRM_S and a release begun by
  then would show (CONFIRM_LAG); until then its events are held back, a
  "plateau" that falls back is dropped untold, and one that climbs on by more than a breath adds
  resumes the ramp. Anything else (a foot shift, a row of them, a creep of sway) is told nobody
  and only moves S. The release comes when y falls
  below the middle of hold and standing; the stretch ends when the fall settles (at standing, or
  at zero: stepped off). A ramp rising out of a hold (more than a breath can add) means the "hold"
  was standing: that stretch ends there and the new ramp is followed, so a stretch taken from
  standing never swallows the ones after it.
- Times are not the (late) moments of decision: start/end of ramps and releases are found by
  walking back through a ring of recent blocks to the 10/50/90 % crossings and extrapolating,
  so events carry when things happened (clamped so the stream never goes back in time).
  hold_complete is the exception: it is checked on every sample and fires on the first sample
  at or after hold_start + target (unless the newest load shows the release already began).
- Breaths (breaths.py) and bounces (bounces.py) are counted only inside a stretch;
  the breath counter runs 2.5 s behind so that quick swings are known before it reaches them
  and the load can be held flat across them rather than counted as presses. Those live
  `breath` events are causal; the hold's load is also kept at 2 Hz (bounded) and, at the
  release, counted again from the whole hold (recount.py: rises and their rhythm), which is
  the `breaths` of stretch_end, with `breaths_sure` (the presses stood clear of the sway seen
  in the hold and in the standing just before). A breath target completes a hold early only
  on a sure count; otherwise hold_complete comes at target_s.

No I/O, clock, threads or globals: everything is driven by the samples' own t.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from firmware.detector.bounces import BounceWatch
from firmware.detector.breaths import BreathCounter, SwayGauge
from firmware.detector.config import RANGES, DetectorConfig
from firmware.detector.glitch import GlitchFilter
from firmware.detector.recount import FLOOR_SHARE as RECOUNT_FLOOR
from firmware.detector.recount import HoldRecord, PressCount, count_presses
from firmware.events import (
    BOUNCE,
    BREATH,
    HOLD_COMPLETE,
    HOLD_START,
    STEP_OFF,
    STEP_ON,
    STRETCH_END,
    STRETCH_START,
    Event,
)

NAN = math.nan
INF = math.inf
NO_EVENTS: tuple[Event, ...] = ()

BLOCK_S = 0.1       # target block length
WINDOW = 10         # blocks in the running mean (1 s)
RING = 1024         # blocks of history kept for back-dating (~100 s)
MASK = RING - 1
BREATH_LAG = 25     # blocks the breath counter runs behind (so bounces are known first)
STAND_POINTS = 40   # standing kept before a stretch, at 2 Hz (20 s): the sway the hold is judged against
DELAY = 2           # blocks the state machine runs behind the newest (spike check needs both sides)
MAX_RISE_S = 4.0    # a heel drop's 20-80 % rise takes 0.41 x its 1-4 s ramp: 1.64 s; real sway on it
                    # can double that; a creep slower still is sway over a stale standing level
RAMP_WINDOW = 25    # blocks (2.5 s): a 1-4 s ramp gains >= 0.8 of its rise in that long, >= 0.2
NEW_RAMP_SHARE = 0.2  # of a standing of <= 0.6 BW; a breath's press <= 0.1 of a plateau (<= 0.06
                      # BW, one press per >= 3 s cycle), twice that with sway and a bounce's rest
STAND_RISE = 0.25   # a stretch rises >= 0.15 BW, >= 0.25 of a standing of <= 0.6 BW ...
STRETCH_RISE = 0.15  # ... and >= 0.15 of any plateau seen (<= 1.0 BW) ...
STRETCH_TOP = 0.6   # ... to a plateau >= 0.6 BW, >= 0.6 of any plateau seen
STAND_TOP = 0.6     # standing is <= 0.6 BW: the visit's highest standing bounds the BW from below
STALL_SHARE = 0.45  # a row of foot shifts pauses between its steps longer than this share of
                    # the rise's 10-90 % time (a heel drop under real sway: <= 0.42) ...
MIN_STALL_S = 0.4   # ... and this long (real sway can stall a heel drop ~0.8 s in a 2 s ramp)
SHIFT_QUICK_S = 0.25  # 20-80 % time under which even a big rise is a jump, not a heel drop
SHIFT_SHARE = 0.5   # a foot shift moves the level at most 0.1 BW, half a standing of >= 0.2 BW
BODY_TRUST = 0.8    # a configured body weight bounds the BW from below at this share of it (the
                    # owner's weight drifts; a somewhat lighter person may use the step too)
SHIFT_FALL_S = 0.35  # a fall of the standing level this quick (20-80 %) was a foot shift (0.3-1 s:
                    # <= 0.41 s), not a release (1-4 s: >= 0.41 s) of a stretch the detector missed
DROP_RISE = 1.5     # a rise < this x the biggest shift seen is a shift (>= 0.15 BW vs <= 0.1 BW)
MAX_JUMP_SHARE = 0.6  # a heel drop gains at most ~45 % of its rise in any 0.3 s (1 s ramp)
RAMP_PACE = 0.28    # share of its rise one smooth ramp gains in its steepest 0.3 s, per 1 s of its
                    # 10-90 % time (raised cosine 0.278, minimum jerk 0.283): x 1/t1090
STEP_PACE = 2.4     # a rise whose steepest 0.3 s gains more than this many times that, and that
STEP_STALL = 0.25   # pauses for this share of its 10-90 % time (a smooth ramp: ~0.15 at its slow
                    # ends) and >= MIN_STALL_S, moved in quick steps between flats: a row of foot
                    # shifts. A heel drop slowed by sway pauses where it is slow, not between bursts
                    # (on the tuning sets heel drops reach 2.5 x without such a pause; with one, 2
                    # of ~5700 pass 2.4 x, and 1.9 x would lose 14: rows with flats <= 0.7 s are
                    # as smooth as a ramp and stay unseen)
SWAY_RISE = 7.5     # a stretch rises >= 0.15 BW; standing sway's SD is <= 2 % BW even for older
                    # adults (2-7 % BW peak to peak in the breathing band): >= 7.5 standing SDs
BOUNCE_SIDE = 0.04  # a bounce (>= 5 % BW peak to peak) swings >= 2.5 % BW each side of the hold
                    # level, >= 0.04 of a load of >= 0.6 BW; a ramp's end moves it one way only
SWING_BLOCKS = 6    # blocks (0.6 s) in which a 1-3 Hz swing shows both its sides
BOUNCE_WAIT_S = 9.0  # a bounce lasts <= 8 cycles at >= 1 Hz: the ramp's judgement waits no longer
UNSETTLED = 0.1     # x plateau, more than a breath adds (<= 0.06 BW of a >= 0.6 BW plateau)
CONFIRM_S = 2.5     # a hold lasts longer than this (a breath cycle is >= 3 s: 4 s less 25 %); a
                    # "plateau" that falls back sooner was a sway excursion or a shift and back
CONFIRM_LAG = 2.5   # s after that, a release (1-4 s) begun by then shows: the 1 s mean (0.5 s late) is
                    # halfway down a 4 s fall

EMPTY, STANDING, STRETCHING, HOLDING = 0, 1, 2, 3
STATE_NAMES = ("empty", "standing", "stretching", "holding")

class HoldDetector:
    """feed(t, kg) -> events. See the module docstring for the model."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = cfg = config or DetectorConfig()
        self._filter = GlitchFilter() if cfg.reject_glitches else None
        self._target_s = cfg.target_s
        self._target_breaths = cfg.target_breaths
        # per-sample block accumulator
        self._per_block = max(1, round(BLOCK_S * cfg.rate_hz)) if cfg.rate_hz else 9
        self._rate_known = cfg.rate_hz is not None
        self._bn = 0
        self._bcnt = 0
        self._bsum = 0.0
        self._bt0 = 0.0
        self._t_last = -INF
        self._due = INF
        self._pending: list[Event] = []
        self._last_emit_t = -INF
        # block ring
        self._ts = [0.0] * RING
        self._raw = [0.0] * RING    # block means as they came
        self._ms = [0.0] * RING     # block means with lone spikes replaced (DELAY blocks behind)
        self._ys = [0.0] * RING
        self._i = -1                # newest block
        self._c = -DELAY - 1        # block the state machine is at (DELAY behind)
        self._i_first = 0
        self._msum = 0.0
        # state
        self._state = EMPTY
        self._zero = 0.0
        self._count = 0           # persistence counter for the current state's test
        self._off_count = 0       # blocks near zero while on the step
        self._stand = NAN         # S
        self._learning = False
        self._var_y = 0.0
        self._var_hp = 0.0
        self._sway = SwayGauge()
        self._stand_rec = HoldRecord(keep=STAND_POINTS)
        self._hold_rec = HoldRecord()
        self._stand_x: tuple[float, ...] = ()  # the standing just before this stretch, at 2 Hz
        self._plateau_seen = 0.0  # highest hold plateau this visit (0: none yet); bounds the BW
        self._stand_seen = 0.0    # highest settled standing this visit; bounds the BW too
        self._shift_seen = 0.0    # biggest quick fall of the standing this visit: a shift's size
        self._released_t = -INF   # when the last release was seen to settle (standing again)
        self._stand_trusted = False  # the standing was reached by stepping on, a release or a
        # shift down, not by a rise judged no heel drop (that may have been a stretch missed)
        self.last_count: PressCount | None = None  # the last hold's recount (benchmarks look inside)
        # ... and what it was counted from, as count_presses' arguments (bench/recount.py replays it)
        self.last_hold: tuple[list[float], list[float], float, float, tuple[float, ...]] | None = None
        self._reset_stretch()
        self._last_summary: dict[str, Any] | None = None

    def _reset_stretch(self) -> None:
        self._due = INF
        self._start = NAN
        self._hold_start = NAN
        self._onset_t = NAN
        self._plateau = NAN
        self._slope_max = 0.0
        self._releasing = False
        self._rel_i = 0
        self._hold_i = 0          # block where the hold began
        self._completed = False
        self._breaths: BreathCounter | None = None
        self._bounce: BounceWatch | None = None
        self._breath_j = 0
        self._breath_y = 0.0
        self._hold_rec.clear()
        self._peak = -INF
        self._n_bounces = 0
        self._held: list[tuple[str, float, dict[str, Any]]] = []  # events of a ramp not yet announced
        self._bounce_i = -1        # first block of a bounce seen on the ramp's plateau (-1: none)
        self._unconfirmed = False  # holding, but not yet for CONFIRM_S: its events are held back
        self._hold_target_s = self._target_s
        self._hold_target_breaths = self._target_breaths

    # ------------------------------------------------------------------ public interface
    @property
    def state(self) -> str:
        if self._state == STRETCHING or (self._state == HOLDING and (self._releasing or self._unconfirmed)):
            return "stretching"
        return STATE_NAMES[self._state]

    def set_target(self, seconds: float, breaths: int = 0) -> None:
        """Target for the next hold (a hold under way keeps the target it started with)."""
        lo, hi = RANGES["target_s"]
        if not (isinstance(seconds, int | float) and lo <= seconds <= hi):
            raise ValueError(f"target seconds={seconds!r} is out of range; allowed {lo:g} to {hi:g}")
        if not (isinstance(breaths, int) and 0 <= breaths <= 50):
            raise ValueError(f"target breaths={breaths!r} is out of range; allowed 0 to 50")
        self._target_s = float(seconds)
        self._target_breaths = breaths

    def status(self) -> dict[str, Any]:
        holding = self._state == HOLDING and not self._unconfirmed
        hold_s = max(0.0, self._t_last - self._hold_start) if holding else 0.0
        return {
            "state": self.state,
            "hold_s": round(hold_s, 2),
            "breaths": self._breaths.count if self._breaths is not None and holding else 0,
            "bounces": self._n_bounces if self._state in (STRETCHING, HOLDING) else 0,
            "standing_kg": None if self._stand != self._stand else round(self._stand, 2),
            "stretch_start": None if self._start != self._start else round(self._start, 3),
        }

    def feed(self, t: float, kg: float) -> Sequence[Event]:
        """One sample (kg NaN = missing). Returns the events it completed, usually none."""
        if not t >= self._t_last or t == INF:
            return NO_EVENTS  # NaN or backwards time: ignored
        self._t_last = t
        if self._filter is not None:
            kg = self._filter.feed(t, kg)
        elif kg - kg != 0.0:
            kg = NAN
        n = self._bn
        if n == 0:
            self._bt0 = t
        self._bn = n + 1
        if kg == kg:
            self._bsum += kg
            self._bcnt += 1
        if t >= self._due:
            self._hold_complete(t)
        if n + 1 >= self._per_block:
            self._close_block(t)
        if self._pending:
            out, self._pending = self._pending, []
            return out
        return NO_EVENTS

    def finish(self) -> Sequence[Event]:
        """End of input: close an open stretch (stretch_end) and step (step_off)."""
        t = self._t_last
        if t == -INF:
            return NO_EVENTS
        if self._state == STRETCHING or self._unconfirmed:
            self._not_a_stretch(relearn=False)  # a ramp or a hold never announced stays untold
        if self._state == HOLDING:
            self._flush_breaths(t)
            self._end_stretch(t, t)
            self._state = STANDING
        if self._state == STANDING:
            self._emit(STEP_OFF, t, {})
            self._state = EMPTY
        out, self._pending = self._pending, []
        return out

    # ------------------------------------------------------------------ events
    def _emit(self, kind: str, t: float, data: dict[str, Any]) -> None:
        if self._unconfirmed:
            self._held.append((kind, t, data))  # told only once the hold is confirmed
            return
        # Events never go back in time: a back-dated one is clamped to the last one emitted.
        if t < self._last_emit_t:
            t = self._last_emit_t
        self._last_emit_t = t
        self._pending.append(Event(kind, round(t, 4), data))

    def _hold_complete(self, t: float) -> None:
        if self._state != HOLDING or self._releasing or self._completed:
            self._due = INF
            return
        top, s = self._plateau, self._stand
        if self._raw[self._i & MASK] < s + 0.6 * (top - s):
            return  # the newest load is well down: a release under way (or a bounce's dip); wait
        if self._unconfirmed:
            self._confirm()  # a target shorter than the wait: the cue does not wait, the hold is told
        self._due = INF
        self._completed = True
        breaths = self._breaths.count if self._breaths is not None else 0
        self._emit(HOLD_COMPLETE, t, {"hold_s": round(t - self._hold_start, 3), "breaths": breaths})

    # ------------------------------------------------------------------ blocks
    def _close_block(self, t: float) -> None:
        n_valid = self._bcnt
        t_mid = 0.5 * (self._bt0 + t)
        if not self._rate_known:
            spacing = (t - self._bt0) / max(1, self._bn - 1)
            self._per_block = max(1, min(64, round(BLOCK_S / spacing))) if spacing > 0 else 1
            self._rate_known = True
        self._bn = 0
        if n_valid == 0:
            return  # nothing believable in this block: hold everything as it was
        m = self._bsum / n_valid
        self._bsum = 0.0
        self._bcnt = 0
        i = self._i + 1
        raw, ms = self._raw, self._ms
        if i == 0:
            for k in range(RING):
                raw[k] = ms[k] = m
            self._msum = m * WINDOW
        self._i = i
        raw[i & MASK] = m
        self._ts[i & MASK] = t_mid
        # Everything below runs DELAY blocks late, on block c, so that a lone spike at c can be
        # told from its neighbours (both sides) and replaced before it enters any average.
        c = i - DELAY
        if c < 0:
            return
        k = c & MASK
        m = self._despiked(c)
        self._msum += m - ms[(c - WINDOW) & MASK]
        ms[k] = m
        if c & 4095 == 0:
            self._msum = sum(ms[(c - j) & MASK] for j in range(WINDOW))
        y = self._msum / WINDOW
        self._ys[k] = y
        self._c = c
        t = self._ts[k]
        state = self._state
        if state == EMPTY:
            self._on_empty(t, m, c)
        elif state == STANDING:
            self._on_standing(t, m, y, ms[(c - 5) & MASK] - y, c)
        else:
            self._on_stretch(t, m, y, ms[(c - 5) & MASK] - y, c)

    def _despiked(self, c: int) -> float:
        """Raw block mean c, or its neighbours' mean if it is a lone spike (a glitch the filter
        let through, e.g. a 6 kg bit error on a 60 kg hold at 10 Hz): far from both neighbours,
        which agree with each other and with theirs. A bounce sampled at 10 Hz never has such
        quiet neighbours; a step change has neighbours that disagree."""
        raw = self._raw
        b, x, d = raw[(c - 1) & MASK], raw[c & MASK], raw[(c + 1) & MASK]
        mid = 0.5 * (b + d)
        jump = x - mid if x > mid else mid - x
        if jump < 0.8:
            return x
        # How straight the neighbours run without c (a ramp is straight, a bounce is not).
        a, e = raw[(c - 2) & MASK], raw[(c + 2) & MASK]
        calm = max(abs(b - (2.0 * a + d) / 3.0), abs(d - (b + 2.0 * e) / 3.0), 0.2)
        return mid if jump > 4.0 * calm else x

    # ------------------------------------------------------------------ back-dating helpers
    def _cross_back(self, i: int, level: float, above: bool) -> tuple[float, int]:
        """When the block means last crossed `level` before block i, walking back over blocks
        that are above (above=True) or below it. Interpolated time, and the index walked to."""
        ms, ts = self._ms, self._ts
        lo = max(self._i_first, i - RING + WINDOW)
        j = i
        if above:
            while j > lo and ms[j & MASK] >= level:
                j -= 1
        else:
            while j > lo and ms[j & MASK] <= level:
                j -= 1
        if j >= i:
            return ts[i & MASK], i
        a, b = ms[j & MASK], ms[(j + 1) & MASK]
        ta, tb = ts[j & MASK], ts[(j + 1) & MASK]
        frac = (level - a) / (b - a) if b != a else 1.0
        frac = 0.0 if frac < 0.0 else 1.0 if frac > 1.0 else frac
        return ta + frac * (tb - ta), j

    def _rise_start(self, i: int, base: float, top: float) -> float:
        """Start of a rise base -> top: the 10 % crossing extrapolated back along 10 -> 50 %."""
        t10, _ = self._cross_back(i, base + 0.1 * (top - base), True)
        t50, _ = self._cross_back(i, base + 0.5 * (top - base), True)
        return t10 - 0.5 * (t50 - t10)

    def _fall_times(self, i: int, top: float, base: float) -> tuple[float, float]:
        """Start and end of a fall top -> base ending before block i (10/50/90 % crossings)."""
        t90, _ = self._cross_back(i, base + 0.1 * (top - base), False)
        t50, j50 = self._cross_back(i, base + 0.5 * (top - base), False)
        t10, _ = self._cross_back(j50, top - 0.1 * (top - base), False)
        return t10 - 0.5 * (t50 - t10), min(self._ts[i & MASK], t90 + 0.5 * (t90 - t50))

    def _largest_jump(self, j: int, i: int) -> float:
        """The biggest rise of the block means over 0.3 s between blocks j and i: a foot shift
        makes nearly all of its change at once, a heel drop spreads it over 1-4 s."""
        ms = self._ms
        best = 0.0
        for k in range(max(j, i - 200), i - 2):
            jump = ms[(k + 3) & MASK] - ms[k & MASK]
            if jump > best:
                best = jump
        return best

    def _mean_m(self, i: int, n: int) -> float:
        ms = self._ms
        return sum(ms[(i - j) & MASK] for j in range(n)) / n

    # ------------------------------------------------------------------ states
    def _on_empty(self, t: float, m: float, i: int) -> None:
        on_kg = self.config.on_kg
        d = m - self._zero
        if d >= on_kg:
            self._count += 1
            if self._count >= 3:
                self._count = 0
                self._emit(STEP_ON, self._rise_start(i, self._zero, m), {})
                self._plateau_seen = self._stand_seen = self._shift_seen = 0.0  # perhaps someone else
                self._stand_trusted = True
                self._state = STANDING
                self._learning = True
                self._stand = NAN
            return
        self._count = 0
        if -on_kg < d < 0.5 * on_kg:
            self._zero += 0.02 * d  # follow the empty cell's slow drift

    def _stepped_off(self, t: float, m: float, i: int) -> bool:
        if m - self._zero >= 0.5 * self.config.on_kg:
            self._off_count = 0
            return False
        self._off_count += 1
        if self._off_count < 2:
            return False
        self._off_count = 0
        top = self._stand if self._stand == self._stand else self._ys[(i - 3) & MASK]
        _, end = self._fall_times(i, top, self._zero)
        self._emit(STEP_OFF, end, {})
        self._state = EMPTY
        self._stand = NAN
        return True

    def _flat(self, i: int, y: float) -> bool:
        """Has the 1 s mean been still over the last 0.5 s (sway-sized changes only)?"""
        ys = self._ys
        lo = hi = y
        for j in range(1, 6):
            v = ys[(i - j) & MASK]
            if v < lo:
                lo = v
            elif v > hi:
                hi = v
        return hi - lo <= 0.02 * abs(y) + 0.3 + 3.0 * math.sqrt(self._var_y)

    def _rise_threshold(self) -> float:
        cfg = self.config
        scale = 0.45 * cfg.body_kg if cfg.body_kg else self._stand - self._zero
        return max(cfg.rise_frac * scale, min(cfg.rise_sd * math.sqrt(self._var_y), 0.25 * scale), 1.0)

    def _on_standing(self, t: float, m: float, y: float, hp: float, i: int) -> None:
        if self._stepped_off(t, m, i):
            return
        if self._learning:
            if self._flat(i, y) and i - self._i_first >= WINDOW:
                self._stand = y
                if self._var_y == 0.0:
                    self._var_y = (0.01 * y) ** 2
                    self._var_hp = (0.005 * y) ** 2
                self._learning = False
                self._count = 0
            return
        s = self._stand
        d = y - s
        r = self._rise_threshold()
        if -r <= d <= r:
            self._sway.hyst = 0.003 * s + 0.05
            self._sway.feed(t, y)
            self._stand_rec.feed(t, y)
            if -0.5 * r <= d <= 0.5 * r:  # quiet: learn the level and how much it sways
                self._count = 0
                self._stand = s + 0.03 * d
                if self._stand_trusted and self._stand - self._zero > self._stand_seen:
                    self._stand_seen = self._stand - self._zero
                # Sway: the change of the 1 s mean over 1 s (blind to S lagging a slow drift).
                dy = y - self._ys[(i - WINDOW) & MASK]
                cap = 0.075 * (s - self._zero)  # a bound that does not feed back through r
                self._var_y += 0.01 * (min(0.5 * dy * dy, cap * cap) - self._var_y)
                self._var_hp += 0.01 * (min(hp * hp, 0.25 * r * r) - self._var_hp)
                return
            # Off the level but within the threshold: a small foot shift? Relearn once settled.
            self._count = min(self._count, 0) - 1
            if self._count <= -20 and self._flat(i, y):
                if y < s:
                    self._note_drop(i, s)
                self._stand = y
                self._count = 0
            return
        self._sway.pause()
        if d < -r or m < s - 2.0 * r:
            self._count = min(self._count, 0) - 1
            if self._count <= -10:  # lower for a second: a foot shift down; learn the new level
                self._note_drop(i, s)
                self._learning = True
                self._stand_trusted = True  # standing whatever the level above it was
                self._stand_rec.clear()
            return
        self._count = max(self._count, 0) + 1
        if self._count < 5:
            return
        if self._mean_m(i, 3) - s >= r:
            self._begin_stretch(t, i, s)

    def _note_drop(self, i: int, s: float) -> None:
        """A fall of the standing level from s, settled by block i: if quick (a foot shift's
        0.3-1 s, not a slow lean), it shows how big this person's foot shifts are, less what
        sway alone moves a level. A later rise no bigger than DROP_RISE times that is the
        foot coming back, or another shift (`_judge_ramp`): a heel drop rises >= 0.15 BW, a
        shift <= 0.1 BW. Not a fall that began within the 1 s mean's lag of a release seen to
        settle: the release's own tail, which the standing level taken then (a 1 s mean, still
        falling) missed; counted as a shift, it would bar the stretches after it. (Quick falls
        from a level a rise judged no heel drop reached count: in walking standing most levels
        are, and a release of a stretch missed takes >= 1 s, slower than SHIFT_FALL_S.)"""
        size = s - self._mean_m(i, 3)
        if size <= 0.0:
            return
        t20, _ = self._cross_back(i, s - 0.2 * size, False)
        t80, _ = self._cross_back(i, s - 0.8 * size, False)
        if t80 - t20 <= SHIFT_FALL_S and t20 > self._released_t + WINDOW * BLOCK_S:
            self._shift_seen = max(self._shift_seen, size - 2.0 * math.sqrt(self._var_y))

    def _begin_stretch(self, t: float, i: int, s: float) -> None:
        """A rise like a stretch's onset: follow it as a ramp; it is announced (stretch_start,
        back-dated) only when its plateau shows it was a heel drop (`_judge_ramp`)."""
        self._reset_stretch()
        rec = self._stand_rec
        self._stand_x = tuple(rec.x)
        self._state = STRETCHING
        self._onset_t = t
        level = self._mean_m(i, 3)
        self._start = self._rise_start(i, s, level)
        min_amp = max(self.config.bounce_frac * level, self.config.bounce_sd * math.sqrt(self._var_hp), 0.4)
        # a quick swing of the 1-3 Hz band spans about 2.5 of its SDs peak to peak
        self._bounce = BounceWatch(min_amp, quick_sway=2.5 * math.sqrt(self._var_hp))

    def _on_stretch(self, t: float, m: float, y: float, hp: float, i: int) -> None:
        if m > self._peak:
            self._peak = m
        s = self._stand
        if self._releasing:
            self._on_release(t, y, i)
            return
        self._watch_bounce(hp, y, i)
        if self._state == STRETCHING:
            self._on_ramp(t, y, i, s)
            if self._state != HOLDING:
                return
        self._feed_breaths(i - BREATH_LAG)
        top = self._plateau
        if self._unconfirmed:
            if y - top > UNSETTLED * (top - self._zero) + 0.25 * (top - s) + 2.0 * math.sqrt(self._var_y):
                self._resume_ramp(t)  # more than a breath adds: that was a pause on the way up
                return
            if t >= self._hold_start + CONFIRM_S + CONFIRM_LAG:
                self._confirm()
        before = self._ys[(i - RAMP_WINDOW) & MASK]
        if y - before >= NEW_RAMP_SHARE * (top - self._zero) and i - self._hold_i >= 2 * RAMP_WINDOW:
            self._restart_from(t, i, before)  # the "hold" was standing: a stretch rises from it
            return
        if y < s + self.config.release_frac * (top - s) or m - self._zero < 0.5 * self.config.on_kg:
            self._count += 1
            if self._count >= 2:
                self._releasing = True
                self._rel_i = i - 1
                self._count = 0
        else:
            self._count = 0

    def _on_ramp(self, t: float, y: float, i: int, s: float) -> None:
        slope = y - self._ys[(i - 3) & MASK]
        if slope > self._slope_max:
            self._slope_max = slope
        if y < s + 0.5 * self._rise_threshold() and t - self._onset_t > 0.5:
            self._not_a_stretch(relearn=False)  # fell back before any plateau: sway, not a ramp
            return
        if slope > 0.25 * self._slope_max and t - self._onset_t < 6.0:
            return
        end = self._before_bounce(t, y, i)
        if end < 0:
            return  # the load swings about its plateau: a bounce under way; judged once it is over
        top = self._mean_m(end, 3)
        if self._judge_ramp(end, s, top) is not None:
            self._not_a_stretch(relearn=True)
            return
        self._plateau = top
        t50, _ = self._cross_back(end, s + 0.5 * (top - s), True)
        t90, _ = self._cross_back(end, s + 0.9 * (top - s), True)
        hold_start = min(t, t90 + 0.5 * (t90 - t50))
        t10, _ = self._cross_back(end, s + 0.1 * (top - s), True)
        self._start = min(self._start, t10 - 0.5 * (t50 - t10)) if t10 < hold_start else self._start
        self._stand_rec.clear()  # (its standing is in _stand_x)
        # Announced (stretch_start, the bounces of the ramp, hold_start, ...) only once the hold
        # has lasted CONFIRM_S: until then its events are held back (`_emit`).
        self._held.insert(0, (STRETCH_START, self._start, {}))
        self._unconfirmed = True
        self._hold_start = hold_start
        self._hold_i = i
        self._state = HOLDING
        self._count = 0
        self._emit(HOLD_START, hold_start, {})
        self._held.sort(key=lambda e: e[1])  # (stable) a bounce judged through comes after hold_start
        self._due = hold_start + self._hold_target_s
        cfg = self.config
        floor_rise = max(cfg.breath_floor_frac * top, cfg.breath_floor_sway * self._sway.swing, 0.2)
        self._breaths = BreathCounter(floor_rise, max(cfg.breath_hyst_frac * top, 0.02),
                                      min_gap_s=cfg.breath_gap_s, cycle_s=cfg.breath_cycle_s,
                                      smooth_share=cfg.breath_smooth_share)
        if self._bounce is not None:
            self._bounce.min_amp = max(self._bounce.min_amp, cfg.bounce_frac * top)
        j = i
        while j > self._i_first and self._ts[(j - 1) & MASK] - 0.45 >= hold_start + 0.5:
            j -= 1
        self._breath_j = j
        self._breath_y = top

    def _before_bounce(self, t: float, y: float, i: int) -> int:
        """The block the ramp is judged up to: i, or the last before a bounce that began on its
        plateau; -1 while that bounce (or a quick swing) is still under way.

        A bounce is a 1-3 Hz oscillation about the hold level (DESIGN §2), often right as the
        hold begins. Judged through it, its swings pass for the plateau (its peak or its trough
        as `top`) and for the ramp's last crossings (a trough below 80 % ends the walk back), so
        a heel drop reads as too small, stalled or quick. So while the block means of the last
        SWING_BLOCKS swing to both sides of the 1 s mean by more than a bounce's smallest
        amplitude (>= 2.5 % BW: >= BOUNCE_SIDE of a >= 0.6 BW load, and more than standing sway
        moves a level), or moved by its smallest peak to peak (twice that) in the last 0.3 s (a
        half cycle), the judgement waits (<= BOUNCE_WAIT_S: 8 cycles at >= 1 Hz). Once swings
        both ways were seen, the ramp is then judged up to their first, if its plateau was
        reached by then; a lone quick move only delays the judgement (real sway makes those on a
        shift's level, and judged up to one a shift can read as a heel drop). A breath press, a
        shift or a release moves the load one way only, and slower."""
        ms = self._ms
        # a bounce's least swing, and more than the standing sway moves a level (as `_judge_ramp`)
        tol = max(BOUNCE_SIDE * (y - self._zero), 2.0 * math.sqrt(self._var_y))
        hi = lo = 0.0
        for k in range(i - SWING_BLOCKS + 1, i + 1):
            d = ms[k & MASK] - y
            hi, lo = max(hi, d), min(lo, d)
        swinging = hi > tol and -lo > tol
        if swinging and self._bounce_i < 0:
            self._bounce_i = self._swing_start(i, y, tol)
        b0 = self._bounce_i
        waited = t - (self._ts[b0 & MASK] if b0 >= 0 else self._onset_t) >= BOUNCE_WAIT_S
        if not waited and (swinging or abs(ms[i & MASK] - ms[(i - 3) & MASK]) > 2.0 * tol):
            return -1
        if b0 >= 0 and self._mean_m(b0 - 1, 3) >= y - tol:
            return b0 - 1  # the plateau was reached before the bounce began: judge up to it
        return i

    def _swing_start(self, i: int, y: float, tol: float) -> int:
        """Where the swings seen by block i began: after the last 0.3 s before it whose block
        means stayed within half of tol of each other and within tol of the 1 s mean y (the
        plateau they swing about, not a swing's flat peak); -1 if there is none in 1.5 s."""
        ms = self._ms
        for k in range(i - 1, i - 15, -1):
            a, b, c = ms[k & MASK], ms[(k - 1) & MASK], ms[(k - 2) & MASK]
            if max(a, b, c) - min(a, b, c) <= 0.5 * tol and abs(a + b + c - 3.0 * y) <= 3.0 * tol:
                return k + 1
        return -1

    def _confirm(self) -> None:
        """The hold has lasted CONFIRM_S: tell what was held back (back-dated as it was), and
        hold_complete becomes due."""
        self._unconfirmed = False
        self._plateau_seen = max(self._plateau_seen, self._plateau - self._zero)  # a plateau is >= 0.6 BW
        held, self._held = self._held, []
        for kind, at, data in held:
            self._emit(kind, at, data)

    def _resume_ramp(self, t: float) -> None:
        """The level climbed on from the "plateau" by more than a breath can add before the hold
        was confirmed: it was a pause on the way up (a row of shifts, or a ramp slowed by sway).
        Nothing was told; the rise is followed on and judged whole at its next plateau."""
        self._unconfirmed = False
        self._held = [e for e in self._held if e[0] == BOUNCE]
        self._state = STRETCHING
        self._onset_t = t
        self._bounce_i = -1
        self._plateau = self._hold_start = NAN
        self._breaths = None
        self._hold_rec.clear()

    def _restart_from(self, t: float, i: int, level: float) -> None:
        """A stretch's ramp rising out of a hold: no breath can (a press adds <= 0.06 BW, <= 0.1
        of a plateau), so the level held was standing after all. That stretch ends where the
        ramp began, and the ramp is followed from the level held."""
        begun, _ = self._cross_back(i, level + 0.1 * (self._ys[i & MASK] - level), True)
        self._flush_breaths(begun)
        self._end_stretch(begun, begun)
        self._state = STANDING
        self._stand = level
        self._learning = False
        self._stand_trusted = False
        self._begin_stretch(t, i, level)

    def _not_a_stretch(self, relearn: bool) -> None:
        """The rise was no heel drop (a foot shift, a row of them, sway) and nothing of it was
        announced: standing again, at the new level once it settles (`relearn`) or the old."""
        self._reset_stretch()
        self._state = STANDING
        self._count = 0
        if relearn:
            self._learning = True
            self._stand_trusted = False
            self._stand_rec.clear()

    def _judge_ramp(self, i: int, s: float, top: float) -> str | None:
        """Why the rise s -> top (its plateau reached by block i) is no heel drop, or None.

        DESIGN §2 without the body weight: a stretch rises >= 0.15 BW to a plateau >= 0.6 BW;
        the standing before it (<= 0.6 BW) and the plateaus seen this visit (<= 1.0 BW) bound
        the BW from below, less the sway the levels were taken through. The ramp is one rise of
        1-4 s; a foot shift (up to 0.1 BW in 0.3-1 s) is quicker, and a row of them pauses
        between its steps. A configured body weight bounds the BW too (BODY_TRUST of it): then
        a shift of <= 0.1 BW, however slow, rises less than a stretch must."""
        zero, rise = self._zero, top - s
        # BW >= the plateaus seen (<= 1.0 BW) and >= the standing seen / 0.6 (<= 0.6 BW): a rise
        # that ends below a level this person stood at, or gains less than 0.15 of that BW,
        # is sway or a shift back up
        given = BODY_TRUST * (self.config.body_kg or 0.0)
        bw_lo = max(self._plateau_seen, self._stand_seen / STAND_TOP, given)
        sd = 2.0 * math.sqrt(self._var_y)  # how far sway alone moves a level taken as standing
        t10, j10 = self._cross_back(i, s + 0.1 * rise, True)
        t20, _ = self._cross_back(i, s + 0.2 * rise, True)
        t80, _ = self._cross_back(i, s + 0.8 * rise, True)
        t90, _ = self._cross_back(i, s + 0.9 * rise, True)
        j90 = j10  # where the ramp first reached 90 %: what follows is the hold (and its bounces)
        while j90 < i and self._ms[j90 & MASK] < s + 0.9 * rise:
            j90 += 1
        # a foot shift moves <= 0.1 BW: <= half a standing of >= 0.2 BW, <= a sixth of a plateau
        # of >= 0.6 BW, and <= 0.1 of the heaviest user the step is built for
        biggest_shift = min(SHIFT_SHARE * (s - zero), 0.1 * (self.config.body_kg or self.config.heaviest_kg))
        if self._plateau_seen:
            biggest_shift = min(biggest_shift, self._plateau_seen / 6.0)
        quick = SHIFT_QUICK_S if rise >= biggest_shift + sd else self.config.slow_rise_s
        if rise < max(STAND_RISE * (s - zero), STRETCH_RISE * bw_lo) - sd:
            return "rise"
        if rise < SWAY_RISE * math.sqrt(self._var_y):
            return "sway"
        if rise < DROP_RISE * self._shift_seen:
            return "shift"
        if top - zero < STRETCH_TOP * bw_lo - sd:
            return "plateau"
        if not quick <= t80 - t20 <= MAX_RISE_S:
            return "speed"
        steepest = self._largest_jump(j10, j90 + 3) / rise  # share of the rise in its steepest 0.3 s
        if steepest > MAX_JUMP_SHARE:
            return "jump"
        (stall, between), t1090 = self._longest_stalls(j10, j90, s, rise), t90 - t10
        if stall > max(STALL_SHARE * t1090, MIN_STALL_S):
            return "stall"
        if between >= max(STEP_STALL * t1090, MIN_STALL_S) and steepest * t1090 > STEP_PACE * RAMP_PACE:
            return "steps"
        return None

    def _longest_stalls(self, j: int, i: int, s: float, rise: float) -> tuple[float, float]:
        """The longest times the block means between blocks j and i stayed within a tenth of the
        rise, starting 15-85 % of the way up (a heel drop does not pause on its way), and
        starting 15-65 % (a pause with a quarter of the rise still to come after it: between
        the steps of a row, not a ramp easing into a plateau that creeps on)."""
        ms, ts = self._ms, self._ts
        lo_v, mid_v, hi_v, band = s + 0.15 * rise, s + 0.65 * rise, s + 0.85 * rise, 0.1 * rise
        best = best_mid = 0.0
        for a in range(max(j, i - 80), i):
            va = ms[a & MASK]
            if not lo_v <= va <= hi_v:
                continue
            lo = hi = va
            b = a
            while b < i:
                v = ms[(b + 1) & MASK]
                lo, hi = min(lo, v), max(hi, v)
                if hi - lo > band:
                    break
                b += 1
            held = ts[b & MASK] - ts[a & MASK]
            if held > best:
                best = held
            if va <= mid_v and held > best_mid:
                best_mid = held
        return best, best_mid

    def _watch_bounce(self, hp: float, y: float, i: int) -> None:
        watch = self._bounce
        if watch is None:
            return
        found = watch.feed(self._ts[(i - 5) & MASK], hp, y)
        if found is not None:
            start, hz, pp = found
            self._n_bounces += 1
            data = {"hz": round(hz, 2), "pp_kg": round(pp, 2)}
            if self._state == STRETCHING:
                self._held.append((BOUNCE, max(start, self._start), data))  # until announced
            else:
                self._emit(BOUNCE, max(start, self._start), data)

    def _feed_breaths(self, upto: int, until_t: float = INF) -> None:
        counter = self._breaths
        if counter is None:
            return
        ts, ys, watch = self._ts, self._ys, self._bounce
        j = self._breath_j
        while j <= upto:
            tc = ts[j & MASK] - 0.45  # y is the mean of the last second: centred 0.45 s back
            if tc > until_t:
                break
            j += 1
            if not (watch is not None and watch.hides_breath(tc)):
                self._breath_y = ys[(j - 1) & MASK]
            self._hold_rec.feed(tc, ys[(j - 1) & MASK])  # the hold-wide count sees every swing
            found = counter.feed(tc, self._breath_y)  # held flat across isolated quick swings
            if found is not None:
                self._breath_found(*found)
        self._breath_j = j

    def _breath_found(self, peak_t: float, peak_y: float) -> None:
        counter = self._breaths
        assert counter is not None
        self._emit(BREATH, peak_t, {"n": counter.count, "kg": round(peak_y, 2), "peak_t": round(peak_t, 3)})
        target = self._hold_target_breaths
        if target and counter.count >= target and not self._completed and not self._releasing:
            # The breath target completes the hold only on a count the whole hold so far bears
            # out, and surely; otherwise hold_complete waits for target_s (it is due anyway).
            so_far = self._recount()
            if so_far.sure and so_far.count >= target:
                self._hold_complete(self._t_last)

    def _flush_breaths(self, release_t: float) -> None:
        self._feed_breaths(self._c, release_t - 0.7)  # y there holds no sample of the release
        if self._breaths is not None:
            found = self._breaths.finish(release_t)
            if found is not None:
                self._breath_found(*found)

    def _on_release(self, t: float, y: float, i: int) -> None:
        top = self._plateau
        s = self._stand
        if y > top - 0.25 * (top - s):
            self._releasing = False  # came back up: it was a dip, not a release
            return
        settled = self._flat(i, y) and i - self._rel_i >= 5
        if not settled and i - self._rel_i < 80:
            return
        before = self._ys[(self._rel_i - 15) & MASK]
        end_level = y
        rel_start, end = self._fall_times(i, before, end_level)
        rel_start = max(rel_start, self._hold_start)
        if self._unconfirmed and rel_start < self._hold_start + CONFIRM_S:
            self._not_a_stretch(relearn=True)  # fell back before CONFIRM_S: no hold, nothing told
        else:
            if self._unconfirmed:
                self._confirm()  # a short hold, but a hold
            self._flush_breaths(rel_start)
            self._end_stretch(rel_start, max(end, rel_start))
        if end_level - self._zero < self.config.on_kg:
            self._emit(STEP_OFF, max(end, rel_start), {})
            self._state = EMPTY
            self._stand = NAN
        else:
            self._state = STANDING
            self._stand = end_level
            self._learning = False
            self._stand_trusted = True
            self._released_t = t
        self._count = 0

    def _count_input(self) -> tuple[list[float], list[float], float, float, tuple[float, ...]]:
        """What the hold-wide count sees: count_presses' arguments for the hold so far."""
        rec = self._hold_rec
        return rec.t, rec.x, rec.step, max(RECOUNT_FLOOR * self._plateau, 0.2), self._stand_x

    def _recount(self) -> PressCount:
        """The hold's breaths from the whole hold so far (recount.py), and whether they are sure."""
        return count_presses(*self._count_input())

    def _end_stretch(self, rel_start: float, end: float) -> None:
        holding = self._state == HOLDING
        hold_s = max(0.0, rel_start - self._hold_start) if holding else 0.0
        if holding:
            t, x, step, floor, standing = self._count_input()
            self.last_hold = (list(t), list(x), step, floor, standing)  # a copy: the record is reused
            self.last_count = found = count_presses(t, x, step, floor, standing)
            breaths, sure = found.count, found.sure
        else:
            breaths, sure = 0, True
        by_breaths = sure and 0 < self._hold_target_breaths <= breaths
        completed = holding and (hold_s >= self._hold_target_s or by_breaths or self._completed)
        summary = {
            "start": round(self._start, 3),
            "hold_start": round(self._hold_start, 3) if holding else None,
            "end": round(end, 3),
            "hold_s": round(hold_s, 3),
            "breaths": breaths,
            "breaths_sure": sure,
            "breaths_live": self._breaths.count if self._breaths is not None else 0,
            "bounces": self._n_bounces,
            "completed": bool(completed),
            "peak_kg": round(self._peak, 2),
            # the level just before the ramp: history sets the hold's load against it (issue 13)
            "standing_kg": None if self._stand != self._stand else round(self._stand, 2),
        }
        self._emit(STRETCH_END, end, summary)
        self._last_summary = summary
        self._due = INF
        self._reset_stretch()
