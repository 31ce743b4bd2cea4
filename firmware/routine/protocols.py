"""Protocols as data: which holds make one routine, their target, and how they are said.

DESIGN §1: heel drops one leg at a time, knee straight (upper calf) then bent (lower calf);
2–3 repetitions; start and finish on the tighter side. A protocol says that as data — the knee
blocks in order, holds per leg in each block, whether the tighter side gets one more hold to
finish on, the hold target (seconds, or breaths with a minimum time so that three quick presses
are no hold) and the rest between holds. `plan()` expands it, for one tighter side, into the
ordered slots a routine walks through. Built-ins ship here; user protocols come from the config's
`[[protocols]]` tables and are checked by `protocol_from_dict` with errors that name the key.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

LEGS = ("right", "left")
KNEES = ("straight", "bent")
OTHER_LEG = {"right": "left", "left": "right"}
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class ProtocolError(ValueError):
    """A protocol that cannot be used; the message names the key and what is allowed."""


@dataclass(frozen=True)
class Slot:
    """One hold of a routine: the leg, the knee, and which of that leg-and-knee's holds it is."""

    leg: str
    knee: str
    rep: int          # 1-based among this leg's holds with this knee
    reps: int         # how many holds this leg does with this knee
    finish: bool = False   # the tighter side's closing hold

    @property
    def label(self) -> str:
        """As a person says it: "right leg, knee straight, 2 of 3"."""
        said = f"{self.leg} leg, knee {self.knee}, {self.rep} of {self.reps}"
        return said + f" — finish on the {self.leg}" if self.finish else said

    def to_dict(self) -> dict[str, Any]:
        return {"leg": self.leg, "knee": self.knee, "rep": self.rep, "reps": self.reps, "label": self.label}


@dataclass(frozen=True)
class Protocol:
    id: str
    name: str
    knees: tuple[str, ...] = KNEES      # one block per knee, in this order
    reps: int = 3                       # holds per leg in each block
    finish_on_tighter: bool = True      # the tighter side gets one more hold to finish the block
    target_s: float = 30.0              # a hold is complete at this many seconds ...
    target_breaths: int = 0             # ... or at this many breaths (0 = time only)
    min_hold_s: float = 15.0            # with a breath target: no shorter hold counts
    rest_s: float = 10.0                # rest between holds (a countdown, then "rest over")
    builtin: bool = False

    def describe(self, tighter: str) -> str:
        """'knee straight then bent, 3 holds each leg, 30 s each, start and finish on the right'."""
        knees = " then ".join(self.knees)
        hold = (f"{self.target_breaths} slow breaths (at least {self.min_hold_s:g} s)" if self.target_breaths
                else f"{self.target_s:g} s")
        ends = f"start and finish on the {tighter}" if self.finish_on_tighter else f"start on the {tighter}"
        return f"knee {knees}, {self.reps} holds each leg, {hold} each, {ends}"

    def to_dict(self, tighter: str) -> dict[str, Any]:
        body = asdict(self)
        body["knees"] = list(self.knees)
        body["description"] = self.describe(tighter)
        body["tighter_side"] = tighter
        body["finish_label"] = f"finish on the {tighter}" if self.finish_on_tighter else None
        body["slots"] = [slot.to_dict() for slot in plan(self, tighter)]
        return body


def plan(protocol: Protocol, tighter: str) -> list[Slot]:
    """The ordered holds of one routine: per knee block the legs alternate, tighter side first,
    and (finish_on_tighter) the tighter side closes the block with one more hold."""
    if tighter not in LEGS:
        raise ProtocolError(f"tighter side must be 'right' or 'left', got {tighter!r}")
    other = OTHER_LEG[tighter]
    slots: list[Slot] = []
    for knee in protocol.knees:
        tighter_reps = protocol.reps + (1 if protocol.finish_on_tighter else 0)
        for rep in range(1, protocol.reps + 1):
            slots.append(Slot(tighter, knee, rep, tighter_reps))
            slots.append(Slot(other, knee, rep, protocol.reps))
        if protocol.finish_on_tighter:
            slots.append(Slot(tighter, knee, tighter_reps, tighter_reps, finish=True))
    return slots


BUILTINS: tuple[Protocol, ...] = (
    Protocol("step-calf", "Step calf — straight and bent", builtin=True),
    Protocol("30s-x3", "30 s × 3 each leg", knees=("straight",), reps=3, finish_on_tighter=False,
             rest_s=15.0, builtin=True),
    Protocol("breaths", "Slow breaths — straight and bent", reps=2, target_s=60.0, target_breaths=5,
             min_hold_s=20.0, builtin=True),
)
DEFAULT_PROTOCOL = BUILTINS[0].id

