"""The stretching protocol: which leg and knee come next, the hold target, repetitions.

DESIGN §1: heel drops one leg at a time, knee straight (upper calf) then bent (lower calf);
2–3 repetitions; start and finish on the tighter side. So for each knee position the sides
alternate, tighter side first, and the tighter side gets one extra hold to finish on:
reps=3 → R L R L R L R. A stretch only counts towards the routine once its hold began.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware import events as ev
from firmware.events import Event

OTHER_LEG = {"right": "left", "left": "right"}
KNEES = {"both": ("straight", "bent"), "straight": ("straight",), "bent": ("bent",)}


@dataclass(frozen=True)
class Slot:
    leg: str
    knee: str
    rep: int        # 1-based repetition of this leg and knee


def plan(reps: int, first_leg: str = "right", knees: str = "both") -> list[Slot]:
    """The ordered holds of one full routine."""
    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    if first_leg not in OTHER_LEG:
        raise ValueError(f"first_leg must be 'right' or 'left', got {first_leg!r}")
    if knees not in KNEES:
        raise ValueError(f"knees must be one of {', '.join(KNEES)}, got {knees!r}")
    slots: list[Slot] = []
    for knee in KNEES[knees]:
        for rep in range(1, reps + 1):
            slots.append(Slot(first_leg, knee, rep))
            slots.append(Slot(OTHER_LEG[first_leg], knee, rep))
        slots.append(Slot(first_leg, knee, reps + 1))
    return slots


class Routine:
    """Follows the detector's events through the plan; starts over when a routine is done."""

    def __init__(self, reps: int = 3, first_leg: str = "right", knees: str = "both",
                 target_s: float = 30.0, target_breaths: int = 0) -> None:
        self.slots = plan(reps, first_leg, knees)
        self.reps = reps
        self.target_s = target_s
        self.target_breaths = target_breaths
        self.index = 0
        self.rounds_done = 0

    @property
    def current(self) -> Slot:
        return self.slots[self.index]

    def on_event(self, event: Event) -> bool:
        """Advance on a stretch that reached its hold; True when the next slot changed."""
        if event.kind != ev.STRETCH_END or event.data.get("hold_start") is None:
            return False
        self.index += 1
        if self.index == len(self.slots):
            self.index = 0
            self.rounds_done += 1
        return True

    def context(self) -> dict[str, object]:
        """What the store and the live view attach to events: the slot being worked on."""
        slot = self.current
        return {"leg": slot.leg, "knee": slot.knee, "rep": slot.rep,
                "step": self.index + 1, "steps": len(self.slots)}
