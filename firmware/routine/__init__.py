"""The routine: protocols as data, the routine session that follows the detector's events, the
profiles of the people sharing the step, and the store rows that keep it across restarts.

    protocols  what one routine is (slots, reps, targets, rest), built-ins and [[protocols]]
    session    Routine: the state machine (pure; no disk, no threads)
    profiles   who is on the step: profile fields, validation, the standing-load suggestion
    records    the routine's queries on the history store
    keeper     RoutineKeeper: the routine's disk work and settings reloads, off the loop thread
    build      composition from the config (import it explicitly: it imports firmware.config)
"""

from firmware.routine.profiles import Profile, suggest_profile
from firmware.routine.protocols import (
           BUILTINS,
           DEFAULT_PROTOCOL,
           Protocol,
           ProtocolError,
           Slot,
           catalogue,
           plan,
)
from firmware.routine.session import Progress, Routine, RoutineSettings

__all__ = ["BUILTINS", "DEFAULT_PROTOCOL", "Profile", "Progress", "Protocol", "ProtocolError",
           "Routine", "RoutineSettings", "Slot", "catalogue", "plan", "suggest_profile"]
