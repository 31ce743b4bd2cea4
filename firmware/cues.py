"""Buzzer patterns for the events a user must notice without looking at a phone.

Patterns are clocked by the sampling loop (`tick(now)` once per sample) instead of gpiozero's
background `beep()` threads: nothing ever blocks the loop, a new cue can cut an old one, and
tests drive the pin with a fake clock and read gpiozero's MockFactory pin history exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from firmware import events as ev
from firmware.events import Event


class OnOff(Protocol):
    def on(self) -> None: ...
    def off(self) -> None: ...


@dataclass(frozen=True)
class Pattern:
    """Alternating on/off durations in seconds, starting with on; `rank` decides who may interrupt."""

    durations: tuple[float, ...]
    rank: int


PATTERNS: dict[str, Pattern] = {
    "ready": Pattern((0.08,), rank=1),                                   # one short chirp
    "hold_complete": Pattern((0.45, 0.15, 0.45), rank=2),                # two long: done, ease off
    "bounce": Pattern((0.06, 0.06, 0.06, 0.06, 0.06, 0.06, 0.06), rank=3),  # four rapid: stop bouncing
    "sensor_fault": Pattern((0.8, 0.2, 0.15, 0.2, 0.8), rank=4),         # long-short-long
}

EVENT_CUES: dict[str, str] = {
    ev.STEP_ON: "ready",
    ev.HOLD_COMPLETE: "hold_complete",
    ev.BOUNCE: "bounce",
    ev.SENSOR_FAULT: "sensor_fault",
}


class BuzzerCues:
    """Plays one pattern at a time on an on/off output (a gpiozero Buzzer, or anything alike)."""

    def __init__(self, buzzer: OnOff) -> None:
        self.buzzer = buzzer
        self._pattern: Pattern | None = None
        self._edges: list[float] = []   # absolute times at which the output toggles next
        self._is_on = False
        self.played: list[str] = []     # names of cues started, for the live view and tests

    def on_event(self, event: Event, now: float) -> None:
        name = EVENT_CUES.get(event.kind)
        if name is not None:
            self.play(name, now)

    def play(self, name: str, now: float) -> None:
        pattern = PATTERNS[name]
        if self._pattern is not None and pattern.rank < self._pattern.rank:
            return
        self._pattern = pattern
        self._edges = []
        at = now
        for duration in pattern.durations:
            at += duration
            self._edges.append(at)
        self.played.append(name)
        self._set(True)

    def tick(self, now: float) -> None:
        """Advance the pattern to `now`; cheap when idle (called once per sample)."""
        if self._pattern is None:
            return
        while self._edges and now >= self._edges[0]:
            self._edges.pop(0)
            self._set(not self._is_on)
        if not self._edges:
            self._pattern = None
            self._set(False)

    def _set(self, on: bool) -> None:
        if on != self._is_on:
            self._is_on = on
            (self.buzzer.on if on else self.buzzer.off)()

    def close(self) -> None:
        self._pattern = None
        self._edges = []
        self._set(False)


def make_buzzer(pin: int, *, active_high: bool = True, mock: bool = False) -> OnOff:
    """A gpiozero Buzzer on `pin` (BCM), on gpiozero's MockFactory when `mock` (no Pi here)."""
    from gpiozero import Buzzer

    factory = None
    if mock:
        from gpiozero.pins.mock import MockFactory

        factory = MockFactory()
    buzzer = Buzzer(pin, active_high=active_high, pin_factory=factory)
    return buzzer