# key -> (allowed text, check); the values a user protocol may set
_RULES: dict[str, tuple[str, Any]] = {
    "id": ("lower-case letters, digits and '-' (up to 40)",
           lambda v: isinstance(v, str) and ID_PATTERN.match(v)),
    "name": ("a name of 1 to 60 characters", lambda v: isinstance(v, str) and 1 <= len(v.strip()) <= 60),
    "knees": ("a list of 'straight' and/or 'bent', each at most once",
              lambda v: isinstance(v, list) and 1 <= len(v) <= 2 and len(set(v)) == len(v)
              and all(k in KNEES for k in v)),
    "reps": ("a whole number from 1 to 10", lambda v: _is_int(v) and 1 <= v <= 10),
    "finish_on_tighter": ("true or false", lambda v: isinstance(v, bool)),
    "target_s": ("a number of seconds from 5 to 300", lambda v: _is_num(v) and 5 <= v <= 300),
    "target_breaths": ("a whole number from 0 to 20 (0 = time only)", lambda v: _is_int(v) and 0 <= v <= 20),
    "min_hold_s": ("a number of seconds from 0 to 300", lambda v: _is_num(v) and 0 <= v <= 300),
    "rest_s": ("a number of seconds from 0 to 300", lambda v: _is_num(v) and 0 <= v <= 300),
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def protocol_from_dict(raw: Any, where: str = "protocol") -> Protocol:
    """A user protocol from a config table; `id` and `name` required, the rest as the default's."""
    if not isinstance(raw, dict):
        raise ProtocolError(f"{where} must be a table of keys")
    for key in raw:
        if key not in _RULES:
            raise ProtocolError(f"{where}: unknown key {key!r}; keys: {', '.join(_RULES)}")
    for key in ("id", "name"):
        if key not in raw:
            raise ProtocolError(f"{where}: {key!r} is required ({_RULES[key][0]})")
    for key, value in raw.items():
        allowed, ok = _RULES[key]
        if not ok(value):
            raise ProtocolError(f"{where}: {key} = {value!r} is not allowed; expected {allowed}")
    values = dict(raw)
    values["name"] = values["name"].strip()
    if "knees" in values:
        values["knees"] = tuple(values["knees"])
    for key in ("target_s", "min_hold_s", "rest_s"):
        if key in values:
            values[key] = float(values[key])
    protocol = Protocol(**values)
    if protocol.target_breaths and protocol.min_hold_s > protocol.target_s:
        raise ProtocolError(f"{where}: min_hold_s = {protocol.min_hold_s:g} is longer than target_s = "
                            f"{protocol.target_s:g}; a breath-counted hold is complete by target_s "
                            "at the latest")
    return protocol


def catalogue(user: tuple[Protocol, ...] | list[Protocol] = ()) -> dict[str, Protocol]:
    """Built-ins then user protocols by id; a user id may not hide a built-in or repeat."""
    found = {p.id: p for p in BUILTINS}
    for p in user:
        if p.id in found:
            kind = "a built-in protocol" if found[p.id].builtin else "another [[protocols]] entry"
            raise ProtocolError(f"protocol id {p.id!r} is already used by {kind}; choose another id")
        found[p.id] = p
    return found


def protocols_from_config(raw: Any, where: str = "config") -> tuple[Protocol, ...]:
    """The `[[protocols]]` array of tables, validated one by one and together."""
    if not isinstance(raw, list):
        raise ProtocolError(f"{where}: protocols must be written as [[protocols]] tables")
    found = tuple(protocol_from_dict(item, f"{where}: [[protocols]] #{i + 1}") for i, item in enumerate(raw))
    try:
        catalogue(found)
    except ProtocolError as exc:
        raise ProtocolError(f"{where}: {exc}") from None
    return found


def to_toml_tables(protocols: tuple[Protocol, ...]) -> list[str]:
    """TOML lines for `stretchstep config` (user protocols only)."""
    lines: list[str] = []
    for p in protocols:
        lines.append("[[protocols]]")
        for key in _RULES:
            value = getattr(p, key)
            if isinstance(value, tuple):
                lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in value)}]")
            elif isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, str):
                lines.append(f'{key} = "{_escape(value)}"')
            else:
                lines.append(f"{key} = {value!r}")
        lines.append("")
    return lines


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
