"""What one attempt to read an HX711 gives: a signed 24-bit code, or the reason there is none.

Shared by every raw reader (the adafruit-driver adapter, the kernel's IIO driver, the emulated
chip) and by whoever judges the readings (calibration's fault watching), so none of them needs
the others. Times come from a `Clock`: the real one here, a virtual one with the emulator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

SATURATED_HIGH = 0x7FFFFF
SATURATED_LOW = -0x800000

# RawReading.problem values
NOT_READY = "not_ready"      # DOUT never went low within the ready timeout
PREEMPTED = "preempted"      # the read took too long: PD_SCK may have been high > 60 us
UNSURE_GAIN = "unsure_gain"  # the conversion may have been made at the reset gain
WARMING_UP = "warming_up"    # the first reads after a reset, which set the timing baseline


class SensorFault(RuntimeError):
    """The sensor cannot give a reading; `reason` is the short fault name for events."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RawReading:
    """One attempt to read the chip: a signed 24-bit `code`, or None and a `problem`."""

    t: float
    code: int | None
    problem: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time: perf_counter for timing reads, time.sleep between polls."""

    @staticmethod
    def monotonic() -> float:
        return time.perf_counter()

    @staticmethod
    def sleep(seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
