"""Every named scenario in one place: the friendly ones (`scenarios`) and the wide ones (`wide`)."""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable
from typing import Any

from firmware.sensors.simulated import scenarios, wide

Builder = Callable[..., list]
SCENARIOS: dict[str, Builder] = {
    "good_routine": scenarios.good_routine, "bouncy": scenarios.bouncy, "step_on_off": scenarios.step_on_off,
    "bag": scenarios.bag, "standing": scenarios.standing, "early_release": scenarios.early_release,
    "mixed": scenarios.mixed, **wide.WIDE_SCENARIOS,
}


def build_scenario(name: str, rng: random.Random, body_kg: float, stand_frac: float, **kw: Any) -> list:
    """The segments of a named scenario; a clear error names the known ones."""
    if name not in SCENARIOS:
        known = ", ".join([*SCENARIOS, "forever"])
        raise ValueError(f"unknown scenario {name!r}; known scenarios: {known}")
    builder = SCENARIOS[name]
    allowed = list(inspect.signature(builder).parameters)[3:]
    unknown = sorted(set(kw) - set(allowed))
    if unknown:
        raise ValueError(f"scenario {name!r} does not take {', '.join(unknown)}; it takes "
                         f"{', '.join(allowed) or 'no script keywords'} (plus SimulatedPerson's settings)")
    return builder(rng, body_kg, stand_frac, **kw)
