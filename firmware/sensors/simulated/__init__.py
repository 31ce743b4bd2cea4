"""The simulated person on an edge-weighted step (DESIGN §2) and its scenarios, as a family.

- `segments`: what the person (or the world) does next: `Off`, `StepOn`, `Stand`, `Hold`, ...
- `pieces`: the clean load over a span of time, and bounce overlays;
- `compiler`: segments -> pieces + the ground truth, one segment at a time;
- `sway`: postural sway laid on top while someone stands on the step;
- `scenarios`: named, seeded scripts and the endless user;
- `person`: `SimulatedPerson`, the `SampleSource` that plays it all with noise and artefacts.

Pure Python (no numpy): it runs on the Pi as the no-hardware sensor. The names below are the
package's public face; `from firmware.sensors.simulated import scenario` keeps working.
"""

from firmware.sensors.simulated.compiler import ScriptError
from firmware.sensors.simulated.person import SimulatedPerson, forever_person, scenario
from firmware.sensors.simulated.registry import SCENARIOS
from firmware.sensors.simulated.segments import (
    Bag,
    Bounce,
    Hold,
    Off,
    Segment,
    ShiftFoot,
    Stand,
    StepOff,
    StepOn,
    Unplug,
)
from firmware.sensors.simulated.sway import SWAY_FRAC, default_sway

__all__ = [
    "Bag", "Bounce", "Hold", "Off", "ScriptError", "ShiftFoot", "SimulatedPerson", "Stand",
    "StepOff", "StepOn", "Unplug", "SCENARIOS", "Segment", "scenario", "forever_person", "default_sway",
    "SWAY_FRAC",
]
