"""What a simulated person (or the world) does next: the segments a scenario is a list of.

`Off`, `StepOn`, `Stand`, `ShiftFoot`, `Hold` (with its `Bounce`s), `StepOff`, `Bag`, `Unplug`.
Ranges accepted here are physical sanity bounds (a little wider than DESIGN §2, so tests can
probe edges); the named scenarios and the corpus stay inside DESIGN §2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LEGS = ("right", "left")
KNEES = ("straight", "bent")
RELEASE_TO = ("standing", "off")


def check(name: str, value: float, lo: float, hi: float) -> None:
    """A clear error naming the field and its allowed range (bad scripts are a user's mistake)."""
    if not (isinstance(value, int | float) and lo <= value <= hi):
        raise ValueError(f"{name}={value!r} is out of range; allowed {lo:g} to {hi:g}")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not allowed; use one of {', '.join(choices)}")


@dataclass
class Off:
    """Nobody on the step (empty cell: noise and drift only)."""

    seconds: float

    def __post_init__(self) -> None:
        check("Off.seconds", self.seconds, 0.0, 1e7)


@dataclass
class StepOn:
    """The person steps onto the step; load rises smoothly to their standing share."""

    seconds: float = 0.6

    def __post_init__(self) -> None:
        check("StepOn.seconds", self.seconds, 0.1, 5.0)


@dataclass
class StepOff:
    """The person steps off; load falls smoothly to 0."""

    seconds: float = 0.6

    def __post_init__(self) -> None:
        check("StepOff.seconds", self.seconds, 0.1, 5.0)


@dataclass
class Stand:
    """Plain standing at the current standing share (postural sway is added on top)."""

    seconds: float

    def __post_init__(self) -> None:
        check("Stand.seconds", self.seconds, 0.0, 1e7)


@dataclass
class ShiftFoot:
    """A foot shift: the standing share steps by `delta_frac` of body weight, smoothly; or, with
    `to_frac`, moves towards that share of the person's usual standing load (a step of at most
    10 % BW), which keeps shifts wandering about the usual stance rather than drifting away."""

    delta_frac: float = 0.0
    seconds: float = 0.3
    to_frac: float | None = None

    def __post_init__(self) -> None:
        check("ShiftFoot.delta_frac", self.delta_frac, -0.15, 0.15)
        check("ShiftFoot.seconds", self.seconds, 0.05, 3.0)
        if self.to_frac is not None:
            check("ShiftFoot.to_frac", self.to_frac, 0.1, 0.9)


@dataclass
class Bag:
    """A bag left on the (empty) step: constant load, no sway, no breathing."""

    kg: float
    seconds: float
    edge_s: float = 0.2

    def __post_init__(self) -> None:
        check("Bag.kg", self.kg, 0.1, 200.0)
        check("Bag.seconds", self.seconds, 0.0, 1e7)
        check("Bag.edge_s", self.edge_s, 0.02, 3.0)


@dataclass
class Unplug:
    """The sensor is unplugged: samples carry `fault` and NaN kg; the person keeps still."""

    seconds: float
    reason: str = "unplugged"

    def __post_init__(self) -> None:
        check("Unplug.seconds", self.seconds, 0.0, 1e7)


@dataclass
class Bounce:
    """A bounce episode inside a hold (the fault the device must flag).

    It starts `at_s` into the hold, or `at_s` after the peak of breath `after_breath` (0-based)
    when that is given, so a script can put it in an in-breath without knowing breath timing.
    """

    at_s: float
    hz: float = 2.0
    pp_frac: float = 0.15
    cycles: int = 3
    after_breath: int | None = None

    def __post_init__(self) -> None:
        check("Bounce.at_s", self.at_s, 0.0, 1e4)
        check("Bounce.hz", self.hz, 0.5, 5.0)
        check("Bounce.pp_frac", self.pp_frac, 0.01, 0.5)
        check("Bounce.cycles", self.cycles, 1, 20)
        if self.after_breath is not None:
            check("Bounce.after_breath", self.after_breath, 0, 11)

    @property
    def seconds(self) -> float:
        return self.cycles / self.hz


@dataclass
class Hold:
    """One scripted heel-drop stretch: ramp, hold with breath presses, release.

    The hold lasts lead_s + one cycle per breath + tail_s (or `hold_s` if longer: the tail
    grows). `early_release` drops breaths (and shortens the tail) until the hold is at least
    3 s short of the target, so the truth says it was not completed.
    """

    breaths: int = 4
    cycle_s: float = 7.0
    press_frac: float = 0.04
    plateau_frac: float = 0.8
    ramp_s: float = 2.0
    release_s: float = 2.0
    bounces: list[Bounce] = field(default_factory=list)
    release_to: str = "standing"
    early_release: bool = False
    leg: str = "right"
    knee: str = "straight"
    lead_s: float = 1.5
    tail_s: float = 1.5
    hold_s: float | None = None
    let_off: float | None = None  # share of each press let off on the in-breath; None: 0.5-0.9
    vary: float = 0.1  # relative breath-to-breath variation of cycle and press depth
    exhale_share: float | None = None  # out-breath share of each cycle; None: 35-50 %, 2-5 s
    press_vary: float | None = None  # breath-to-breath variation of press depth; None: `vary`
    damping: float = 1.0  # what a hand on the rail leaves of the stretching sway (DESIGN §2)

    def __post_init__(self) -> None:
        check("Hold.breaths", self.breaths, 0, 12)
        check("Hold.cycle_s", self.cycle_s, 3.0, 20.0)
        check("Hold.press_frac", self.press_frac, 0.0, 0.15)
        check("Hold.plateau_frac", self.plateau_frac, 0.3, 1.0)
        check("Hold.ramp_s", self.ramp_s, 0.3, 10.0)
        check("Hold.release_s", self.release_s, 0.3, 10.0)
        check("Hold.lead_s", self.lead_s, 0.0, 60.0)
        check("Hold.tail_s", self.tail_s, 0.0, 600.0)
        check("Hold.vary", self.vary, 0.0, 0.3)
        if self.hold_s is not None:
            check("Hold.hold_s", self.hold_s, 0.0, 3600.0)
        if self.let_off is not None:
            check("Hold.let_off", self.let_off, 0.0, 1.0)
        if self.exhale_share is not None:
            check("Hold.exhale_share", self.exhale_share, 0.1, 0.9)
        if self.press_vary is not None:
            check("Hold.press_vary", self.press_vary, 0.0, 0.5)
        check("Hold.damping", self.damping, 0.0, 1.0)
        check_choice("Hold.release_to", self.release_to, RELEASE_TO)
        check_choice("Hold.leg", self.leg, LEGS)
        check_choice("Hold.knee", self.knee, KNEES)


Segment = Off | StepOn | StepOff | Stand | ShiftFoot | Bag | Unplug | Hold
