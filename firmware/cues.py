"""Buzzer patterns for the events a user must notice without looking at a phone.

Patterns are clocked by the sampling loop (`tick(now)` once per sample) instead of gpiozero's
background `beep()` threads: nothing ever blocks the loop, a new cue can cut an old one, and
tests drive the pin with a fake clock and read gpiozero's MockFactory pin history exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from firmware import events as ev
from firmware.events import Event


class OnOff(Protocol):
    def on(self) -> None: ...
    def off(self) -> None: ...


@dataclass(frozen=True)
class Pattern:
    """Alternating on/off durations in seconds, starting with on; `rank` decides who may interrupt;
    `tones` (Hz, one per beep) are played on a TonalBuzzer and ignored by a plain one."""

    durations: tuple[float, ...]
    rank: int
    tones: tuple[float, ...] = ()

    def tone(self, beep: int) -> float:
        return self.tones[min(beep, len(self.tones) - 1)] if self.tones else 440.0


# Each cue must be told apart by ear on a plain buzzer (rhythm alone); tones only help.
PATTERNS: dict[str, Pattern] = {
    "ready": Pattern((0.08,), rank=1, tones=(660,)),                          # one chirp
    "rest_over": Pattern((0.12, 0.12, 0.12), rank=1, tones=(523, 659)),       # two short: go again
    "hold_complete": Pattern((0.45, 0.15, 0.45), rank=2, tones=(880, 660)),   # two long: done, ease off
    "switch_legs": Pattern((0.3, 0.1, 0.08, 0.1, 0.08), rank=2, tones=(440, 660, 660)),  # long-short-short
    "routine_done": Pattern((0.12, 0.08, 0.12, 0.08, 0.7), rank=2, tones=(523, 659, 784)),  # short-short-long
    "bounce": Pattern((0.06, 0.06, 0.06, 0.06, 0.06, 0.06, 0.06), rank=3, tones=(262,)),  # four rapid: stop
    "wrong_leg": Pattern((0.3, 0.1, 0.3, 0.1, 0.3), rank=3, tones=(330, 247, 330)),  # three long: other leg
    "sensor_fault": Pattern((0.8, 0.2, 0.15, 0.2, 0.8), rank=4, tones=(220,)),       # long-short-long
    # the button's long hold: three quick rising chirps, "someone else now"
    "next_profile": Pattern((0.05, 0.05, 0.05, 0.05, 0.05), rank=1, tones=(587, 740, 880)),
}

EVENT_CUES: dict[str, str] = {   # without a routine, the detector's events cue directly
    ev.STEP_ON: "ready",
    ev.HOLD_COMPLETE: "hold_complete",
    ev.BOUNCE: "bounce",
    ev.SENSOR_FAULT: "sensor_fault",
}


class BuzzerCues:
    """Plays one pattern at a time on an on/off output (a gpiozero Buzzer, or anything alike), or
    on a gpiozero TonalBuzzer (anything with `play(hz)` and `stop()`), in the pattern's tones."""

    def __init__(self, buzzer: Any) -> None:
        self.buzzer = buzzer
        self._tonal = hasattr(buzzer, "play") and hasattr(buzzer, "stop")
        self._beep = 0
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
        self._beep = 0
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
            if self._is_on:
                self._beep += 1
            self._set(not self._is_on)
        if not self._edges:
            self._pattern = None
            self._set(False)

    def _set(self, on: bool) -> None:
        if on == self._is_on:
            return
        self._is_on = on
        if not self._tonal:
            (self.buzzer.on if on else self.buzzer.off)()
        elif on and self._pattern is not None:
            self.buzzer.play(self._pattern.tone(self._beep))
        else:
            self.buzzer.stop()

    def close(self) -> None:
        self._pattern = None
        self._edges = []
        self._set(False)


def make_buzzer(pin: int, *, active_high: bool = True, mock: bool = False, tonal: bool = False,
                pin_factory: Any = None) -> Any:
    """A gpiozero Buzzer on `pin` (BCM) — a TonalBuzzer (PWM tones 220-880 Hz, a passive buzzer)
    when `tonal` — on `pin_factory`, or gpiozero's MockFactory when `mock` (no Pi here)."""
    from gpiozero import Buzzer, TonalBuzzer

    factory = pin_factory
    if mock and factory is None:
        factory = mock_pins()
    if tonal:
        return TonalBuzzer(pin, octaves=1, pin_factory=factory)
    return Buzzer(pin, active_high=active_high, pin_factory=factory)


def mock_pins() -> Any:
    """gpiozero's MockFactory with PWM-capable pins, so a TonalBuzzer works on it too."""
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    return MockFactory(pin_class=MockPWMPin)
