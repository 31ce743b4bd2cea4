"""The step's profiles for Home Assistant's select: who is stretching, chosen by name.

The same records the web's `POST /api/profiles/<id>/activate` writes (firmware.routine.records):
the routine's keeper in the sampler notices the change and applies it from the next hold, as
it does for the page. Home Assistant's select speaks in option names, so a profile is chosen
by its name (names are unique, compared without case).
"""

from __future__ import annotations

from typing import Any

from firmware.routine import records


class ProfileChoice:
    """`__call__()` -> {"active": name, "options": [names]} (None without profiles);
    `activate(name)` -> the name chosen, ValueError (for a person) when there is none such."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __call__(self) -> dict[str, Any] | None:
        everyone = records.profiles(self.store)
        if not everyone:
            return None
        return {"active": records.active_profile(self.store).name, "options": [p.name for p in everyone]}

    def activate(self, name: str) -> str:
        everyone = records.profiles(self.store)
        chosen = next((p for p in everyone if p.name.casefold() == name.strip().casefold()), None)
        if chosen is None:
            names = ", ".join(repr(p.name) for p in everyone) or "none yet"
            raise ValueError(f"no profile named {name.strip()!r}; profiles: {names}")
        return records.activate(self.store, chosen.id).name
