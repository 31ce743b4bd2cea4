"""The routine session: follows the detector's events through a protocol's slots.

Pure logic, driven by events and sample times (and an injected wall clock for the day): it never
touches the disk. What must survive a restart or a power cut it hands to a `saver` (the
RoutineKeeper's thread writes it); what it starts from (today's progress, the settings) is given
to it. Rules (issue 13):

- a hold advances the routine only when it completed without a bounce (and, with a breath target,
  lasted the minimum time); a bounced or early hold is recorded and asked for again;
- with a second cell the leg the step saw wins over the plan: the hold fills that leg's next open
  slot of the same knee, and a leg other than the planned one is cued ("wrong_leg");
- after each hold a rest counts down, then "rest over"; the last slot gives "routine done";
- stepping off pauses; coming back within `resume_within_s` resumes, later starts afresh;
- the day (firmware.history's DayClock, from [routine] day_start, e.g. 04:00) resets the count of
  routines; settings offered from another thread (`offer`) apply between holds, so a change
  applies from the next hold.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from typing import Protocol as TypingProtocol

from firmware import events as ev
from firmware.events import Event
from firmware.routine.profiles import Profile, body_kg_in_use, suggest_profile
from firmware.routine.protocols import BUILTINS, Protocol, Slot, plan

if TYPE_CHECKING:
    from firmware.history.days import DayClock

CUE_SHOW_S = 3.0            # the status names a cue this long (source time) after it sounded
STAND_WINDOW_S = (1.0, 3.0)  # after step-on, the standing load is the median over this window
RESUME_WITHIN_S = 30 * 60.0

OPEN, DONE, ABANDONED = "open", "done", "abandoned"
CLEAN, BOUNCED, EARLY, WRONG_LEG = "clean", "bounced", "early", "wrong_leg"


@dataclass(frozen=True)
class RoutineSettings:
    """What the routine needs to know about the person and the device; replaced whole."""

    protocol: Protocol
    profile: Profile
    buzzer: bool = True
    profiles: tuple[Profile, ...] = ()     # everyone, for the standing-load suggestion
    default_body_kg: float | None = None   # [person] body_kg, for the first profile only (else None)

    @classmethod
    def of(cls, protocol: Protocol | None = None, *, tighter: str = "right", goal: int = 3,
           buzzer: bool = True, **profile: Any) -> RoutineSettings:
        """Settings for one person without a store (tests, tools): profile id 0, named "me"."""
        chosen = protocol or BUILTINS[0]
        return cls(chosen, Profile(0, profile.pop("name", "me"), tighter_side=tighter, protocol=chosen.id,
                                   daily_goal=goal, **profile), buzzer=buzzer)

    @property
    def tighter(self) -> str:
        return self.profile.tighter_side

    @property
    def target_s(self) -> float:
        return self.profile.target_s or self.protocol.target_s

    @property
    def target_breaths(self) -> int:
        b = self.profile.target_breaths
        return self.protocol.target_breaths if b is None else b

    @property
    def body_kg(self) -> float | None:
        """What the detector is told: the profile's weight, else the config's (body_kg_in_use)."""
        return body_kg_in_use(self.profile, self.default_body_kg)[0]

    @property
    def min_hold_s(self) -> float:
        """A time target needs no minimum (complete means that long); a breath target does."""
        return min(self.protocol.min_hold_s, self.target_s) if self.target_breaths else 0.0

    @property
    def goal(self) -> int:
        return self.profile.daily_goal


@dataclass(frozen=True)
class Progress:
    """Today's routine state of one profile, as the store keeps it."""

    day: str
    seq: int = 0                      # number of the latest routine today (0 = none yet)
    status: str = OPEN                # of routine `seq`
    done_slots: tuple[int, ...] = ()
    routines_done: int = 0
    updated: float = 0.0
    protocol: str = ""
    tighter: str = ""


class Saver(TypingProtocol):
    """Where the routine's records go; every method must return at once (a queue)."""

    def save_routine(self, row: dict[str, Any]) -> None: ...
    def add_hold(self, row: dict[str, Any]) -> None: ...
    def learn_stand(self, profile_id: int, kg: float) -> None: ...


@dataclass
class _Stretch:
    legs: Counter = field(default_factory=Counter)
    hold_t: float | None = None
    complete_due: float | None = None   # breath target reached early: cue at the minimum time
    complete_cued: bool = False

    def seen_leg(self) -> str | None:
        return self.legs.most_common(1)[0][0] if self.legs else None


