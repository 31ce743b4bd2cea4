"""Profiles: several people share one step, each with their own side, protocol and goal.

A profile is name, optional body weight, tighter side, protocol, daily goal, and optional hold
targets that override the protocol's. `check_profile` validates what the web (or a config)
gives, with errors a person can act on. `suggest_profile` reads the standing load at step-on:
the step's edge cell carries roughly half the body weight standing, so a profile's expected
standing load is what was seen the last times it stood there (learned), else 0.45 × its body
weight; it suggests a profile only when one is close and every other is far, so two people of
similar weight never get the wrong one pushed at them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from firmware.routine.protocols import LEGS

STAND_SHARE = 0.45          # standing load / body weight on the edge cell, before one is learned
CLOSE = 0.15                # the suggested profile's expectation is within this share of the load
FAR = 0.25                  # ... and every other one is at least this share away
LEARN_RATE = 0.3            # how fast a profile's learned standing load follows new visits
GOAL_RANGE = (1, 50)
BODY_RANGE = (20.0, 300.0)
NAME_MAX = 40


@dataclass(frozen=True)
class Profile:
    id: int
    name: str
    tighter_side: str = "right"
    protocol: str = "step-calf"
    daily_goal: int = 3
    body_kg: float | None = None
    target_s: float | None = None       # None = the protocol's
    target_breaths: int | None = None   # None = the protocol's
    stand_kg: float | None = None       # learned standing load at step-on

    def expected_stand_kg(self) -> float | None:
        if self.stand_kg:
            return self.stand_kg
        return self.body_kg * STAND_SHARE if self.body_kg else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# field -> (allowed, check, nullable)
PROFILE_RULES: dict[str, tuple[str, Any, bool]] = {
    "name": (f"a name of 1 to {NAME_MAX} characters",
             lambda v: isinstance(v, str) and 1 <= len(v.strip()) <= NAME_MAX, False),
    "tighter_side": ("'right' or 'left'", lambda v: v in LEGS, False),
    "protocol": ("the id of a protocol (GET /api/protocols)", lambda v: isinstance(v, str), False),
    "daily_goal": (f"a whole number of routines from {GOAL_RANGE[0]} to {GOAL_RANGE[1]}",
                   lambda v: _whole(v) and GOAL_RANGE[0] <= v <= GOAL_RANGE[1], False),
    "body_kg": (f"kg from {BODY_RANGE[0]:g} to {BODY_RANGE[1]:g}, or null",
                lambda v: _num(v) and BODY_RANGE[0] <= v <= BODY_RANGE[1], True),
    "target_s": ("seconds from 5 to 300, or null for the protocol's",
                 lambda v: _num(v) and 5 <= v <= 300, True),
    "target_breaths": ("a whole number from 0 to 20 (0 = time only), or null for the protocol's",
                       lambda v: _whole(v) and 0 <= v <= 20, True),
}


def check_profile(values: dict[str, Any], protocols: Sequence[str]) -> dict[str, Any]:
    """The subset of profile fields in `values`, checked; ValueError names the first bad one."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in PROFILE_RULES:
            raise ValueError(f"unknown profile field {key!r}; fields: {', '.join(PROFILE_RULES)}")
        allowed, ok, nullable = PROFILE_RULES[key]
        if value is None and nullable:
            out[key] = None
            continue
        if not ok(value):
            raise ValueError(f"{key} must be {allowed}, got {value!r}")
        if key == "protocol" and value not in protocols:
            raise ValueError(f"protocol {value!r} is not known; known: {', '.join(protocols)}")
        if key == "name":
            value = value.strip()
        elif key in ("body_kg", "target_s"):
            value = float(value)
        out[key] = value
    return out


def suggest_profile(stand_kg: float, profiles: Sequence[Profile], active_id: int | None) -> Profile | None:
    """The profile the standing load points at, if it is not the active one and nobody else is near."""
    if not stand_kg or stand_kg <= 0:
        return None
    scored = []
    for p in profiles:
        expected = p.expected_stand_kg()
        if expected:
            scored.append((abs(stand_kg - expected) / stand_kg, p))
    if not scored:
        return None
    scored.sort(key=lambda pair: pair[0])
    best_err, best = scored[0]
    if best_err > CLOSE or any(err < FAR for err, _ in scored[1:]):
        return None
    return None if best.id == active_id else best


def body_kg_in_use(profile: Profile, default_kg: float | None) -> tuple[float | None, str]:
    """The body weight the detector is told for this profile, and where it comes from.

    Why one rule: the sampler, `reanalyze` and the settings page must agree. A weight entered for
    the profile (the phone's settings page) wins; else `default_kg`, the config file's `[person]
    body_kg` for the first profile (records.load_settings); else none: the detector works without.
    """
    if profile.body_kg:
        return float(profile.body_kg), "profile"
    if default_kg:
        return float(default_kg), "config"
    return None, "none"


def learned(previous: float | None, seen: float) -> float:
    """The profile's standing load after one more visit."""
    return seen if not previous else previous + LEARN_RATE * (seen - previous)
