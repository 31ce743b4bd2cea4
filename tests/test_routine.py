"""The routine session, driven by scripted detector events and a fake wall clock (no store here;
the saver is a list). Each test is one situation from issue 13."""

from __future__ import annotations

from datetime import datetime

import pytest

from firmware import events as ev
from firmware.events import Event
from firmware.history.days import DayClock
from firmware.routine import BUILTINS, Profile, Protocol, Routine, RoutineSettings, plan
from firmware.routine.session import Progress

STEP_CALF = BUILTINS[0]
ONE_EACH = Protocol("one-each", "one each", knees=("straight",), reps=1, finish_on_tighter=False, rest_s=10.0)
BREATHS = Protocol("breaths5", "five breaths", knees=("straight",), reps=1, target_s=60.0, target_breaths=5,
                   min_hold_s=20.0)


class ListSaver:
    def __init__(self):
        self.routines, self.holds, self.stands = [], [], []

    def save_routine(self, row):
        self.routines.append(row)

    def add_hold(self, row):
        self.holds.append(row)

    def learn_stand(self, profile_id, kg):
        self.stands.append((profile_id, kg))


class Wall:
    """A wall clock that only moves when told to (local time)."""

    def __init__(self, when: datetime):
        self.now = when.timestamp()

    def __call__(self):
        return self.now


class Person:
    """Feeds a routine the events a detector would give for holds; collects the buzzer cues."""

    def __init__(self, routine: Routine, wall: Wall, t: float = 0.0):
        self.r, self.wall, self.t, self.cues = routine, wall, t, []

    def event(self, kind, leg=None, **data):
        self.cues += self.r.on_event(Event(kind, self.t, data), leg)

    def wait(self, seconds, kg=30.0, step=0.5):
        end = self.t + seconds
        while self.t < end:
            self.t = min(end, self.t + step)
            self.wall.now += step
            self.cues += self.r.poll(self.t, kg)

    def step_on(self):
        self.event(ev.STEP_ON)
        self.wait(4.0)

    def hold(self, hold_s=32.0, *, leg=None, bounces=0, completed=True, breaths=4, rest=12.0):
        self.event(ev.STRETCH_START, leg)
        self.wait(2.0)
        self.event(ev.HOLD_START, leg)
        if bounces:
            self.wait(3.0)
            self.event(ev.BOUNCE, leg, hz=2.0, pp_kg=8.0)
        self.wait(min(hold_s, 30.0) - (3.0 if bounces else 0.0))
        if completed:
            self.event(ev.HOLD_COMPLETE, leg, hold_s=min(hold_s, 30.0), breaths=breaths)
        self.wait(max(0.0, hold_s - 30.0) + 2.0)
        self.event(ev.STRETCH_END, None, hold_start=1.0, hold_s=hold_s, breaths=breaths, bounces=bounces,
                   completed=completed)
        self.wait(rest)

    def routine_of(self, n, **kw):
        for _ in range(n):
            self.hold(**kw)


def morning(hour=9, minute=0):
    return Wall(datetime(2026, 3, 10, hour, minute))


def make(protocol=STEP_CALF, *, wall=None, tighter="right", saver=None, **kw):
    wall = wall or morning()
    settings = kw.pop("settings", None) or RoutineSettings.of(protocol, tighter=tighter)
    routine = Routine(settings, wall=wall, saver=saver, **kw)
    return routine, Person(routine, wall)


# --- protocols and labels ---------------------------------------------------------------------
def test_default_plan_alternates_from_the_tighter_side_and_finishes_on_it_per_knee():
    slots = plan(STEP_CALF, "right")
    assert "".join(s.leg[0] for s in slots) == "rlrlrlr" * 2
    assert [s.knee for s in slots] == ["straight"] * 7 + ["bent"] * 7
    assert slots[2].label == "right leg, knee straight, 2 of 4"
    assert slots[3].label == "left leg, knee straight, 2 of 3"
    assert slots[6].label == "right leg, knee straight, 4 of 4 — finish on the right"
    assert [(s.leg, s.rep, s.reps) for s in plan(STEP_CALF, "left")[:3]] == [
        ("left", 1, 4), ("right", 1, 3), ("left", 2, 4)]


def test_thirty_seconds_three_each_leg_has_equal_holds():
    slots = plan(BUILTINS[1], "right")
    assert [(s.leg, s.rep) for s in slots] == [("right", 1), ("left", 1), ("right", 2), ("left", 2),
                                               ("right", 3), ("left", 3)]
    assert slots[3].label == "left leg, knee straight, 2 of 3"


