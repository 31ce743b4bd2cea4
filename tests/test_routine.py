import pytest

from firmware import events as ev
from firmware.events import Event
from firmware.routine import Routine, plan


def test_plan_starts_and_finishes_on_the_tighter_side_for_each_knee():
    slots = plan(3, "right", "both")
    assert [s.leg[0] for s in slots] == list("rlrlrlr") * 2
    assert [s.knee for s in slots] == ["straight"] * 7 + ["bent"] * 7
    left_first = plan(2, "left", "bent")
    assert [(s.leg, s.rep) for s in left_first] == [
        ("left", 1), ("right", 1), ("left", 2), ("right", 2), ("left", 3)]


@pytest.mark.parametrize(("args", "what"), [((0,), "reps"), ((2, "up"), "first_leg"),
                                             ((2, "right", "wobbly"), "knees")])
def test_plan_rejects_bad_settings(args, what):
    with pytest.raises(ValueError, match=what):
        plan(*args)


def end(hold_start):
    return Event(ev.STRETCH_END, 10.0, {"hold_start": hold_start})


def test_routine_advances_only_on_stretches_that_held_and_wraps():
    routine = Routine(reps=1, knees="straight")
    assert routine.context()["leg"] == "right"
    assert routine.on_event(end(None)) is False       # a ramp that never held does not count
    assert routine.on_event(Event(ev.BREATH, 1.0, {})) is False
    assert routine.on_event(end(3.0)) is True
    assert routine.context() == {"leg": "left", "knee": "straight", "rep": 1, "step": 2, "steps": 3}
    routine.on_event(end(3.0))
    routine.on_event(end(3.0))
    assert routine.rounds_done == 1 and routine.current.leg == "right"
