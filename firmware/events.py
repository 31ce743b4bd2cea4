"""The event vocabulary (DESIGN §3): everything downstream of the detector speaks only these.

An event is a kind, the sample time it happened at (the source's own `t`, seconds) and a small
flat dict of JSON-able details. Frozen so that one event can be handed to the buzzer, the store
and every web subscriber without copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STEP_ON = "step_on"
STEP_OFF = "step_off"
STRETCH_START = "stretch_start"
HOLD_START = "hold_start"
BREATH = "breath"
HOLD_COMPLETE = "hold_complete"
BOUNCE = "bounce"
STRETCH_END = "stretch_end"
SENSOR_FAULT = "sensor_fault"
SENSOR_OK = "sensor_ok"

KINDS = (
    STEP_ON,
    STEP_OFF,
    STRETCH_START,
    HOLD_START,
    BREATH,
    HOLD_COMPLETE,
    BOUNCE,
    STRETCH_END,
    SENSOR_FAULT,
    SENSOR_OK,
)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing the device noticed.

    Details by kind (all optional to readers; add freely, never rename):
      breath:        n (1-based within the hold), kg (press peak)
      bounce:        hz, pp_kg (peak to peak)
      hold_complete: hold_s, breaths
      stretch_end:   start, hold_start (None if the hold never began), end, hold_s, breaths
                     (counted again from the whole hold), breaths_sure (the presses stood clear
                     of the sway; else show the count as "~N"), breaths_live (the breath events
                     sent), bounces, completed, peak_kg
      sensor_fault:  reason ("unplugged", "stuck", "saturated", "spiking", ...)
      any:           leg ("left"/"right") where known
    """

    kind: str
    t: float
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; known kinds: {', '.join(KINDS)}")

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-able form: {"kind": ..., "t": ..., **data}."""
        return {"kind": self.kind, "t": self.t, **self.data}
