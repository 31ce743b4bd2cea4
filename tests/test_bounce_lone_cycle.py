"""A bounce of one cycle at about 1 Hz: its own half cycles move the 1 s mean (by about 0.3 of
its swing), as a step or a ramp's bend does; it is told from them because the load comes back
to where it began (bounces.LoneCycle)."""

from __future__ import annotations

import pytest

from firmware import events as ev
from tests.test_detector import BODY, STAND, Script, kinds, real_sized_sway, run


def hold_in_sway(rate: float, bounce: tuple[float, float, float] | None = None) -> list[ev.Event]:
    """A 40 s hold of 4 breaths in an older adult's real-sized sway, maybe with a one-cycle
    bounce (at s into the hold, hz, pp kg)."""
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 20.0).ramp(0.8 * BODY, 2.0) \
        .hold(40.0, 4, lead=3.0)
    if bounce is not None:
        at, hz, pp = bounce
        script.bounce(at, hz, pp, cycles=1)
    script.ramp(STAND, 2.0).flat(STAND, 5.0)
    script.overlays.append((2.6, script.t, real_sized_sway(2)))
    return run(script.samples(rate))


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_a_lone_1_hz_bounce_cycle_in_real_sized_sway_is_flagged(rate: float) -> None:
    # 20 % BW, one cycle, where the sway moves the 1 s mean on top of what the cycle itself moves
    # it: more than a bounce's first cycle is allowed to (LEVEL_SHARE), yet the load comes back
    assert kinds(hold_in_sway(rate)).count(ev.BOUNCE) == 0
    assert kinds(hold_in_sway(rate, (27.0, 1.0, 0.2 * BODY))).count(ev.BOUNCE) == 1


@pytest.mark.parametrize("rate", [10.0, 80.0])
@pytest.mark.parametrize("step_frac", [-0.08, -0.12])
def test_a_quick_step_in_a_hold_never_comes_back_and_is_no_bounce(rate: float, step_frac: float) -> None:
    # a foot shift in 0.3 s swings the 1-3 Hz band like a lone cycle (half, whole, half), but the
    # load stays where the step took it
    top = 0.8 * BODY
    script = Script().flat(0.0, 2.0).ramp(STAND, 0.6).flat(STAND, 20.0).ramp(top, 2.0).flat(top, 12.0) \
        .ramp(top + step_frac * BODY, 0.3).flat(top + step_frac * BODY, 15.0).ramp(STAND, 2.0) \
        .flat(STAND, 5.0)
    events = run(script.samples(rate, sway=0.005 * BODY))
    assert kinds(events, ev.STRETCH_START, ev.BOUNCE) == [ev.STRETCH_START]
