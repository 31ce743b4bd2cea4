"""The hold's breaths counted again from the whole hold: rises, and the rhythm they keep.

Why a second count: the live counter (breaths.py) must decide on each press as it goes, seeing
only the past. At the end of the hold the whole hold is known, and two kinds of evidence can be
weighed together (DESIGN §2):

- **Rises.** An out-breath presses 2-6 % BW more over 30-60 % of its cycle; the in-breath lets
  any share of it off, from none (a staircase) to all. Whatever the let-off, each press is a
  rise of the load over about the press's duration, so the rise over a window w of the lightly
  smoothed load, `R(t) = x(t + w/2) - x(t - w/2)`, peaks at every press, staircase or wave (a
  matched filter for a step spread over w). Sway in the breathing band makes rises of the
  same size; faster sway is flattened by the smoothing.
- **Rhythm.** Breath cycles are 4-12 s and vary by +-25 % within a hold: the presses of one
  hold form one quasi-periodic chain. A sway rise off the beat cannot join it.

`count_presses` finds, by dynamic programming, the chain of rise peaks that keeps a cycle's
rhythm. First the rhythm: for every cycle on a grid over 4-12 s, the best chain through the
view fitted to that cycle, the threshold the floor at first, then END_SHARE of the typical
press that chain found (the presses of one hold are of a size, and a sway bump between two
presses, far smaller, must not make a chain at half the cycle). The cycles' chains are
compared by their margin over the rest of the hold in their own view (`_margin`), not by how
many members they have: through a short cycle's view a slow press shows a fraction of its rise
and sway bumps their whole, so chains of sway there would otherwise outnumber the presses
(issue 10). Then
through the view fitted to that rhythm (window = 45 % of the cycle, the middle of the press
duty; smoothing a quarter of it), at cycles near it, where two members two beats apart may
bridge a beat the sway hid (it counts, as a press of no rise), unless the gap, against the
chain's own, is one long cycle (`_unbridged`). At the chain's ends the rhythm
is weighed against the size: an end rise smaller than END_SHARE of the typical press is dropped
(sway in the quiet lead or tail that fell on the beat). The count is the chain's length with its hidden beats,
and with the beats the rhythm puts beyond its ends: breathing goes on through the hold, so a lead
or tail longer than a cycle, its jitter and half a rise, in which something rose, held a press
the sway hid (`_beats_beyond`; only when the typical press is at least the sway it leaves, so
the rhythm is the hold's and worth extending: below that the count is a reading among rivals,
see the hedge; and with two or more presses: even one gap is the hold's pace, and the edge
must have risen; but one gap is worth one beat beyond, never a string: a 3.5 s gap beside a
63 s tail made 17). (That bound was
SURE_RATIO: from it down to the sway, on the 19 tuning sets 19 cells of the per-set bars gained
a hold or two and 3 lost one, most at exact >= 1.5.) A little below the sway (down to
BEYOND_SHARE of it) the rhythm is still worth one beat beyond its ends, never more: a string of
beats there is a guess on a guess. (On independent seeds 0-8, drawn without the recorded feet,
and corpora c0-c2, 5 holds, 3 at press-to-sway 1-1.5, came within one and none the other way;
on seeds 9-12 and c3 c20 c21, one each way.)

A rhythm must be one the hold keeps (`_periodic`): presses every 2c with sway bumps strung
between them make a chain at c too, whose margin may beat the presses' own (the bumps are rises
as well, and nearly as big where the sway is as big as a press); but the rise signal of a rhythm
at c is like itself c later, and theirs is not (a press meets the bump's fall, or the quiet
before the next press). When the best chain's cycle shows no positive autocorrelation of the
rise signal, its best steady rival of three or more at about twice the cycle is the rhythm,
and the count is not sure (the margins said otherwise). On the independent generator's seeds
0-8 (8900 holds, drawn without the recorded feet) this turned 26 misses by more than one into
counts within one and 2 the other way. The reverse (a chain at 2c over a rhythm at c: sway at
about 2c lifts every other press, and through the long view fitted to 2c the presses blur into
one another) shows in the view fitted to c, not in the chain's own (`_halved`): there the rise
signal of presses every c repeats at c, and a rival at c whose every beat but HALF_HIDDEN rose
and that repeats itself clearly is the rhythm (not sure: the margins said otherwise). On the tuning sets
(second-generator seeds 0-18 at 10 Hz with 120 visits and at 80 Hz with 60, corpora c7 and
c9's test part: 9505 holds) this turned 35 misses by more than one into counts within one,
15 of them at press-to-sway 1-1.5, and none the other way; 15 more exact at >= 1.5, none fewer.
(Every beat a rise at first; letting the rival bridge one, and extending two-press chains
beyond their ends, gave on seeds 0-12 with 150 visits (10 475 holds) +-1 at 1-1.5 88.3 ->
89.1 %, exact at >= 1.5 92.8 -> 93.0 %, and on corpora c11-c12 one hold fewer within one at
1-1.5 of 145, one more at >= 1.5.)

An unsure count whose typical press is no bigger than the sway it leaves (in the same statistic:
there the best reading is a coin toss) is the count within one of the most of its readings
(`_hedged`: the count found and the steady rhythms that score within RIVAL_SHARE of the best;
readings two apart give the count between, within one of either; where the presses stand
above the sway the best reading is more often exact, and the hedge would cost more exact
counts than it saves misses by two). On
the wide tuning data (issue 10's sets) 91 of 97 misses by more than one at press-to-sway >= 1
were unsure, most of them a rhythm at about half or twice the true cycle, or presses lost at the
ends; the hedge trades a few exact counts of unsure holds for counts within one.

Sure: the presses stood clear of the sway when the typical press is at least `SURE_RATIO`
times the sway seen in the same statistic (no body weight or scale needed): the biggest rise
off the chain, the spread of the presses' own heights (sway adds to each as it falls) and the
biggest rise of the same person's standing just before the stretch; and when beyond the chain's
ends, where the rhythm rules nothing out, nothing rose as much as a press is held to there;
no beat was counted on the rhythm's word alone (a hidden beat is a guess); no gap long
enough for two cycles has a press-sized peak in its middle through the view fitted to half of
it (`_none_hid`: a small press between big ones is part of the slope in the chain's view); and, unless the
presses stand CLEAR_RATIO clear of the sway (then no press could hide), the rhythm accounts for
the whole hold: no room at either end for one more beat that nothing showed, and more than one
gap to call it a rhythm (`_rhythm_accounts`). The sway seen is a maximum over a few cycles,
and presses hid in holds where it came out at 0.3-0.6 of the press.

Pure Python on a few hundred points: the hold is kept decimated to 2 Hz (`HoldRecord`); a
30 s hold costs one to two milliseconds once, at its end (every cycle of the grid is
searched through its own view).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass

STEP_S = 0.5           # the hold record's spacing
MAX_POINTS = 480       # 4 min at 2 Hz; a longer hold is thinned to half its rate (memory stays flat)
MIN_CYCLE_S, MAX_CYCLE_S = 4.0, 12.0  # DESIGN §2
JITTER = 0.25          # cycles vary +-25 % within a hold
GAP_SPAN = 1.4         # a chain's gaps lie within cycle / 1.4 .. cycle * 1.4 (+-25 % about a
                       # hold's mean cycle spans a ratio of 1.67, and the grid is coarse)
CYCLE_STEP = 1.1       # cycle grid ratio (finer than the jitter)
NEAR = 1.15            # the presses are sought at cycles within 15 % of the rhythm found
DUTY = 0.45            # press share of a cycle: the middle of 30-60 % sets the rise window
SMOOTH = 0.25          # smoothing box, share of the cycle: flattens sway faster than a press
DIP = 0.5              # between two presses the rise falls to half the smaller one
END_SHARE = 0.35       # every member, and a chain end, is at least this share of the
                       # typical press: sway in a quiet lead or tail falls on the beat by chance
FLOOR_SHARE = 0.01     # smallest rise worth a look, share of the plateau: a 2 % BW press on a
                       # plateau of at most 1.0 BW, seen at about half its size through a window
SURE_RATIO = 1.5       # typical press over the biggest sway rise, to call the count sure
CLEAR_RATIO = 2.0 * SURE_RATIO  # presses this clear of the sway: no press could hide at all
RIVAL_SHARE = 0.7      # a rival rhythm whose margin is this share of the best's is a reading too
BEYOND_SHARE = 0.75    # presses this share of the sway or more keep a rhythm worth one beat beyond
HALF_HIDDEN = 1        # hidden beats a faster rival may bridge and still be the rhythm (_halved)
PRESS_REACH = 0.3      # a press's rise reaches this share of its cycle either side of its peak
TWO_SHORTEST = 2.0 * MIN_CYCLE_S * (1.0 - JITTER)  # the shortest gap that can hold another press
REPEAT = 0.3           # a faster rival's rise signal repeats at its own cycle by more than this (as
                       # normalised autocorrelation) to be the rhythm over a slower best chain


class HoldRecord:
    """The load through a hold (or standing), decimated to one point per `step` s (the mean of
    the values whose t falls in each step-long bucket), bounded: a hold longer than MAX_POINTS
    points is thinned to half its rate; with `keep`, only the newest `keep` points are kept (a
    sliding record of standing)."""

    __slots__ = ("t", "x", "step", "keep", "_acc", "_n", "_bucket")

    def __init__(self, step: float = STEP_S, keep: int = 0) -> None:
        self.t: list[float] = []
        self.x: list[float] = []
        self.step = step
        self.keep = keep
        self._acc = 0.0
        self._n = 0
        self._bucket = -(2**62)

    def feed(self, t: float, y: float) -> None:
        bucket = int(t // self.step)
        if bucket != self._bucket:
            if self._n:
                self._close()  # (which may thin the record, doubling the step)
                bucket = int(t // self.step)
            self._bucket = bucket
        self._acc += y
        self._n += 1

    def _close(self) -> None:
        self.t.append((self._bucket + 0.5) * self.step)
        self.x.append(self._acc / self._n)
        self._acc, self._n = 0.0, 0
        if self.keep and len(self.x) > self.keep:
            del self.t[0], self.x[0]
        elif len(self.x) > MAX_POINTS:
            self._thin()

    def _thin(self) -> None:
        t, x = self.t, self.x
        self.t = [0.5 * (t[i] + t[i + 1]) for i in range(0, len(t) - 1, 2)]
        self.x = [0.5 * (x[i] + x[i + 1]) for i in range(0, len(x) - 1, 2)]
        self.step *= 2.0

    def clear(self) -> None:
        self.t.clear()
        self.x.clear()
        self.step = STEP_S
        self._acc, self._n = 0.0, 0
        self._bucket = -(2**62)


@dataclass(frozen=True, slots=True)
class PressCount:
    """What the hold-wide count found."""

    count: int
    sure: bool
    press_kg: float           # typical (median) rise of the counted presses
    sway_kg: float            # how big the sway is in the same statistic (see _sway)
    cycle_s: float            # the rhythm the chain keeps (0 with fewer than two presses)
    times: tuple[float, ...]  # centre of each counted press's rise
    heights: tuple[float, ...] = ()  # each counted press's rise (kg)
    standing_kg: float = 0.0  # the standing sway it was judged against
    edges_s: tuple[float, float] = (0.0, 0.0)  # record start to the first press, last to the end
    # (a gap of more than a cycle at either end is room for a press the sway hid)
    hidden: int = 0           # beats the rhythm kept where the sway hid the press (in count)


def prefix_sums(x: list[float]) -> list[float]:
    sums = [0.0] * (len(x) + 1)
    acc = 0.0
    for k, v in enumerate(x):
        acc += v
        sums[k + 1] = acc
    return sums


def rises(sums: list[float], box: int, half: int) -> list[float]:
    """R[k] = s[k + half] - s[k - half] of the series smoothed over a centred `box` (shrunk at
    the ends), from its prefix sums; 0 where the window leaves the record."""
    n = len(sums) - 1
    lo_off, hi_off = box // 2, box - box // 2
    s = [0.0] * n
    for k in range(n):
        lo, hi = k - lo_off if k >= lo_off else 0, k + hi_off if k + hi_off <= n else n
        s[k] = (sums[hi] - sums[lo]) / (hi - lo)
    out = [0.0] * n
    for k in range(half, n - half):
        out[k] = s[k + half] - s[k - half]
    return out


def _view(cycle: float, step: float) -> tuple[int, int]:
    """(smoothing box, rise half-window) in points for a breath cycle."""
    return max(1, round(SMOOTH * cycle / step)), max(1, round(DUTY * cycle / (2.0 * step)))


class _View:
    """R through one (box, half) view, its candidate peaks (local maxima >= floor) and the
    lowest R between each candidate and the next (for the chain's dip test). R still climbing
    at its last point inside the record is no peak: a press is a whole rise (over 30-60 % of
    its cycle, DESIGN §2) and its peak is where R stops climbing; at the record's end nothing
    says it stopped, and a rise that goes on into the release is sway or an out-breath the
    release cut short, not a press held (both generators end a hold after whole cycles and a
    pause; the truncated point was the tail's usual extra press). (Not at the start: there
    the ramp's last rise runs into the first press, which may begin a moment after the ramp,
    and the first point of R is all the view shows of it.) On independent seeds 0-18 at 10 Hz
    (4257 holds at ratio >= 1.5) this took 57 of 97 extra presses in the tail away and made 10
    misses elsewhere: exact 91.2 -> 92.3 %."""

    __slots__ = ("view", "t", "r", "idx", "ts", "hs", "low")

    def __init__(self, sums: list[float], t: list[float], view: tuple[int, int], floor: float) -> None:
        self.view = view
        self.t = t
        r = self.r = rises(sums, *view)
        last = len(r) - view[1] - 1  # R's last point inside the record: what follows is unknown
        self.idx = [k for k in range(1, last) if r[k - 1] < r[k] >= r[k + 1] and r[k] >= floor]
        self.ts = [t[k] for k in self.idx]
        self.hs = [r[k] for k in self.idx]
        self.low = [min(r[a + 1:b]) if b > a + 1 else min(r[a], r[b])
                    for a, b in zip(self.idx, self.idx[1:], strict=False)]


def chain(v: _View, cycle: float, threshold: float, bridge: bool = True
          ) -> tuple[float, list[int], list[bool]]:
    """The best quasi-periodic chain of v's candidates: members cycle / GAP_SPAN .. cycle *
    GAP_SPAN apart, each a rise of its own (R falls to DIP of the smaller of two members between
    them: one long press seen through a short window stays high and cannot count twice),
    maximising the sum of (rise - threshold). Two members twice that far apart keep the rhythm
    across one beat the sway hid (it rose nothing there, or less than a press): the hidden beat
    counts as a press of no rise, so it costs the threshold like any member and pays nothing.
    (score, positions into v.idx in time order, hidden[k]: a hidden beat lies before member k)."""
    ts, hs, low = v.ts, v.hs, v.low
    n = len(ts)
    score = [0.0] * n
    back = [-1] * n
    skip = [False] * n
    lo_gap, hi_gap = _gaps(cycle)
    reach = 2.0 * hi_gap if bridge else hi_gap
    best, best_i = 0.0, -1
    for i in range(n):
        h, ti = hs[i], ts[i]
        prev, prev_j, prev_skip = 0.0, -1, False
        between = math.inf
        for j in range(i - 1, -1, -1):
            gap = ti - ts[j]
            if gap > reach:
                break
            between = min(between, low[j], hs[j + 1] if j + 1 < i else math.inf)
            if between > DIP * min(h, hs[j]):
                continue
            if lo_gap <= gap <= hi_gap and score[j] > prev:
                prev, prev_j, prev_skip = score[j], j, False
            elif bridge and gap >= 2.0 * lo_gap and gap > hi_gap and score[j] - threshold > prev:
                prev, prev_j, prev_skip = score[j] - threshold, j, True
        score[i] = h - threshold + prev
        back[i] = prev_j
        skip[i] = prev_skip
        if score[i] > best:
            best, best_i = score[i], i
    out: list[int] = []
    hidden: list[bool] = []
    i = best_i
    while i >= 0:
        out.append(i)
        hidden.append(skip[i])
        i = back[i]
    out.reverse()
    hidden.reverse()
    return best, out, hidden


def _gaps(cycle: float) -> tuple[float, float]:
    """The shortest and longest gap between two presses of a chain at `cycle`: within GAP_SPAN
    of it, and never beyond what a breath can take (4-12 s cycles varying +-25 %)."""
    return (max(cycle / GAP_SPAN, MIN_CYCLE_S * (1.0 - JITTER)),
            min(cycle * GAP_SPAN, MAX_CYCLE_S * (1.0 + JITTER)))


def _cycles() -> list[float]:
    out, c = [], MIN_CYCLE_S / (1.0 + JITTER / 2)
    while c <= MAX_CYCLE_S * (1.0 + JITTER / 2):
        out.append(c)
        c *= CYCLE_STEP
    return out


CYCLES = _cycles()


def count_presses(t: list[float], x: list[float], step: float, floor: float,
                  standing: list[float] | tuple[float, ...] = ()) -> PressCount:
    """The hold's presses from its decimated load (t, x at `step` s); `floor` is the smallest
    rise worth a look (kg); `standing` the same person's standing just before the stretch at
    the same spacing (empty if unknown), whose sway is measured through the chain's own view."""
    sums = prefix_sums(x)
    views: dict[tuple[int, int], _View] = {}

    def view(key: tuple[int, int]) -> _View:
        if key not in views:
            views[key] = _View(sums, t, key, floor)
        return views[key]

    def best_chain(cycles: list[float], threshold: float) -> tuple[float, list[int], list[bool], _View]:
        best = 0.0
        top: tuple[float, list[int], list[bool], _View] = (0.0, [], [], view(_view(cycles[0], step)))
        for c in cycles:
            v = view(_view(c, step))
            score, m, hidden = chain(v, c, threshold)
            if score > best:
                best, top = score, (c, m, hidden, v)
        return top

    # 1. The rhythm: every cycle through its own view, each chain judged by how far its
    #    presses stand above the rest of the hold in that view (_rhythm, _margin).
    rivals: list[tuple[float, int]] = []  # (margin, count) of every steady rhythm's chain
    cycle, members, hidden, v, contested = _rhythm(view, step, floor, rivals)
    threshold = max(floor, END_SHARE * _median([v.hs[j] for j in members]))
    if len(members) >= 2:
        cycle = _mean_gap(v, members, hidden)
    if members:
        # 2. The presses: through the view fitted to the rhythm, at cycles near it; a beat the
        #    sway hid may now be bridged, the rhythm being known.
        near = [c for c in CYCLES if abs(math.log(c / cycle)) <= math.log(NEAR)] or [cycle]
        cycle, members, hidden, v = best_chain(near, threshold)
    members, hidden = _trim(members, hidden, v.hs)
    hidden = _unbridged(v.ts, members, hidden)
    n_hidden = sum(hidden)
    typical = _median([v.hs[j] for j in members])
    chosen = [v.ts[j] for j in members]
    heights = [v.hs[j] for j in members]
    standing_sway = standing_rise(standing, v.view)
    sway = _sway(v, members, cycle, standing_sway)
    beats = len(chosen) - 1 + n_hidden
    rhythm = (chosen[-1] - chosen[0]) / beats if beats > 0 else 0.0
    edges = (chosen[0] - t[0], t[-1] - chosen[-1]) if chosen else (t[-1] - t[0] if t else 0.0, 0.0)
    if len(chosen) >= 2 and typical >= BEYOND_SHARE * sway:
        n_hidden += _beats_beyond(v, t, chosen, edges, rhythm, END_SHARE * typical,
                                  at_most=1 if typical < sway or len(chosen) == 2 else None)
    if members:
        # every press, not just the typical one, stands clear of what standing alone made (a
        # chain end on the beat may be sway); one press shows no rhythm: it needs the standing;
        # a beat the sway hid is a press counted on the rhythm's word alone; unless the presses
        # stand far clear of the sway, the rhythm must leave no room for a press it hid
        sure = (typical >= SURE_RATIO * sway and min(heights) >= SURE_RATIO * standing_sway
                and _room_is_quiet(v, t, chosen, cycle, END_SHARE * typical)
                and (len(members) >= 2 or standing_sway > 0.0) and not n_hidden and not contested
                and _none_hid(view, chosen, step)
                and (typical >= CLEAR_RATIO * sway or _rhythm_accounts(chosen, edges, rhythm)))
    else:
        sure = sway < floor  # nothing rose anywhere: no press could have hidden
    count = len(chosen) + n_hidden
    if not sure and typical < sway:  # no bigger than the sway it leaves: a reading among rivals
        count = _hedged(count, rivals)
    return PressCount(count, sure, typical, sway, rhythm, tuple(chosen), tuple(heights),
                      standing_sway, edges, n_hidden)


Rhythm = tuple[float, list[int], list[bool], _View]  # (cycle, chain members, hidden beats, view)


def _rhythm(view: Callable[[tuple[int, int]], _View], step: float, floor: float,
            rivals: list[tuple[float, int]]) -> tuple[float, list[int], list[bool], _View, bool]:
    """The hold's rhythm: for every cycle on the grid, the best chain through the view fitted
    to that cycle (where a press of that cycle shows its whole rise and faster sway is
    flattened), held to END_SHARE of its own typical press. Chains are compared by their
    `_margin`: in kg over what that view shows off the chain, so views of different cycles
    compare, and a chain gains by a member only if it rises above the rest of the hold. A chain
    whose gaps are not one rhythm (`_steady`) is chosen only when no chain is (rise times are
    blurred by sway: better an unsteady chain than none). With no chain of two, the single
    biggest rise through the shortest cycle's view (a hold of one press, or none). Every
    steady chain's (margin, count) is added to `rivals`: the other readings of the hold. The
    best steady chain must be a rhythm the hold itself keeps (`_periodic`); the last value says
    whether a rival at twice or half its cycle was taken instead, against the margins (contested)."""
    best = [-math.inf, -math.inf]  # [steady chains, the others]
    found: list[Rhythm | None] = [None, None]
    steady: list[tuple[float, Rhythm]] = []  # (margin, chain) of every steady chain
    for c in CYCLES:
        v = view(_view(c, step))
        _, m, hidden = chain(v, c, floor)
        if not m:
            continue
        threshold = max(floor, END_SHARE * _median([v.hs[j] for j in m]))
        _, m, hidden = chain(v, c, threshold)
        if len(m) < 2:
            continue
        score = _margin(v, m, hidden, c, threshold)
        tier = 0 if _steady(v.ts, m, hidden) else 1
        if tier == 0:
            kept, kept_hidden = _trim(m, hidden, v.hs)
            rivals.append((score, len(kept) + sum(kept_hidden)))
            steady.append((score, (c, m, hidden, v)))
        if score > best[tier]:
            best[tier], found[tier] = score, (c, m, hidden, v)
    if found[0] is not None:
        periodic = _periodic(found[0], steady, step)
        if periodic is not found[0]:
            return (*periodic, True)
    for top in found:
        if top is not None:
            return (*top, False)
    v = view(_view(MIN_CYCLE_S, step))
    _, m, hidden = chain(v, MIN_CYCLE_S, floor, bridge=False)
    return MIN_CYCLE_S, m, hidden, v, False


DOUBLE_SPAN = (2.0 / (1.0 + JITTER), 2.0 * (1.0 + JITTER))  # cycles about twice another's


def _periodic(top: Rhythm, steady: list[tuple[float, Rhythm]], step: float) -> Rhythm:
    """The best steady chain, or its best rival at about twice its cycle when the hold itself
    keeps no rhythm at the chain's own (its members' mean gap). Breathing is one quasi-periodic
    rhythm (cycles +-25 % within a hold): a rise signal of presses every c seconds is like
    itself c later, however big the sway. Presses every 2c with sway bumps strung between them
    make a chain at c as well, and may score best (the bumps are rises too), but the signal does
    not repeat at c: there a press meets its own let-off or the quiet before the next, and the
    autocorrelation at lag c is negative or nil (`_self_likeness`). Then the rhythm is the one
    at 2c, if there is one: a rival of three members or more (two are one gap, no rhythm).
    Otherwise (the hold keeps it, or nothing steady at twice) the chain may still be every
    other press of a rhythm at half its cycle (`_halved`)."""
    cycle, members, hidden, v = top
    if _self_likeness(v.r, v.view, _mean_gap(v, members, hidden), step) <= 0.0:
        lo, hi = DOUBLE_SPAN
        doubles = [(score, rival) for score, rival in steady
                   if lo <= rival[0] / cycle <= hi and len(rival[1]) >= 3]
        if doubles:
            return max(doubles, key=lambda d: d[0])[1]
    return _halved(top, steady, step)


def _halved(top: Rhythm, steady: list[tuple[float, Rhythm]], step: float) -> Rhythm:
    """The best chain, or its best rival at about half its cycle when that rival's beats are all
    rises and the hold clearly repeats itself at the rival's cycle. Presses every c seen
    through a view fitted to 2c (a window of 0.9 c, smoothing of half a c) blur into one
    another, and sway may lift every other one: a chain at 2c then out-scores the presses' own
    (its skipped presses stand low in that view), and a long view repeats itself at 2c whatever
    the rhythm. Through the view fitted to c, a rise signal of presses every c is like itself c
    later; one of presses every 2c with sway bumps between is not (a press meets the quiet
    before the next). So the rival at c wins when its beats rose, all but HALF_HIDDEN (beats on
    the rhythm's word are no evidence that the in-between presses are there; one the sway hid
    among several that rose is what sway as big as a press does), it has
    three or more (a rhythm, not one gap), and its own rise signal repeats at its own cycle by
    more than REPEAT. Not merely above 0, as `_periodic` asks of the best chain: breathing-band
    sway may itself be near periodic, and a chain of its bumps and the presses then repeats a
    little (0.25 in the test of two slow presses under 4.5 s sway). On the tuning sets below,
    REPEAT 0 to 0.3 gave 994 to 989 of 1110 holds within one at press-to-sway 1-1.5; with no
    autocorrelation test at all, 61 fewer exact counts at >= 1.5."""
    own = _mean_gap(top[3], top[1], top[2])
    lo, hi = DOUBLE_SPAN
    halves = []
    for score, rival in steady:
        _, members, hidden, v = rival
        gap = _mean_gap(v, members, hidden)
        if (lo <= own / gap <= hi and len(members) >= 3 and sum(hidden) <= HALF_HIDDEN
                and _self_likeness(v.r, v.view, gap, step) > REPEAT):
            halves.append((score, rival))
    return max(halves, key=lambda d: d[0])[1] if halves else top


def _mean_gap(v: _View, members: list[int], hidden: list[bool]) -> float:
    """A chain's own cycle: its span over its beats, a bridged (hidden) beat counted (>= 2 members)."""
    return (v.ts[members[-1]] - v.ts[members[0]]) / (len(members) - 1 + sum(hidden))


def _self_likeness(r: list[float], view: tuple[int, int], cycle: float, step: float) -> float:
    """How much the hold repeats itself a cycle on: the normalised autocorrelation of the rise
    signal r (where its window lies inside the record), the highest over lags within NEAR of
    `cycle` (the cycle found is a grid point, the hold's own within +-15 % of it). 1 when the
    record is too short or flat to say (no evidence against the rhythm)."""
    box, half = view
    edge = half + box // 2
    inner = r[edge:len(r) - edge]
    n = len(inner)
    mean = sum(inner) / n if n else 0.0
    d = [y - mean for y in inner]
    power = sum(y * y for y in d) / n if n else 0.0
    lags = range(max(1, math.floor(cycle / NEAR / step)), min(n - 2, math.ceil(cycle * NEAR / step)) + 1)
    if power <= 0.0 or not lags:
        return 1.0
    return max(sum(a * b for a, b in zip(d, d[k:], strict=False)) / ((n - k) * power) for k in lags)


def _margin(v: _View, m: list[int], hidden: list[bool], cycle: float, threshold: float) -> float:
    """How much a chain's members rise above what else the view shows: each member's rise less
    the biggest rise off the chain (half a cycle from every member), or less the chain's own
    threshold, or the biggest fall no member accounts for (`_excess_fall`), whichever is
    highest. A hidden beat costs the typical member's rise: the rhythm
    says a press of that size belongs there, and the view shows none (without that cost a
    chain at a short cycle takes every rise of the hold, presses and sway, bridging the rest,
    and leaves nothing off the chain to be measured against). Sway bumps that a short cycle
    strings together stand no higher than the rest of the sway in that view; presses seen
    through their own view stand well above it."""
    heights = [v.hs[j] for j in m]
    least = max(threshold, _biggest_off(v, [v.ts[j] for j in m], cycle), _excess_fall(v, m))
    return sum(h - least for h in heights) - sum(hidden) * _median(heights)


def _excess_fall(v: _View, m: list[int]) -> float:
    """The biggest fall after a member beyond that member's own rise: an in-breath lets off at
    most what its out-breath pressed (DESIGN §2), so a fall past it is sway, and the chain's
    members must stand above it too. A chain of sway bumps strung over slow presses meets the
    slow let-offs between its members, falls that none of its small rises accounts for."""
    worst = 0.0
    r = v.r
    for a, b in zip(m, m[1:] + [None], strict=False):
        ka = v.idx[a]
        kb = v.idx[b] if b is not None else len(r)
        if kb > ka + 1:
            worst = max(worst, -min(r[ka + 1:kb]) - v.hs[a])
    return worst


STEADY = (1.0 + JITTER) / (1.0 - JITTER)  # cycles within +-25 % of a mean: longest / shortest


def _steady(ts: list[float], m: list[int], hidden: list[bool]) -> bool:
    """Whether a chain's gaps (a bridged gap as two beats) can be one hold's rhythm: cycles
    vary +-25 % about the hold's mean, so the longest is at most STEADY times the shortest."""
    gaps = [(ts[b] - ts[a]) / (2.0 if h else 1.0) for a, b, h in zip(m, m[1:], hidden[1:], strict=False)]
    return max(gaps) <= STEADY * min(gaps)


def _unbridged(ts: list[float], m: list[int], hidden: list[bool]) -> list[bool]:
    """The chain's hidden beats, less those whose gap is one long cycle. Cycles vary +-25 %
    about the hold's mean (DESIGN §2), so a gap bridged as two beats is at least twice the
    shortest cycle, 2 (1 - JITTER) times the mean of the chain's other gaps; a shorter one is
    a single cycle at the long end of the rhythm (up to 1.25 times the mean: a gap of 1.43
    times the chain's grid cycle is bridged in `chain`, where the rhythm is not yet measured).
    Only against two or more unbridged gaps: one gap is no rhythm to measure by."""
    gaps = [ts[b] - ts[a] for a, b in zip(m, m[1:], strict=False)]
    single = [g for g, h in zip(gaps, hidden[1:], strict=False) if not h]
    if len(single) < 2:
        return hidden
    shortest_two = 2.0 * (1.0 - JITTER) * sum(single) / len(single)
    return hidden[:1] + [h and g >= shortest_two for g, h in zip(gaps, hidden[1:], strict=False)]


def _biggest_off(v: _View, chosen: list[float], cycle: float) -> float:
    """The biggest rise in v more than half a (shortest) cycle from every chosen press, peak or
    shoulder: sway riding on a press's flank rises as much without making a peak of its own.
    (Each point is set against its nearest press only: called per chain, so it must be cheap.)"""
    away = cycle * (1.0 - JITTER) / 2.0
    near = sorted(chosen)
    n = len(near)
    best: float | None = None
    for tc, h in zip(v.t, v.r, strict=True):
        if best is not None and h <= best:
            continue
        k = bisect.bisect_left(near, tc)
        if (k == n or abs(tc - near[k]) > away) and (k == 0 or abs(tc - near[k - 1]) > away):
            best = h
    return 0.0 if best is None else best


def _rhythm_accounts(chosen: list[float], edges: tuple[float, float], cycle: float) -> bool:
    """Whether the rhythm leaves no room for a press the sway hid. Beyond either end of the
    chain the next press would come a cycle on, and be seen whole half its rise later: an edge
    longer than that (1 + DUTY / 2 cycles) is room for a press nothing showed. A chain of two
    has one gap, which is no rhythm: it could be two cycles with a press hidden between, unless
    it is shorter than two of the shortest cycles."""
    if len(chosen) < 2:
        return True
    if len(chosen) == 2 and chosen[1] - chosen[0] > TWO_SHORTEST:
        return False
    return max(edges) <= (1.0 + DUTY / 2.0) * cycle


def _none_hid(view: Callable[[tuple[int, int]], _View], chosen: list[float], step: float) -> bool:
    """Whether the chain's presses, however clear of the sway, are all the hold held between
    its ends. A gap may be two cycles with a press between that the view fitted to the chain
    took for part of the slope (a small press between two big ones hardly dips that view's
    rise; cycles vary +-25 %, so one long gap among short ones is no proof). Seen through the
    view fitted to half the gap, such a press rises on its own: no peak in the gap's middle as
    high as END_SHARE of its two presses (in that same view) says none hid there (beyond the
    ends `_room_is_quiet` looks). A gap shorter than TWO_SHORTEST cannot hold another press."""
    return all(_quiet_between(view(_view((b - a) / 2.0, step)), a, b)
               for a, b in zip(chosen, chosen[1:], strict=False) if b - a > TWO_SHORTEST)


def _quiet_between(v: _View, a: float, b: float) -> bool:
    """No peak in the middle of the gap between presses at a and b rises in v as much as
    END_SHARE of the smaller press there (its highest rise within PRESS_REACH of the gap:
    the size a chain end is held to). A press of the gap's own cycle rises over up to 60 % of
    it (DESIGN §2), so its flanks reach 30 % of the gap from its peak; a press hidden between,
    at half that cycle, rises in the middle 40 %. (On tuning seeds 2, 5, 9 and corpus c11,
    2869 holds: 11 of 40 wrong sure counts turned unsure, at a cost of 109 right ones; any
    rise rather than a peak, or the two-press chains alone, cost more per miss or fixed less.)"""
    reach = PRESS_REACH * (b - a)
    own = [max((h for tk, h in zip(v.t, v.r, strict=True) if abs(tk - tc) <= reach), default=0.0)
           for tc in (a, b)]
    least = END_SHARE * min(own)
    return all(not (a + reach < tk < b - reach) or h < least for tk, h in zip(v.ts, v.hs, strict=True))


EDGE_BEATS = 1.0 + JITTER + DUTY / 2.0  # an edge this many cycles long must hold a press


def _beats_beyond(v: _View, t: list[float], chosen: list[float], edges: tuple[float, float], cycle: float,
                  least: float, at_most: int | None = None) -> int:
    """Beats the rhythm puts in the chain's lead and tail: breathing goes on through the hold
    (every out-breath presses, DESIGN §2), so the next press comes at most a cycle and its
    jitter on, and is seen whole half its rise later; an edge longer than EDGE_BEATS cycles in
    which something rose (`least`, the size chain ends are held to; a flat edge is a pause in
    the pressing, not a press hidden) held a press the sway hid, and one more per further cycle.
    A count on the rhythm's word, so it is not sure. With `at_most`, no more than that many in
    all (a rhythm of presses smaller than the sway is worth one beat, not a string of them)."""
    away = cycle * (1.0 - JITTER) / 2.0
    lead = any(h >= least for tk, h in zip(t, v.r, strict=True) if tk < chosen[0] - away)
    tail = any(h >= least for tk, h in zip(t, v.r, strict=True) if tk > chosen[-1] + away)
    beats = sum(int(edge / cycle - EDGE_BEATS) + 1 for edge, rose in zip(edges, (lead, tail), strict=True)
                if rose and edge >= EDGE_BEATS * cycle)
    return beats if at_most is None else min(beats, at_most)


def _hedged(count: int, rivals: list[tuple[float, int]]) -> int:
    """An unsure count as the one within one of the most of its readings: the count found and
    every rival rhythm scoring near the best (RIVAL_SHARE of its margin), one reading per count
    (ties: the count found, then the nearest to it). Readings two apart give the count between,
    within one of either, where choosing one is a coin toss that misses by two half the time;
    a count found at 8 beside readings of 4 and 5 is 5 (within one of two of the three);
    readings three or more apart leave the count found. (A rival's margin says little more: on
    the tuning sets a rival within RIVAL_SHARE of the best is the truth about a quarter of the
    time whatever its margin, and a tie broken by margin lost as often as it gained.)"""
    top = max((score for score, _ in rivals), default=0.0)
    if top <= 0.0:
        return count
    near = {n for score, n in rivals if score >= RIVAL_SHARE * top} | {count}

    def support(n: int) -> tuple[int, bool, int]:
        return sum(abs(r - n) <= 1 for r in near), n == count, -abs(n - count)

    return max(range(max(0, min(near) - 1), max(near) + 2), key=support)


def _room_is_quiet(v: _View, t: list[float], chosen: list[float], cycle: float, least: float) -> bool:
    """Beyond the chain's ends the rhythm rules nothing out: any rise there big enough to be a
    press (END_SHARE of the typical, the size the ends are held to) may be one the sway hid,
    peak or not, floor or not."""
    away = cycle * (1.0 - JITTER) / 2.0
    lo, hi = chosen[0] - away, chosen[-1] + away
    return all(h < least for tk, h in zip(t, v.r, strict=True) if tk < lo or tk > hi)


def _sway(v: _View, members: list[int], cycle: float, standing: float) -> float:
    """How big the sway is in the counter's own statistic, from four sides: the biggest rise
    off the chain (half a cycle from every press), the spread of the presses' own heights
    (sway adds to each press as it falls), the biggest fall no press accounts for, and the
    standing just before the stretch."""
    heights = [v.hs[j] for j in members]
    spread = max(heights) - min(heights) if len(heights) >= 2 else 0.0
    return max(standing, spread, _biggest_off(v, [v.ts[j] for j in members], cycle), _excess_fall(v, members))


def _trim(members: list[int], hidden: list[bool], hs: list[float]) -> tuple[list[int], list[bool]]:
    """Drop chain ends smaller than END_SHARE of the typical press: on the beat, but in the
    quiet lead or tail of the hold, sway that happened to fall in step (with the beat the
    sway hid next to it, if any: the rhythm past a dropped end is no evidence)."""
    if not members:
        return members, hidden
    least = END_SHARE * _median([hs[j] for j in members])
    lo, hi = 0, len(members)
    while lo < hi and hs[members[lo]] < least:
        lo += 1
    while hi > lo and hs[members[hi - 1]] < least:
        hi -= 1
    kept = hidden[lo:hi]
    if kept:
        kept[0] = False
    return members[lo:hi], kept


def standing_rise(x: list[float] | tuple[float, ...], view: tuple[int, int]) -> float:
    """The biggest rise the standing record made through a (box, half) view: the sway's size in
    the same statistic as the presses (0 when the record is too short to say)."""
    box, half = view
    edge = half + box // 2
    if len(x) <= 2 * edge:
        return 0.0
    return max(rises(prefix_sums(list(x)), box, half)[edge:len(x) - edge])


def _median(v: list[float]) -> float:
    s = sorted(v)
    n = len(s)
    if not n:
        return 0.0
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
