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