class Routine:
    def __init__(self, settings: RoutineSettings, *, day_clock: DayClock | None = None,
                 wall: Callable[[], float] = time.time, saver: Saver | None = None,
                 progress: Progress | None = None, resume_within_s: float = RESUME_WITHIN_S) -> None:
        if day_clock is None:
            from firmware.history.days import DayClock  # history and routine cut days alike

            day_clock = DayClock()
        self.day_clock = day_clock
        self._wall = wall
        self.saver = saver
        self.resume_within_s = resume_within_s
        self._offered: tuple[RoutineSettings, Progress | None] | None = None
        self._set_settings(settings)
        self._start_day(wall())
        self.phase = "away"
        self._t = 0.0
        self._stretch: _Stretch | None = None
        self._rest_until: float | None = None
        self._cue: str | None = None
        self._cue_id = 0
        self._cue_until = 0.0
        self.last_hold: dict[str, Any] | None = None
        self.wrong_leg = False
        self._stand_t0: float | None = None
        self._stand_kg: list[float] = []
        self._visit_stand: float | None = None
        self._stand_learned = False
        self.suggested: Profile | None = None
        if progress is not None:
            self._restore(progress, wall())

    # --- settings and progress --------------------------------------------------------------
    def _set_settings(self, settings: RoutineSettings) -> None:
        self.settings = settings
        self.slots: list[Slot] = plan(settings.protocol, settings.tighter)
        self._said = [slot.to_dict() for slot in self.slots]   # built once: status() runs per sample
        self._target_changed = True

    def _start_day(self, wall: float) -> None:
        day = self.day_clock.day_of(wall)
        self.day = day.isoformat()
        self._day_end = self.day_clock.bounds(day)[1]
        self.routines_done = 0
        self.seq = 0
        self._reset_routine()
        self.finished = False

    def _reset_routine(self) -> None:
        self.done = [False] * len(self.slots)
        self.open = False
        self._saved = False
        self.updated = 0.0

    def _restore(self, p: Progress, wall: float) -> None:
        """Continue today's state from the store (a restart, or a profile switched to)."""
        if p.day != self.day:
            return
        self.routines_done, self.seq = p.routines_done, p.seq
        self.finished = p.status == DONE
        same_plan = (p.protocol, p.tighter) == (self.settings.protocol.id, self.settings.tighter)
        if p.status != OPEN:
            return
        if same_plan and wall - p.updated <= self.resume_within_s:
            self.done = [i in p.done_slots for i in range(len(self.slots))]
            self.open, self._saved, self.updated = True, True, p.updated
        elif self.saver is not None:  # too old, or the plan changed since: it stays unfinished
            self.saver.save_routine({**self._row(p.seq, ABANDONED, wall), "done_slots": list(p.done_slots),
                                     "protocol": p.protocol, "tighter_side": p.tighter})

    def offer(self, settings: RoutineSettings, progress: Progress | None = None) -> None:
        """New settings (and, for another profile, its progress) from any thread; applied between
        holds on the loop thread."""
        self._offered = (settings, progress)

    def _apply_offered(self, wall: float) -> None:
        offered, self._offered = self._offered, None
        if offered is None:
            return
        settings, progress = offered
        old = self.settings
        if settings.profile.id != old.profile.id:
            self._set_settings(settings)
            self._start_day(wall)
            self.suggested = None
            if progress is not None:
                self._restore(progress, wall)
        elif (settings.protocol, settings.tighter) != (old.protocol, old.tighter):
            self._abandon(wall)
            self._set_settings(settings)
            self._reset_routine()
        else:
            self._set_settings(settings)

    def _abandon(self, wall: float) -> None:
        if self.open and self._saved and self.saver is not None:
            self.saver.save_routine(self._row(self.seq, ABANDONED, wall))
        self._reset_routine()

    # --- what the loop calls ----------------------------------------------------------------
    @property
    def current_index(self) -> int:
        return next((i for i, d in enumerate(self.done) if not d), 0)

    @property
    def current(self) -> Slot:
        return self.slots[self.current_index]

    @property
    def target_s(self) -> float:
        return self.settings.target_s

    @property
    def target_breaths(self) -> int:
        return self.settings.target_breaths

    def take_target(self, fresh: bool = False) -> tuple[float, int] | None:
        """The detector's target, once after each change (None when unchanged); always for a
        `fresh` detector."""
        if not (self._target_changed or fresh):
            return None
        self._target_changed = False
        return self.target_s, self.target_breaths

    def new_detector(self) -> None:
        """A new detector (a source reopened after a fault) knows of no stretch: nothing is under
        way any more, so the day and new settings can turn again; progress is kept."""
        self.phase = "away"
        self._stretch = None
        self._rest_until = None
        self._stand_t0 = None

    def context(self, leg: str | None = None) -> dict[str, Any]:
        """The slot being worked on, for the store and the live view; a leg the step saw wins."""
        slot = self.current
        seen = leg or (self._stretch.seen_leg() if self._stretch is not None else None)
        return {"leg": seen or slot.leg, "knee": slot.knee, "rep": slot.rep,
                "step": self.current_index + 1, "steps": len(self.slots)}

    def poll(self, t: float, kg: float) -> list[str]:
        """Once per sample: the rest countdown, a deferred hold-complete, the standing load, the day,
        settings offered from another thread. Returns the cues for the buzzer."""
        self._t = t
        cues: list[str] = []
        between = self.phase not in ("stretching", "holding")
        if between and (self._offered is not None or self._wall() >= self._day_end):
            wall = self._wall()
            self._apply_offered(wall)
            if wall >= self._day_end:
                self._abandon(wall)
                self._start_day(wall)
        if self._rest_until is not None and t >= self._rest_until:
            self._rest_until = None
            self.phase = "ready"
            cues += self._sound("rest_over")
        s = self._stretch
        if s is not None and s.complete_due is not None and t >= s.complete_due and not s.complete_cued:
            s.complete_cued = True
            cues += self._sound("hold_complete")
        if self._stand_t0 is not None:
            self._watch_stand(t, kg)
        return cues

    def on_event(self, event: Event, leg: str | None = None) -> list[str]:
        """Follow one detector event; `leg` is what a second cell saw now. Returns buzzer cues."""
        self._t = max(self._t, event.t)
        leg = event.data.get("leg") or leg
        handler = _HANDLERS.get(event.kind)
        return handler(self, event, leg) if handler is not None else []

    # --- event handlers ---------------------------------------------------------------------
    def _on_step_on(self, event: Event, leg: str | None) -> list[str]:
        wall = self._wall()
        if self.open and wall - self.updated > self.resume_within_s:
            self._abandon(wall)
        self.phase = "ready"
        self._stand_t0, self._stand_kg = event.t, []
        self._visit_stand, self._stand_learned, self.suggested = None, False, None
        return self._sound("ready")

    def _on_step_off(self, event: Event, leg: str | None) -> list[str]:
        self.phase = "away"
        self._rest_until = None
        self._stretch = None
        self._stand_t0 = None
        return []

    def _on_stretch_start(self, event: Event, leg: str | None) -> list[str]:
        if not self.open:
            self.seq += 1
            self._reset_routine()
            self.open = True
            self.finished = False
        self.phase = "stretching"
        self._rest_until = None
        self._stand_t0 = None
        self._stretch = _Stretch()
        self.wrong_leg = False
        self._see(leg)
        return []

    def _on_hold_start(self, event: Event, leg: str | None) -> list[str]:
        s = self._stretch = self._stretch or _Stretch()
        self.phase = "holding"
        s.hold_t = event.t
        self._see(leg)
        if leg is not None and leg != self.current.leg:
            self.wrong_leg = True
            return self._sound("wrong_leg")
        return []

    def _on_hold_complete(self, event: Event, leg: str | None) -> list[str]:
        s = self._stretch = self._stretch or _Stretch()
        self._see(leg)
        hold_s = float(event.data.get("hold_s") or 0.0)
        short = self.settings.min_hold_s - hold_s
        if short > 0:
            s.complete_due = event.t + short
            return []
        s.complete_cued = True
        return self._sound("hold_complete")

    def _on_bounce(self, event: Event, leg: str | None) -> list[str]:
        self._see(leg)
        return self._sound("bounce")

    def _on_breath(self, event: Event, leg: str | None) -> list[str]:
        self._see(leg)
        return []

    def _on_sensor_fault(self, event: Event, leg: str | None) -> list[str]:
        return self._sound("sensor_fault")

    def _on_stretch_end(self, event: Event, leg: str | None) -> list[str]:
        s = self._stretch or _Stretch()
        self._see(leg)
        self._stretch = None
        self.phase = "ready"
        data = event.data
        if data.get("hold_start") is None:
            return []  # a ramp that never held: not a hold at all
        wall = self._wall()
        seen = s.seen_leg() if s.legs else leg
        outcome, index = self._judge(data, seen)
        slot = self.slots[index] if index is not None else self.current
        self.last_hold = {"outcome": outcome, "label": slot.label, "hold_s": data.get("hold_s"),
                          "leg": seen or slot.leg}
        self.updated = wall
        self._saved = True
        cues: list[str] = []
        if index is not None:
            self.done[index] = True
            if all(self.done):
                self.routines_done += 1
                self.finished, self.open = True, False
                self._rest_until = None
                cues += self._sound("routine_done")
            elif self.current.leg != slot.leg:
                cues += self._sound("switch_legs")
            self._learn_stand()
        if not self.finished and self.settings.protocol.rest_s > 0:
            self._rest_until = event.t + self.settings.protocol.rest_s
            self.phase = "rest"
        if self.saver is not None:
            self.saver.add_hold({**self._row(self.seq, DONE if self.finished else OPEN, wall),
                                 "slot": index, "leg": seen or slot.leg, "knee": slot.knee, "rep": slot.rep,
                                 "outcome": outcome, "end_t": event.t, "hold_s": data.get("hold_s"),
                                 "breaths": data.get("breaths"), "bounces": data.get("bounces")})
        return cues

    def _judge(self, data: dict[str, Any], seen: str | None) -> tuple[str, int | None]:
        """The outcome of a hold and the slot it fills (None: asked for again)."""
        if data.get("bounces"):
            return BOUNCED, None
        if not data.get("completed") or float(data.get("hold_s") or 0.0) < self.settings.min_hold_s:
            return EARLY, None
        planned = self.current_index
        if seen is None or seen == self.slots[planned].leg:
            return CLEAN, planned
        knee = self.slots[planned].knee
        for i, slot in enumerate(self.slots):
            if not self.done[i] and slot.leg == seen and slot.knee == knee:
                return CLEAN, i
        return WRONG_LEG, None

    # --- helpers ----------------------------------------------------------------------------
    def _see(self, leg: str | None) -> None:
        if leg is not None and self._stretch is not None:
            self._stretch.legs[leg] += 1

    def _sound(self, name: str) -> list[str]:
        self._cue, self._cue_until = name, self._t + CUE_SHOW_S
        self._cue_id += 1
        return [name] if self.settings.buzzer else []

    def _watch_stand(self, t: float, kg: float) -> None:
        assert self._stand_t0 is not None
        lo, hi = STAND_WINDOW_S
        if t - self._stand_t0 >= lo and kg == kg:
            self._stand_kg.append(kg)
        if t - self._stand_t0 >= hi:
            self._stand_t0 = None
            if self._stand_kg:
                self._visit_stand = statistics.median(self._stand_kg)
                self.suggested = suggest_profile(self._visit_stand, self.settings.profiles,
                                                 self.settings.profile.id)

    def _learn_stand(self) -> None:
        """A clean hold on the active profile: this visit's standing load is theirs."""
        if self.saver is None or self.suggested is not None:
            return
        if self._visit_stand and not self._stand_learned:
            self._stand_learned = True
            self.saver.learn_stand(self.settings.profile.id, self._visit_stand)

    def _row(self, seq: int, status: str, wall: float) -> dict[str, Any]:
        return {"profile_id": self.settings.profile.id, "day": self.day, "seq": seq, "status": status,
                "protocol": self.settings.protocol.id, "tighter_side": self.settings.tighter,
                "slots": len(self.slots), "done_slots": [i for i, d in enumerate(self.done) if d],
                "wall": wall}

    def status(self) -> dict[str, Any]:
        """The live view's and GET /api/routine's picture (contract 4 in the helpers' brief)."""
        index = self.current_index
        following = next((i for i in range(index + 1, len(self.slots)) if not self.done[i]), None)
        if self.finished:
            index, following = 0, 1 if len(self.slots) > 1 else None
        p, sug = self.settings.profile, self.suggested
        rest = None if self._rest_until is None else round(max(0.0, self._rest_until - self._t), 1)
        return {
            "protocol": {"id": self.settings.protocol.id, "name": self.settings.protocol.name},
            "slot": self._said[index],
            "next": self._said[following] if following is not None else None,
            "done": self.finished,
            "routines_today": self.routines_done,
            "goal": self.settings.goal,
            "goal_met": self.routines_done >= self.settings.goal,
            "rest_s_left": rest,
            "cue": self._cue if self._t < self._cue_until else None,
            "cue_id": self._cue_id,
            "phase": self.phase,
            "profile": {"id": p.id, "name": p.name},
            "suggested_profile": {"id": sug.id, "name": sug.name} if sug is not None else None,
            "wrong_leg": self.wrong_leg,
            "last_hold": self.last_hold,
            "holds_done": sum(self.done) if not self.finished else len(self.slots),
            "holds": len(self.slots),
            "day": self.day,
            "target_s": self.target_s,
            "target_breaths": self.target_breaths,
            "min_hold_s": self.settings.min_hold_s,
        }


_HANDLERS: dict[str, Callable[[Routine, Event, str | None], list[str]]] = {
    ev.STEP_ON: Routine._on_step_on,
    ev.STEP_OFF: Routine._on_step_off,
    ev.STRETCH_START: Routine._on_stretch_start,
    ev.HOLD_START: Routine._on_hold_start,
    ev.BREATH: Routine._on_breath,
    ev.HOLD_COMPLETE: Routine._on_hold_complete,
    ev.BOUNCE: Routine._on_bounce,
    ev.STRETCH_END: Routine._on_stretch_end,
    ev.SENSOR_FAULT: Routine._on_sensor_fault,
}
