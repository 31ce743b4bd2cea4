"""A bounce as the hold begins (bouncing into the stretch; DESIGN §2: a 1-3 Hz oscillation about
the hold level): the ramp is judged up to the bounce's first swing, not through it, so the
stretch is neither lost (its swings read as a plateau too low, a ramp that stalls or climbs on)
nor held from after the bounce, and the bounce is flagged once."""

from __future__ import annotations

import pytest

from firmware import events as ev
from tests.test_detector import BODY, Script, kinds, run


def bounce_into_hold(rate: float, stand_frac: float, top_frac: float, ramp_s: float, hz: float,
                     pp_frac: float, cycles: int) -> list[ev.Event]:
    """Standing, a ramp to `top_frac` BW, a bounce 0.5 s into a 30 s hold of 4 breaths (the
    first after it), a release and a step off."""
    stand, top = stand_frac * BODY, top_frac * BODY
    script = Script().flat(0.0, 2.0).ramp(stand, 0.6).flat(stand, 15.0).ramp(top, ramp_s) \
        .hold(30.0, 4, lead=0.5 + cycles / hz + 1.0).bounce(0.5, hz, pp_frac * BODY, cycles) \
        .ramp(stand, 2.0).flat(stand, 5.0).ramp(0.0, 0.6).flat(0.0, 2.0)
    return run(script.samples(rate, sway=0.005 * BODY))


@pytest.mark.parametrize(("rate", "stand_frac", "top_frac", "ramp_s", "hz", "pp_frac", "cycles"), [
    (10.0, 0.27, 0.9, 1.2, 1.0, 0.25, 4),   # its first peak reads as the ramp climbing on
    (10.0, 0.45, 0.7, 2.0, 1.0, 0.25, 1),   # one slow cycle: a trough reads as the plateau
    (10.0, 0.27, 0.7, 2.0, 1.0, 0.30, 1),
    (10.0, 0.45, 0.7, 1.2, 3.0, 0.25, 4),   # 3 Hz seen at 10 Hz
    (80.0, 0.27, 0.9, 1.2, 1.0, 0.30, 4),
    (80.0, 0.45, 0.9, 1.2, 1.0, 0.25, 1),
])
def test_a_bounce_as_the_hold_begins_keeps_the_stretch_and_is_flagged(
        rate: float, stand_frac: float, top_frac: float, ramp_s: float, hz: float, pp_frac: float,
        cycles: int) -> None:
    events = bounce_into_hold(rate, stand_frac, top_frac, ramp_s, hz, pp_frac, cycles)
    assert kinds(events, ev.STRETCH_START, ev.HOLD_START, ev.BOUNCE, ev.STRETCH_END) == [
        ev.STRETCH_START, ev.HOLD_START, ev.BOUNCE, ev.STRETCH_END]
    (end,) = [e.data for e in events if e.kind == ev.STRETCH_END]
    assert end["hold_s"] > 29.0  # held from the ramp's top (30 s), not from after the bounce
