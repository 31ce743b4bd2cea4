"""Invariants of the event stream, for any input (hypothesis).

Well nested: step_on .. step_off contains stretch_start .. stretch_end contains hold_start ..;
time never goes back; breaths only inside holds and bounces only inside stretches; at most one
hold_complete per stretch; stretch_end's live count and bounces agree with the events; finish() leaves nothing
open; the same input gives the same events; no input crashes it.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_detector import BODY, STAND, Script
from test_detector import run as feed_all

from firmware import events as ev

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_well_formed(events: list[ev.Event]) -> None:
    last_t = -math.inf
    on_step = in_stretch = holding = False
    completes = breaths = bounces = 0
    for e in events:
        assert e.t >= last_t, f"time went back at {e}"
        last_t = e.t
        if e.kind == ev.STEP_ON:
            assert not on_step
            on_step = True
        elif e.kind == ev.STEP_OFF:
            assert on_step and not in_stretch
            on_step = False
        elif e.kind == ev.STRETCH_START:
            assert on_step and not in_stretch
            in_stretch, holding, completes, breaths, bounces = True, False, 0, 0, 0
        elif e.kind == ev.HOLD_START:
            assert in_stretch and not holding
            holding = True
        elif e.kind == ev.BREATH:
            assert holding
            breaths += 1
            assert e.data["n"] == breaths
        elif e.kind == ev.BOUNCE:
            assert in_stretch
            bounces += 1
        elif e.kind == ev.HOLD_COMPLETE:
            assert holding
            completes += 1
            assert completes == 1
        elif e.kind == ev.STRETCH_END:
            assert in_stretch
            assert e.data["breaths_live"] == breaths and e.data["bounces"] == bounces
            assert e.data["breaths"] >= 0 and isinstance(e.data["breaths_sure"], bool)
            assert e.data["start"] <= e.data["end"]
            if e.data["hold_start"] is not None:
                assert e.data["start"] <= e.data["hold_start"] <= e.data["end"]
            in_stretch = holding = False
    assert not on_step and not in_stretch


segment = st.one_of(
    st.tuples(st.just("stand"), st.floats(1.0, 15.0)),
    st.tuples(st.just("shift"), st.floats(-0.1, 0.1)),
    st.tuples(st.just("stretch"), st.integers(0, 6), st.floats(0.6, 1.0), st.floats(3.0, 40.0)),
    st.tuples(st.just("bounce"), st.floats(1.0, 3.0), st.floats(0.05, 0.3), st.integers(1, 8)),
    st.tuples(st.just("off"), st.floats(1.0, 6.0)),
)


def build(segments: list[tuple]) -> Script:
    script = Script().flat(0.0, 1.0).ramp(STAND, 0.6).flat(STAND, 3.0)
    stand, on = STAND, True
    for seg in segments:
        kind = seg[0]
        if kind == "off":
            if on:
                script.ramp(0.0, 0.6).flat(0.0, seg[1])
            else:
                script.ramp(stand, 0.6).flat(stand, 2.0)
            on = not on
        elif not on:
            continue
        elif kind == "stand":
            script.flat(stand, seg[1])
        elif kind == "shift":
            stand = min(max(stand + seg[1] * BODY, 0.25 * BODY), 0.6 * BODY)
            script.ramp(stand, 0.3).flat(stand, 3.0)
        elif kind == "stretch":
            _, breaths, top, hold_s = seg
            script.ramp(max(top * BODY, stand + 0.1 * BODY), 2.0).hold(hold_s, breaths)
            script.ramp(stand, 2.0).flat(stand, 3.0)
        elif kind == "bounce" and script.pieces:
            at = min(1.0, script.pieces[-1][1] - script.pieces[-1][0])
            script.bounce(at, seg[1], seg[2] * BODY, seg[3])
    return script


@FAST
@given(st.lists(segment, min_size=1, max_size=6), st.sampled_from([10.0, 80.0]), st.integers(0, 3))
def test_any_session_gives_a_well_formed_event_stream(segments: list[tuple], rate: float, seed: int) -> None:
    samples = build(segments).samples(rate, noise=0.1, sway=0.005 * BODY, seed=seed)
    events = feed_all(samples)
    assert_well_formed(events)
    assert feed_all(samples) == events  # identical input, identical output


@FAST
@given(st.lists(segment, min_size=1, max_size=5),
       st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from([math.nan, math.inf, -math.inf, 1e9, -1e9,
                                                                   0.0, 250.0])), max_size=30),
       st.floats(0.0, 0.3))
def test_glitches_gaps_and_wild_values_never_break_it(segments: list[tuple], bad: list[tuple[int, float]],
                                                       drop: float) -> None:
    samples = build(segments).samples(80.0, noise=0.05)
    for index, value in bad:
        i = index % len(samples)
        samples[i] = (samples[i][0], value)
    samples = [s for i, s in enumerate(samples) if (i * 7919 % 1000) / 1000 >= drop]
    assert_well_formed(feed_all(samples))


@FAST
@given(st.lists(st.tuples(st.one_of(st.floats(-1.0, 0.5), st.sampled_from([math.nan, math.inf, -math.inf])),
                          st.floats(allow_nan=True, allow_infinity=True)), max_size=400))
def test_any_floats_at_all(pairs: list[tuple[float, float]]) -> None:
    t, samples = 0.0, []
    for dt, kg in pairs:
        t = t + dt if math.isfinite(dt) else dt  # sometimes NaN/inf/backwards time
        samples.append((t, kg))
        if not math.isfinite(t):
            t = 0.0
    assert_well_formed(feed_all(samples))


def one_hold(breaths: int, cycle: float, duty: float, let_off: float, press_frac: float, target_s: float,
             tail: float) -> Script:
    """Standing, one stretch of `breaths` presses drawn across DESIGN §2, standing again."""
    hold_s = 2.0 + breaths * cycle + tail
    return Script().flat(0.0, 1.0).ramp(STAND, 0.6).flat(STAND, 12.0).ramp(0.8 * BODY, 2.0) \
        .hold(max(hold_s, target_s + 2.0), breaths, press=press_frac * BODY, cycle=cycle, let_off=let_off,
              duty=duty).ramp(STAND, 2.0).flat(STAND, 6.0).ramp(0.0, 0.6).flat(0.0, 1.0)


hold_draws = dict(breaths=st.integers(0, 7), cycle=st.floats(4.0, 12.0), duty=st.floats(0.3, 0.6),
                  let_off=st.floats(0.0, 1.0), press_frac=st.floats(0.02, 0.06), tail=st.floats(1.0, 12.0),
                  rate=st.sampled_from([10.0, 80.0]))


@FAST
@given(**hold_draws, sway=st.floats(0.0, 0.03))
def test_a_sure_count_is_the_count_fed_and_the_live_events_never_exceed_it(
        breaths: int, cycle: float, duty: float, let_off: float, press_frac: float, tail: float, rate: float,
        sway: float) -> None:
    # whatever the press, cycle, let-off and breathing-band sway (up to 6 % BW peak to peak, DESIGN
    # §2: as big as a press), one stretch, and a sure count is the count fed
    script = one_hold(breaths, cycle, duty, let_off, press_frac, 30.0, tail)
    events = feed_all(script.samples(rate, noise=0.05, sway=sway * BODY))
    (end,) = [e for e in events if e.kind == ev.STRETCH_END]
    assert end.data["breaths"] >= 0 and isinstance(end.data["breaths_sure"], bool)
    if end.data["breaths_sure"]:
        assert end.data["breaths"] == breaths
    if sway == 0.0:
        assert end.data["breaths_live"] <= breaths


@FAST
@given(**hold_draws, sway=st.floats(0.0, 0.03), target_s=st.floats(8.0, 40.0),
       target_breaths=st.integers(0, 8))
def test_hold_complete_always_comes_by_target_s_whatever_the_breath_target(
        breaths: int, cycle: float, duty: float, let_off: float, press_frac: float, tail: float, rate: float,
        sway: float, target_s: float, target_breaths: int) -> None:
    script = one_hold(breaths, cycle, duty, let_off, press_frac, target_s, tail)
    events = feed_all(script.samples(rate, noise=0.05, sway=sway * BODY), target_s=target_s,
                      target_breaths=target_breaths)
    hold = next(e for e in events if e.kind == ev.HOLD_START)
    (complete,) = [e for e in events if e.kind == ev.HOLD_COMPLETE]
    assert complete.t <= hold.t + target_s + 1.0 / rate + 1e-3  # (event times carry 4 decimals)
    if complete.t < hold.t + target_s - 1e-6:  # early, on the breath target: only on a sure count
        assert target_breaths and complete.data["breaths"] >= target_breaths
    (end,) = [e for e in events if e.kind == ev.STRETCH_END]
    assert end.data["completed"]