# --- the flow ---------------------------------------------------------------------------------
def test_normal_flow_cues_each_step_and_says_routine_done():
    saver = ListSaver()
    routine, person = make(saver=saver)
    person.step_on()
    assert person.cues == ["ready"]
    assert routine.status()["slot"]["label"] == "right leg, knee straight, 1 of 4"
    person.cues.clear()
    person.hold()
    # a clean hold: complete, then the other leg is next, then the rest counts down to "rest over"
    assert person.cues == ["hold_complete", "switch_legs", "rest_over"]
    status = routine.status()
    assert status["slot"]["label"] == "left leg, knee straight, 1 of 3"
    assert status["next"]["label"] == "right leg, knee straight, 2 of 4"
    person.routine_of(13)
    status = routine.status()
    assert status["done"] is True and status["routines_today"] == 1 and status["goal"] == 3
    assert person.cues[-1] == "routine_done" and person.cues.count("routine_done") == 1
    # 7 -> 8: right straight (finish) then right bent: the same leg, no "switch legs"
    assert person.cues.count("switch_legs") == 12
    assert [h["outcome"] for h in saver.holds] == ["clean"] * 14
    assert saver.holds[-1]["status"] == "done" and saver.holds[-1]["done_slots"] == list(range(14))
    # the next stretch starts routine 2 at the first slot
    person.hold()
    assert routine.status()["done"] is False and routine.status()["holds_done"] == 1 and routine.seq == 2


def test_rest_counts_down_and_a_new_stretch_cuts_it_short():
    routine, person = make(ONE_EACH)
    person.step_on()
    person.hold(rest=4.0)
    assert routine.status()["rest_s_left"] == pytest.approx(6.0)
    assert routine.status()["phase"] == "rest"
    person.event(ev.STRETCH_START)
    assert routine.status()["rest_s_left"] is None
    assert "rest_over" not in person.cues


@pytest.mark.parametrize(("kw", "outcome", "cue"), [
    ({"hold_s": 12.0, "completed": False}, "early", None),      # released before the target
    ({"bounces": 1}, "bounced", "bounce"),                       # bounced: recorded, asked again
])
def test_a_bounced_or_early_hold_is_recorded_and_asked_for_again(kw, outcome, cue):
    saver = ListSaver()
    routine, person = make(saver=saver)
    person.step_on()
    person.cues.clear()
    person.hold(**kw)
    status = routine.status()
    assert status["slot"]["label"] == "right leg, knee straight, 1 of 4"   # the same slot again
    assert status["last_hold"]["outcome"] == outcome
    assert saver.holds[-1]["outcome"] == outcome and saver.holds[-1]["slot"] is None
    assert "switch_legs" not in person.cues
    if cue:
        assert cue in person.cues
    person.hold()                                                        # the redo, clean
    assert routine.status()["slot"]["leg"] == "left"
    assert saver.holds[-1]["outcome"] == "clean" and saver.holds[-1]["slot"] == 0


def test_a_breath_target_needs_the_minimum_time():
    routine, person = make(BREATHS)
    assert routine.take_target() == (60.0, 5)
    person.step_on()
    person.cues.clear()
    person.event(ev.STRETCH_START)
    person.event(ev.HOLD_START)
    person.wait(9.0)
    person.event(ev.HOLD_COMPLETE, hold_s=9.0, breaths=5)    # five quick presses in 9 s
    assert person.cues == []
    person.wait(10.5)
    assert person.cues == []
    person.wait(1.0)                                          # 20 s held: now it is complete
    assert person.cues == ["hold_complete"]
    person.event(ev.STRETCH_END, hold_start=0.0, hold_s=14.0, breaths=5, bounces=0, completed=True)
    assert routine.status()["last_hold"]["outcome"] == "early"  # ...but released at 14 s: again


def test_stepping_off_mid_routine_resumes_soon_after_and_starts_afresh_later():
    saver = ListSaver()
    routine, person = make(saver=saver)
    person.step_on()
    person.routine_of(3)
    person.event(ev.STEP_OFF)
    assert routine.status()["phase"] == "away" and routine.status()["rest_s_left"] is None
    person.wait(10 * 60)
    person.step_on()
    assert routine.status()["holds_done"] == 3                 # back within 30 min: resumed
    person.event(ev.STEP_OFF)
    person.wait(31 * 60)
    person.step_on()
    status = routine.status()
    assert status["holds_done"] == 0 and status["slot"]["label"] == "right leg, knee straight, 1 of 4"
    assert saver.routines[-1]["status"] == "abandoned" and saver.routines[-1]["done_slots"] == [0, 1, 2]
    person.hold()
    assert routine.seq == 2


