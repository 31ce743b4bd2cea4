"""Composition: the routine, its keeper and the web's view of the catalogue, from the config.

`RoutineBook` is what both processes need to agree on — the protocols (built-ins plus the
config's [[protocols]]), the first profile's values, the device defaults and the day start — so
the sampler and the web read the same settings from the same store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firmware.config import DEFAULTS, Config
from firmware.history.days import DayClock, parse_day_start
from firmware.routine import records
from firmware.routine.keeper import RoutineKeeper
from firmware.routine.profiles import Profile, body_kg_in_use
from firmware.routine.protocols import Protocol, catalogue
from firmware.routine.session import Progress, Routine, RoutineSettings
from firmware.store import Store


@dataclass(frozen=True)
class RoutineBook:
    protocols: dict[str, Protocol]
    first_profile: dict[str, Any]
    device: records.DeviceSettings = field(default_factory=records.DeviceSettings)
    default_protocol: str = "step-calf"
    day_clock: DayClock = field(default_factory=DayClock)
    resume_within_s: float = 1800.0
    # [person] body_kg: the detector's weight for the first profile while it has none of its own
    # (None: not given; records.load_settings says why not for the others). Not copied into the
    # profile, so that editing the file still counts and clearing the weight on the phone comes
    # back to it (firmware.routine.profiles.body_kg_in_use)
    default_body_kg: float | None = None

    @classmethod
    def from_config(cls, cfg: Config = DEFAULTS) -> RoutineBook:
        r, person = cfg.routine, cfg.person
        first = {"name": person.name.strip(), "tighter_side": person.tighter_side, "protocol": r.protocol,
                 "daily_goal": r.daily_goal}
        return cls(protocols=catalogue(cfg.protocols), first_profile=first,
                   device=records.DeviceSettings(buzzer=cfg.cues.enabled), default_protocol=r.protocol,
                   day_clock=DayClock(parse_day_start(r.day_start)), resume_within_s=r.resume_within_min * 60,
                   default_body_kg=person.body_kg or None)

    def settings(self, store: Store) -> RoutineSettings:
        """The routine's settings as the store has them now (creating the first profile if needed)."""
        records.ensure_profile(store, self.first_profile)
        return self._loaded(store)

    def _loaded(self, store: Store) -> RoutineSettings:
        """The settings as stored; LookupError while there is no profile yet."""
        return records.load_settings(store, self.protocols, self.device, self.default_protocol,
                                     default_body_kg=self.default_body_kg)

    def stored_settings(self, store: Store | None) -> RoutineSettings | None:
        """The settings as stored, None while there is no history or no profile yet; reads only
        (no first profile is made): for commands beside the device, such as `reanalyze`."""
        try:
            return self._loaded(store) if store is not None else None
        except LookupError:
            return None

    def body_kg(self, store: Store | None) -> tuple[float | None, str, Profile | None]:
        """The weight the sampler's detector is told now, where it comes from ("profile",
        "config" or "none") and the active profile. `store` None: no history yet, so only the
        config's can count."""
        settings = self.stored_settings(store)
        if settings is None:
            return self.default_body_kg, "config" if self.default_body_kg else "none", None
        kg, source = body_kg_in_use(settings.profile, settings.default_body_kg)
        return kg, source, settings.profile

    def progress(self, store: Store, profile_id: int, wall: float) -> Progress:
        return records.load_progress(store, profile_id, self.day_clock.day_of(wall).isoformat())

    def history_hooks(self, store: Store) -> dict[str, Any]:
        """What firmware.history needs from the routine: where days begin, the active profile's
        daily goal, and when that profile's routines were done."""
        def goal() -> int:
            return self.settings(store).goal

        def done(start: float, end: float) -> list[float]:
            return records.done_walls(store, start, end, self.settings(store).profile.id)

        return {"day_clock": self.day_clock, "daily_goal": goal, "routines_done": done}

    def routine(self, store: Store, *, wall: Callable[[], float] = time.time,
                saver: Any = None) -> Routine:
        """A routine resumed from the store: today's progress of the active profile."""
        settings = self.settings(store)
        return Routine(settings, day_clock=self.day_clock, wall=wall, saver=saver,
                       progress=self.progress(store, settings.profile.id, wall()),
                       resume_within_s=self.resume_within_s)


def say_body_kg(kg: float | None, source: str, active: Profile | None, default_kg: float | None) -> str:
    """The weight in use, in words, for `stretchstep config` and `reanalyze`."""
    file_says = f"[person] body_kg = {default_kg:g}" if default_kg else "[person] body_kg not set"
    if source == "profile" and active is not None:
        wins = f"it wins over {file_says}" if default_kg else file_says
        return f"{kg:g} kg, entered for profile {active.name!r} on the settings page ({wins})"
    if source == "config":
        return f"{kg:g} kg from {file_says} (no weight entered for the profile on the settings page)"
    return "none: not entered on the settings page and [person] body_kg not set (the detector does without)"


def build_routine(cfg: Config, store: Store, *, wall: Callable[[], float] = time.time,
                  start: bool = True) -> tuple[Routine, RoutineKeeper]:
    """The sampler's routine and its keeper thread (started unless `start=False`, for tests)."""
    book = RoutineBook.from_config(cfg)
    book.settings(store)
    keeper = RoutineKeeper(store, book.settings)
    routine = book.routine(store, wall=wall, saver=keeper)
    keeper.routine = routine
    if start:
        keeper.start()
    return routine, keeper
