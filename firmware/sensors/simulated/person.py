"""The simulated person as a sample source: plays a compiled script, knows its own truth.

`SimulatedPerson(scenario)` plays a script of segments (`segments`, `compiler`) as kg samples
at 10 or 80 Hz: clean scripted load + postural sway (while someone stands on the step) +
sensor noise + drift, then artefacts (wild bit-error samples, dropped samples, timestamp
jitter, unplugged faults). Everything is drawn from `random.Random` streams seeded from `seed`,
so a seed always gives the same samples and the same `truth`. Pure Python, no numpy: it runs
on the Pi as the no-hardware sensor.

The truth is compiled up front for a finite scenario (same shape as `analyze --json`, DESIGN
§5, plus extras per stretch: `breath_times` (each press's peak), `press_kg` (the mean press
rise), `cycle_s`, `exhale_share`, `let_off` (as played), `plateau_kg`, `damping`, leg, knee, and
the sway under the hold alone: `sway_pp_kg` (breathing-band peak to peak), `press_to_sway`,
`sway_source`); an endless person (`forever_person`) compiles its script lazily, segment by
segment, and its truth is rolling (the most recent entries only, no sway figures).
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Iterable, Iterator
from itertools import count, takewhile
from typing import Any

from firmware.sensors.base import Sample
from firmware.sensors.simulated.compiler import ScriptCompiler
from firmware.sensors.simulated.pieces import Overlay, Piece
from firmware.sensors.simulated.registry import build_scenario
from firmware.sensors.simulated.scenarios import forever_script
from firmware.sensors.simulated.segments import Segment
from firmware.sensors.simulated.sway import SWAY_FRAC, default_sway

COUNTS_PER_KG = 20_000.0  # a typical HX711 + 50 kg cell scale; sets the size of bit-flip glitches
ROLLING_TRUTH = 500  # entries kept per truth list for an endless person


class _Timeline:
    """Pieces and overlays in time order, pulled from a segment iterator as time advances."""

    def __init__(self, compiler: ScriptCompiler, segments: Iterable[Segment]):
        self.compiler = compiler
        self.segments = iter(segments)
        self.pieces: list[Piece] = []
        self.overlays: list[Overlay] = []

    def extend_to(self, t: float) -> bool:
        """Compile segments until the script covers t; False if the script ends before."""
        while not self.pieces or self.pieces[-1].t1 < t:
            seg = next(self.segments, None)
            if seg is None:
                return False
            pieces, overlays = self.compiler.compile(seg)
            self.pieces.extend(p for p in pieces if p.t1 > p.t0)
            self.overlays.extend(sorted(overlays, key=lambda o: o.t0))  # the cursor walks them in order
        return True

    def compile_all(self) -> None:
        self.extend_to(math.inf)


class _Cursor:
    """Walks a timeline with non-decreasing t; forgets passed pieces when the script is endless."""

    def __init__(self, timeline: _Timeline, forget: bool):
        self.tl = timeline
        self.forget = forget
        self.k = 0
        self.active: list[Overlay] = []
        self.next_overlay = 0

    def at(self, t: float) -> tuple[Piece | None, list[Overlay]]:
        """The piece covering t and the overlays active at t (None when the script has ended)."""
        tl = self.tl
        if not tl.extend_to(t) and (not tl.pieces or t > tl.pieces[-1].t1):
            return None, []
        while self.k < len(tl.pieces) - 1 and t > tl.pieces[self.k].t1:
            self.k += 1
        if self.forget and self.k > 64:
            del tl.pieces[: self.k]
            self.k = 0
        while self.next_overlay < len(tl.overlays) and tl.overlays[self.next_overlay].t0 <= t:
            self.active.append(tl.overlays[self.next_overlay])
            self.next_overlay += 1
        if self.active:
            self.active = [o for o in self.active if o.t1 > t]
        if self.forget and self.next_overlay > 64:
            del tl.overlays[: self.next_overlay]
            self.next_overlay = 0
        return tl.pieces[self.k], self.active


def _event_indices(rng: random.Random, rate: float) -> Iterator[int]:
    """Increasing sample indices where a rare artefact strikes (Bernoulli per sample, rate p)."""
    if rate <= 0.0:
        return
    i = -1
    log_q = math.log1p(-rate) if rate < 1.0 else -math.inf
    while True:
        gap = 0.0 if log_q == -math.inf else math.log(1.0 - rng.random()) / log_q
        if not gap < 1e15:  # a vanishing rate: nothing strikes within any trace's lifetime
            return
        i += 1 + int(gap)
        yield i


class SimulatedPerson:
    """A scripted person on the step as a `SampleSource` (not live: the loop paces it).

    `scenario` is a list (finite: truth up front) or any iterable of segments (may be endless:
    compiled lazily). `sway` is an optional t -> kg overlay replacing the default postural sway;
    a `LeverSway` (synthetic or recorded feet through the step's lever) also gives the sway with
    a leg on the nosing, which the stretches then stand on, damped by the hold's rail damping.
    """

    live = False

    def __init__(self, scenario: Iterable[Segment], *, rate_hz: float = 80.0, body_kg: float = 70.0,
                 seed: int = 0, stand_frac: float = 0.45, noise_kg: float = 0.05,
                 drift_kg_per_h: float = 0.0, glitch_rate: float = 0.0, drop_rate: float = 0.0,
                 jitter_s: float = 0.0, sway: Callable[[float], float] | None = None,
                 target_s: float = 30.0, name: str = "custom", sway_frac: float = SWAY_FRAC):
        if rate_hz <= 0 or rate_hz > 1000:
            raise ValueError(f"rate_hz={rate_hz!r} is out of range; allowed >0 to 1000 (HX711: 10 or 80)")
        for label, value, hi in (("noise_kg", noise_kg, 5.0), ("glitch_rate", glitch_rate, 0.1),
                                 ("drop_rate", drop_rate, 0.5), ("jitter_s", jitter_s, 1.0),
                                 ("sway_frac", sway_frac, 0.1)):
            if not 0.0 <= value <= hi:
                raise ValueError(f"{label}={value!r} is out of range; allowed 0 to {hi:g}")
        self.rate_hz = float(rate_hz)
        self.body_kg = float(body_kg)
        self.seed = seed
        self.name = name
        self.noise_kg = noise_kg
        self.drift_kg_per_h = drift_kg_per_h
        self.glitch_rate = glitch_rate
        self.drop_rate = drop_rate
        # Clamped (and reported so in truth) so that t stays strictly increasing.
        self.jitter_s = min(jitter_s, 0.45 / self.rate_hz)
        self.sway = sway if sway is not None else default_sway(body_kg, seed, sway_frac)
        self.stand_kg = stand_frac * body_kg
        self.endless = not isinstance(scenario, list | tuple)
        compiler = ScriptCompiler(body_kg=body_kg, stand_frac=stand_frac, target_s=target_s, seed=seed,
                                  keep_last=ROLLING_TRUTH if self.endless else None,
                                  # An endless person's rolling truth keeps the scripted peak:
                                  # sampling each hold's peak would stall the loop pulling it.
                                  sway=None if self.endless else self.sway, rate_hz=self.rate_hz)
        self._timeline = _Timeline(compiler, scenario)
        self._closed = False
        self._started = False
        if not self.endless:
            self._timeline.compile_all()
        self.duration_s = None if self.endless else compiler.t
        self._n = None if self.endless else int(math.floor(compiler.t * self.rate_hz + 1e-9)) + 1
        self._artefacts = self._artefact_truth() if not self.endless else {}

    # -- truth ----------------------------------------------------------------------------

    @property
    def truth(self) -> dict[str, Any]:
        """Ground truth: analyze-JSON shape (DESIGN §5) plus extras. Rolling when endless."""
        c = self._timeline.compiler
        return {
            "scenario": self.name, "seed": self.seed, "rate_hz": self.rate_hz, "body_kg": self.body_kg,
            "stand_kg": round(self.stand_kg, 3), "idle": not c.stretches,
            "duration_s": None if self.duration_s is None else round(self.duration_s, 4),
            "target_s": c.target_s,
            **copy.deepcopy({"stretches": c.stretches, "bounces": c.bounces, "steps": c.steps,
                             "shifts": c.shifts, "bags": c.bags, "faults": c.faults}),
            "noise_kg": self.noise_kg, "drift_kg_per_h": self.drift_kg_per_h,
            "glitch_rate": self.glitch_rate, "drop_rate": self.drop_rate, "jitter_s": self.jitter_s,
            **self._artefacts,
        }

    def _artefact_truth(self) -> dict[str, Any]:
        """Where glitches and drops strike, from the same seeded streams `samples()` uses."""
        n = self._n or 0
        drops = set(takewhile(lambda i: i < n, _event_indices(random.Random(f"{self.seed}:drop"),
                                                             self.drop_rate)))
        faults = [p for p in self._timeline.pieces if p.fault]
        glitches = []
        for i in _event_indices(random.Random(f"{self.seed}:glitch"), self.glitch_rate):
            if i >= n:
                break
            t = i / self.rate_hz
            if i not in drops and not any(p.t0 < t <= p.t1 for p in faults):  # as _Cursor picks
                glitches.append(round(t, 4))
        return {"glitches": glitches, "dropped": len(drops), "samples": n - len(drops)}

    # -- samples --------------------------------------------------------------------------

    def samples(self) -> Iterator[Sample]:
        """Samples from t=0 at 1/rate_hz steps; every call replays the same person."""
        if self.endless:  # an iterator of segments can be consumed once only
            if self._started:
                raise RuntimeError("an endless SimulatedPerson can be played once; make a new one")
            self._started = True
        yield from self._play(_Cursor(self._timeline, forget=self.endless))

    def _play(self, cursor: _Cursor) -> Iterator[Sample]:
        rate, jitter = self.rate_hz, self.jitter_s
        noise = random.Random(f"{self.seed}:noise")
        glitch_rng = random.Random(f"{self.seed}:glitch-size")
        glitches = _event_indices(random.Random(f"{self.seed}:glitch"), self.glitch_rate)
        drops = _event_indices(random.Random(f"{self.seed}:drop"), self.drop_rate)
        next_glitch, next_drop = next(glitches, -1), next(drops, -1)
        drift_per_s = self.drift_kg_per_h / 3600.0
        sigma, stand, sway = self.noise_kg, self.stand_kg, self.sway
        for i in count() if self._n is None else range(self._n):
            if self._closed:
                return
            # The piece is chosen at the nominal time (so faults and truth agree exactly); the
            # load is evaluated at the jittered time (the script is continuous across pieces).
            t_nominal = i / rate
            piece, overlays = cursor.at(t_nominal)
            if piece is None:
                return
            t = t_nominal + noise.uniform(-jitter, jitter) if jitter and i else t_nominal
            glitch = i == next_glitch
            if glitch:
                next_glitch = next(glitches, -1)
            if i == next_drop:
                next_drop = next(drops, -1)
                continue
            if piece.fault:
                yield Sample(round(t, 6), math.nan, fault=piece.fault)
                continue
            level = piece.level(t)
            kg = level + drift_per_s * t + noise.gauss(0.0, sigma)
            if overlays:
                kg += sum(o.level(t) for o in overlays)
            if piece.person:  # sway grows with the load up to the usual standing load
                kg += piece.sway_kg(sway, t, level, stand)
            if glitch:
                kg += _glitch_kg(glitch_rng)
            yield Sample(round(t, 6), kg)

    def close(self) -> None:
        self._closed = True


def _glitch_kg(rng: random.Random) -> float:
    """An HX711 bit error: a flipped high bit of the 24-bit count (6-200 kg) or a wild reading."""
    sign = 1.0 if rng.random() < 0.5 else -1.0
    if rng.random() < 0.6:
        return sign * 2 ** rng.randint(17, 22) / COUNTS_PER_KG
    return sign * rng.uniform(20.0, 80.0)


def scenario(name: str, seed: int = 0, **kw: Any) -> SimulatedPerson:
    """A named, seeded scenario (see `SCENARIOS`); `kw` go to `SimulatedPerson` (rate_hz, ...).

    Script-shaping keywords (`reps`, `minutes`, ...) are passed to the scenario builder.
    """
    if name == "forever":
        return forever_person(seed=seed, **kw)
    person_kw = {k: v for k, v in kw.items() if k in _PERSON_KW}
    script_kw = {k: v for k, v in kw.items() if k not in _PERSON_KW}
    person_kw.setdefault("body_kg", 70.0)
    person_kw.setdefault("stand_frac", 0.45)
    script = build_scenario(name, random.Random(f"{seed}:{name}"), person_kw["body_kg"],
                            person_kw["stand_frac"], **script_kw)
    return SimulatedPerson(script, seed=seed, name=name, **person_kw)


_PERSON_KW = {"rate_hz", "body_kg", "stand_frac", "noise_kg", "drift_kg_per_h", "glitch_rate",
              "drop_rate", "jitter_s", "sway", "target_s", "sway_frac"}


def forever_person(seed: int = 0, rate_hz: float = 80.0, body_kg: float = 70.0,
                   **kw: Any) -> SimulatedPerson:
    """An endless user: visits, a routine of holds (now and then a bounce or early release),
    leaves, pauses, forever. The first stretch starts within ~10 s so a dashboard looks alive."""
    stand_frac = kw.get("stand_frac", 0.45)
    segments = forever_script(random.Random(f"{seed}:forever"), body_kg, stand_frac)
    return SimulatedPerson(segments, seed=seed, rate_hz=rate_hz, body_kg=body_kg, name="forever", **kw)