def test_a_restart_resumes_from_the_kept_progress():
    wall = morning()
    progress = Progress(day="2026-03-10", seq=2, status="open", done_slots=(0, 1, 2, 3, 4), routines_done=1,
                        updated=wall.now - 60, protocol="step-calf", tighter="right")
    routine, person = make(wall=wall, progress=progress)
    status = routine.status()
    assert status["routines_today"] == 1 and status["holds_done"] == 5
    assert status["slot"]["label"] == "left leg, knee straight, 3 of 3"
    person.step_on()
    person.routine_of(9)
    assert routine.status()["routines_today"] == 2 and routine.seq == 2


@pytest.mark.parametrize(("change", "closed"), [
    ({"day": "2026-03-09"}, False),            # yesterday's: today starts empty, yesterday is left alone
    ({"updated_ago": 31 * 60}, True),          # older than the resume window
    ({"protocol": "30s-x3"}, True),            # the plan changed since
])
def test_a_restart_does_not_resume_yesterday_a_stale_or_another_plan(change, closed):
    wall = morning()
    kept = Progress(day=change.get("day", "2026-03-10"), seq=1, done_slots=(0, 1),
                    updated=wall.now - change.get("updated_ago", 60),
                    protocol=change.get("protocol", "step-calf"), tighter="right")
    saver = ListSaver()
    routine, _ = make(wall=wall, progress=kept, saver=saver)
    assert routine.status()["holds_done"] == 0
    assert bool(saver.routines) == closed
    if closed:
        assert saver.routines[-1]["status"] == "abandoned" and saver.routines[-1]["done_slots"] == [0, 1]


def test_the_day_starts_at_the_configured_time_not_midnight():
    wall = Wall(datetime(2026, 3, 10, 23, 50))
    routine, person = make(ONE_EACH, wall=wall, day_clock=DayClock(4 * 60))
    person.step_on()
    person.routine_of(2)
    assert routine.status()["routines_today"] == 1 and routine.day == "2026-03-10"
    wall.now = datetime(2026, 3, 11, 3, 59).timestamp()        # past midnight: still the same day
    person.wait(1.0)
    assert routine.status()["routines_today"] == 1
    person.hold()                                               # half a routine, then 04:00 comes
    wall.now = datetime(2026, 3, 11, 4, 0, 30).timestamp()
    person.wait(1.0)
    status = routine.status()
    assert status["day"] == "2026-03-11" and status["routines_today"] == 0 and status["holds_done"] == 0


def test_the_day_does_not_turn_in_the_middle_of_a_hold():
    wall = Wall(datetime(2026, 3, 11, 3, 59, 50))
    routine, person = make(ONE_EACH, wall=wall)
    person.step_on()
    person.event(ev.STRETCH_START)
    person.event(ev.HOLD_START)
    person.wait(20.0)
    assert routine.day == "2026-03-10"
    person.wait(15.0)
    person.event(ev.STRETCH_END, hold_start=0.0, hold_s=35.0, breaths=4, bounces=0, completed=True)
    assert routine.status()["holds_done"] == 1     # credited to the routine it was done in
    person.wait(1.0)
    assert routine.day == "2026-03-11" and routine.status()["holds_done"] == 0


def test_two_cells_the_leg_the_step_saw_wins_and_a_wrong_leg_is_cued():
    routine, person = make(ONE_EACH)
    person.step_on()
    person.cues.clear()
    person.hold(leg="left")                 # the plan says right; the step saw left
    assert person.cues[0] == "wrong_leg"
    assert routine.status()["last_hold"] == {"outcome": "clean", "label": "left leg, knee straight, 1 of 1",
                                             "hold_s": 32.0, "leg": "left"}
    assert routine.done == [False, True] and routine.status()["slot"]["leg"] == "right"
    person.hold(leg="left")                 # no open left slot any more: recorded, not credited
    assert routine.status()["last_hold"]["outcome"] == "wrong_leg" and routine.done == [False, True]
    person.cues.clear()
    person.hold(leg="right")
    assert "wrong_leg" not in person.cues and routine.status()["done"] is True


def test_context_names_the_leg_seen_for_the_stored_stretch():
    routine, person = make(ONE_EACH)
    person.step_on()
    person.event(ev.STRETCH_START, "left")
    person.event(ev.HOLD_START, "left")
    assert routine.context(None)["leg"] == "left"     # at stretch_end the load is even again
    assert routine.context("right")["leg"] == "right"


