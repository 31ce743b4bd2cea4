"""A simulated person does the built-in routine through the real loop: the detector, the routine,
its keeper and the SQLite store, buzzer cues on gpiozero's MockFactory pin (no Pi here), on a fake
clock and a fake wall clock. The morning visit has a bounced hold (asked for again) and ends in a
power cut; after the restart the routine goes on where it was and finishes; the next day (after
04:00) starts from nothing, while yesterday's routine stays counted."""

from __future__ import annotations

import random
from datetime import datetime

from firmware.config import DEFAULTS
from firmware.cues import BuzzerCues, make_buzzer
from firmware.device import Device
from firmware.history import History
from firmware.routine import BUILTINS, records
from firmware.routine.build import RoutineBook, build_routine
from firmware.routine.protocols import plan
from firmware.sensors.simulated import Off, SimulatedPerson, Stand, StepOff, StepOn
from firmware.sensors.simulated.scenarios import random_hold
from firmware.service import make_detector
from firmware.store import Store, StoreWriter

SLOTS = plan(BUILTINS[0], "right")
BOOK = RoutineBook.from_config(DEFAULTS)
BODY, STAND = 70.0, 0.45
RATE = 10.0


def person(slots: list[int], *, bounce_at: int | None = None, seed: int = 1) -> SimulatedPerson:
    """Steps on, does the given slots' holds with a 12 s pause after each (longer than the 10 s rest),
    one of them bounced, steps off."""
    rng = random.Random(seed)
    segs: list = [Off(3.0), StepOn(0.6), Stand(5.0)]
    for i, index in enumerate(slots):
        slot = SLOTS[index]
        segs.append(random_hold(rng, STAND, leg=slot.leg, knee=slot.knee, bounces=1 if i == bounce_at else 0))
        segs.append(Stand(12.0))
    segs += [StepOff(0.6), Off(3.0)]
    return SimulatedPerson(segs, rate_hz=RATE, body_kg=BODY, stand_frac=STAND, seed=seed)


class Visit:
    def __init__(self, store, writer, routine, fake_clock, wall):
        self.store, self.writer, self.routine = store, writer, routine
        self.clock, self.wall = fake_clock, wall

    def run(self, who: SimulatedPerson) -> list[str]:
        buzzer = make_buzzer(18, mock=True)
        session = self.store.start_session("simulated", self.wall())
        device = Device(who, make_detector(DEFAULTS), routine=self.routine, cues=BuzzerCues(buzzer),
                        writer=self.writer, session_id=session, clock=self.clock, wait=self.clock.wait,
                        wall=self.wall)
        device.run()
        assert self.writer.flush(timeout=10)
        buzzer.close()
        return device.cues.played


def test_the_built_in_routine_across_a_power_cut_and_a_day_change(tmp_path, fake_clock):
    store = Store(tmp_path / "history.sqlite")
    writer = StoreWriter(store)
    base = datetime(2026, 3, 10, 9, 0).timestamp()
    start = fake_clock.now
    offset = {"s": 0.0}

    def wall():
        return base + offset["s"] + (fake_clock.now - start)

    # --- morning: five slots, the third hold bounced and done again; then the power goes ------
    routine, keeper = build_routine(DEFAULTS, store, wall=wall, start=False)
    visit = Visit(store, writer, routine, fake_clock, wall)
    cues = visit.run(person([0, 1, 2, 2, 3, 4], bounce_at=2))
    keeper.drain()          # what the keeper thread had written before the cut
    assert cues[0] == "ready" and "bounce" in cues
    assert cues.count("switch_legs") == 5 and cues.count("rest_over") == 6
    assert "routine_done" not in cues
    day = routine.day
    kept = records.holds(store, day)
    assert [h["outcome"] for h in kept] == ["clean", "clean", "bounced", "clean", "clean", "clean"]
    assert [h["slot"] for h in kept] == [0, 1, None, 2, 3, 4]

    # --- restart: the routine goes on at the sixth slot and finishes ---------------------------
    routine, keeper = build_routine(DEFAULTS, store, wall=wall, start=False)
    assert routine.status()["slot"]["label"] == "left leg, knee straight, 3 of 3"
    visit.routine = routine
    cues = visit.run(person(list(range(5, 14)), seed=2))
    keeper.drain()
    status = routine.status()
    assert cues.count("routine_done") == 1 and cues.count("switch_legs") == 7
    assert status["done"] is True and status["routines_today"] == 1 and status["goal"] == 3

    # every stored stretch carries the slot the person was asked for (the redo repeats it)
    rows = sorted(store.stretches(limit=1000), key=lambda r: r["wall"])
    asked = [0, 1, 2, 2, 3, 4, *range(5, 14)]
    assert [(r["leg"], r["knee"], r["rep"]) for r in rows] == [
        (SLOTS[i].leg, SLOTS[i].knee, SLOTS[i].rep) for i in asked]

    # --- the next morning after 04:00: a new day, from nothing ---------------------------------
    offset["s"] = datetime(2026, 3, 11, 4, 5).timestamp() - wall()
    cues = visit.run(person([0, 1], seed=3))
    keeper.drain()
    status = routine.status()
    assert status["day"] == "2026-03-11" != day
    assert status["routines_today"] == 0 and status["holds_done"] == 2
    assert records.routines_done(store, day) == 1
    assert records.routines_done(store, "2026-03-11") == 0

    # history (firmware.history) reads the same days and routines: yesterday one of three
    hooks = BOOK.history_hooks(store)
    figures = History(store, hooks["day_clock"], goal=hooks["daily_goal"](),
                      routines_done=hooks["routines_done"]).report(2, wall())
    yesterday, today = figures["days"]
    assert (yesterday["day"], yesterday["routines"], yesterday["goal_met"]) == (day, 1, False)
    assert yesterday["bounced"] == 1 and today["routines"] == 0
    writer.close()
    store.close()