def test_settings_offered_mid_hold_apply_from_the_next_hold():
    routine, person = make(ONE_EACH)
    assert routine.take_target() == (30.0, 0)
    person.step_on()
    person.event(ev.STRETCH_START)
    person.event(ev.HOLD_START)
    longer = RoutineSettings.of(ONE_EACH, target_s=45.0)
    routine.offer(longer)
    person.wait(5.0)
    assert routine.take_target() is None and routine.target_s == 30.0
    person.event(ev.STRETCH_END, hold_start=0.0, hold_s=31.0, breaths=3, bounces=0, completed=True)
    person.wait(0.5)
    assert routine.take_target() == (45.0, 0)
    assert routine.status()["holds_done"] == 1         # same plan: progress kept


def test_another_protocol_starts_a_fresh_routine_and_abandons_the_open_one():
    saver = ListSaver()
    routine, person = make(saver=saver)
    person.step_on()
    person.routine_of(2)
    routine.offer(RoutineSettings.of(BUILTINS[1]))
    person.wait(1.0)
    assert routine.status()["protocol"]["id"] == "30s-x3" and routine.status()["holds_done"] == 0
    assert saver.routines[-1]["status"] == "abandoned"


def test_switching_profile_takes_that_persons_progress():
    routine, person = make()
    ann = Profile(7, "ann", tighter_side="left", daily_goal=5)
    theirs = Progress(day="2026-03-10", seq=1, status="done", done_slots=tuple(range(14)),
                      routines_done=1, updated=person.wall.now, protocol="step-calf", tighter="left")
    routine.offer(RoutineSettings(STEP_CALF, ann), theirs)
    person.wait(0.5)
    status = routine.status()
    assert status["profile"] == {"id": 7, "name": "ann"} and status["goal"] == 5
    assert status["routines_today"] == 1 and status["slot"]["leg"] == "left"


@pytest.mark.parametrize(("loads", "seen", "expected"), [
    ({1: 30.0, 2: 45.0}, 44.0, 2),     # far apart: the heavier one is suggested
    ({1: 30.0, 2: 45.0}, 31.0, None),  # the active one already
    ({1: 30.0, 2: 33.0}, 33.0, None),  # too close to tell
    ({1: 30.0, 2: 45.0}, 60.0, None),  # nobody near
])
def test_standing_load_suggests_a_profile_only_when_weights_are_far_apart(loads, seen, expected):
    everyone = tuple(Profile(i, f"p{i}", stand_kg=kg) for i, kg in loads.items())
    routine, person = make(settings=RoutineSettings(STEP_CALF, everyone[0], profiles=everyone))
    person.event(ev.STEP_ON)
    person.wait(4.0, kg=seen)
    suggested = routine.status()["suggested_profile"]
    assert (suggested and suggested["id"]) == expected


def test_a_clean_hold_teaches_the_active_profile_its_standing_load():
    saver = ListSaver()
    routine, person = make(ONE_EACH, saver=saver)
    person.event(ev.STEP_ON)
    person.wait(4.0, kg=33.0)
    person.hold()
    person.hold()
    assert saver.stands == [(0, 33.0)]   # once per visit


def test_buzzer_off_keeps_the_cue_in_the_status_for_the_phone():
    routine, person = make(settings=RoutineSettings.of(STEP_CALF, buzzer=False))
    person.event(ev.STEP_ON)
    assert person.cues == []
    status = routine.status()
    assert status["cue"] == "ready" and status["cue_id"] == 1
    person.wait(5.0)
    assert routine.status()["cue"] is None    # a page joining later does not replay an old cue


def test_status_has_the_contract_keys():
    routine, _ = make()
    status = routine.status()
    assert {"protocol", "slot", "next", "done", "routines_today", "goal", "rest_s_left", "cue"} <= set(status)
    assert set(status["slot"]) == {"leg", "knee", "rep", "reps", "label"}
    assert status["protocol"] == {"id": "step-calf", "name": "Step calf — straight and bent"}


def test_a_new_detector_ends_a_stretch_cut_off_and_keeps_the_progress():
    routine, person = make(ONE_EACH)
    person.step_on()
    person.hold()
    person.event(ev.STRETCH_START)
    person.event(ev.HOLD_START)                 # the sensor fails here: no stretch_end will come
    routine.offer(RoutineSettings.of(ONE_EACH, target_s=40.0))
    person.wait(1.0)
    assert routine.target_s == 30.0             # mid-hold: waits
    routine.new_detector()
    person.wait(0.5)
    assert routine.target_s == 40.0 and routine.status()["holds_done"] == 1
