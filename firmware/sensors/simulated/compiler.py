"""The script compiler: segments (what the person does) -> pieces (the load) + the truth.

`ScriptCompiler` turns segments, one at a time, into `Piece`s: time spans with a clean load
function, plus additive `Overlay`s (bounces). It also writes the ground truth as it goes, so
the truth is exactly what was scripted and never re-derived from the signal. Compiling one
segment at a time is what lets an endless person be generated lazily. Signal model: DESIGN §2.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from firmware.sensors.simulated.pieces import Breath, Flat, HoldPiece, Overlay, Piece, Ramp
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
    check,
)
from firmware.sensors.simulated.sway import band_pp, sway_at


class ScriptError(ValueError):
    """A scenario that cannot happen (e.g. a hold with nobody on the step)."""


class ScriptCompiler:
    """Keeps where the person is (time, on the step, standing share) and the truth so far."""

    def __init__(self, *, body_kg: float, stand_frac: float, target_s: float, seed: int,
                 keep_last: int | None = None, sway: Callable[[float], float] | None = None,
                 rate_hz: float | None = None):
        check("body_kg", body_kg, 10.0, 300.0)
        check("stand_frac", stand_frac, 0.1, 0.9)
        check("target_s", target_s, 1.0, 600.0)
        self.body_kg = body_kg
        self.stand_kg = stand_frac * body_kg
        self.usual_stand_kg = self.stand_kg  # what sway is scaled by (sway grows with load up to it)
        self.sway, self.rate_hz = sway, rate_hz
        self.target_s = target_s
        self.rng = random.Random(f"{seed}:script")
        self.t = 0.0
        self.level = 0.0
        self.on_step = False
        self.keep_last = keep_last
        self.stretches: list[dict[str, Any]] = []
        self.bounces: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.shifts: list[dict[str, Any]] = []
        self.bags: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []

    def compile(self, seg: Segment) -> tuple[list[Piece], list[Overlay]]:
        """Pieces and overlays for one segment, appended after everything compiled so far."""
        handler = getattr(self, f"_{type(seg).__name__.lower()}", None)
        if handler is None:
            raise ScriptError(f"unknown scenario segment {seg!r}")
        pieces, overlays = handler(seg)
        if self.keep_last:
            for items in (self.stretches, self.bounces, self.steps, self.shifts, self.bags, self.faults):
                del items[: max(0, len(items) - self.keep_last)]
        return pieces, overlays

    # -- simple segments ------------------------------------------------------------------

    def _span(self, seconds: float) -> tuple[float, float]:
        t0 = self.t
        self.t = t0 + seconds
        return t0, self.t

    def _off(self, seg: Off) -> tuple[list[Piece], list[Overlay]]:
        if self.on_step:
            raise ScriptError("Off while the person is on the step: add StepOff() before it")
        t0, t1 = self._span(seg.seconds)
        return [Flat(t0, t1, value=0.0)], []

    def _stepon(self, seg: StepOn) -> tuple[list[Piece], list[Overlay]]:
        if self.on_step:
            raise ScriptError("StepOn while already on the step")
        t0, t1 = self._span(seg.seconds)
        self.on_step, self.level = True, self.stand_kg
        self.steps.append({"on": round(t0, 4), "off": None})
        return [Ramp(t0, t1, person=True, a=0.0, b=self.stand_kg)], []

    def _stepoff(self, seg: StepOff) -> tuple[list[Piece], list[Overlay]]:
        self._need_on_step("StepOff")
        t0, t1 = self._span(seg.seconds)
        self._leave(t1)
        return [Ramp(t0, t1, person=True, a=self.stand_kg, b=0.0)], []

    def _leave(self, t: float) -> None:
        self.on_step, self.level = False, 0.0
        self.steps[-1]["off"] = round(t, 4)

    def _stand(self, seg: Stand) -> tuple[list[Piece], list[Overlay]]:
        self._need_on_step("Stand")
        t0, t1 = self._span(seg.seconds)
        return [Flat(t0, t1, person=True, value=self.stand_kg)], []

    def _shiftfoot(self, seg: ShiftFoot) -> tuple[list[Piece], list[Overlay]]:
        self._need_on_step("ShiftFoot")
        t0, t1 = self._span(seg.seconds)
        before, bw = self.stand_kg, self.body_kg
        delta = seg.delta_frac * bw
        if seg.to_frac is not None:
            delta = min(max(seg.to_frac * bw - before, -0.1 * bw), 0.1 * bw)
        # Shifts never walk the level out of DESIGN §2's 0.2-0.6 BW, however many there are.
        self.stand_kg = min(max(before + delta, 0.2 * bw), 0.6 * bw)
        self.level = self.stand_kg
        self.shifts.append({"t": round(t0, 4), "end": round(t1, 4),
                            "delta_kg": round(self.stand_kg - before, 4)})
        return [Ramp(t0, t1, person=True, a=before, b=self.stand_kg)], []

    def _bag(self, seg: Bag) -> tuple[list[Piece], list[Overlay]]:
        if self.on_step:
            raise ScriptError("Bag while the person is on the step: a bag sits on the empty step")
        edge = min(seg.edge_s, seg.seconds / 3) if seg.seconds > 0 else 0.0
        t0, t1 = self._span(seg.seconds)
        self.bags.append({"on": round(t0, 4), "off": round(t1, 4), "kg": seg.kg})
        return [Ramp(t0, t0 + edge, a=0.0, b=seg.kg), Flat(t0 + edge, t1 - edge, value=seg.kg),
                Ramp(t1 - edge, t1, a=seg.kg, b=0.0)], []

    def _unplug(self, seg: Unplug) -> tuple[list[Piece], list[Overlay]]:
        t0, t1 = self._span(seg.seconds)
        self.faults.append({"start": round(t0, 4), "end": round(t1, 4), "reason": seg.reason})
        return [Flat(t0, t1, person=self.on_step, fault=seg.reason, value=self.level)], []

    def _need_on_step(self, what: str) -> None:
        if not self.on_step:
            raise ScriptError(f"{what} needs the person on the step: add StepOn() before it")

    # -- the stretch ----------------------------------------------------------------------

    def _hold(self, seg: Hold) -> tuple[list[Piece], list[Overlay]]:
        self._need_on_step("Hold")
        bw, stand = self.body_kg, self.stand_kg
        start = self.t
        hold_start = start + seg.ramp_s
        breaths, hold_s = self._breaths(seg, hold_start)
        residual = sum(b.rise_kg - b.let_off_kg for b in breaths)
        top = max((b.rise_kg for b in breaths), default=0.0)
        # Never script more load than the body weighs: lower the plateau instead.
        # ... but always clearly above standing (a foot shift may have raised it since).
        plateau = min(seg.plateau_frac * bw, 1.0 * bw - residual - top)
        plateau = max(plateau, stand + 0.15 * bw)
        release_start = hold_start + hold_s
        end = release_start + seg.release_s
        to = stand if seg.release_to == "standing" else 0.0
        pose = {"leg": seg.leg, "damping": seg.damping}
        hold_piece = HoldPiece(hold_start, release_start, person=True, plateau=plateau, breaths=breaths,
                               stance0=1.0, stance1=1.0, **pose)
        pieces: list[Piece] = [
            Ramp(start, hold_start, person=True, a=stand, b=plateau, stance1=1.0, **pose),
            hold_piece,
            Ramp(release_start, end, person=True, a=hold_piece.level(release_start), b=to, stance0=1.0,
                 **pose),
        ]
        # An early release can cut the breath a bounce was scripted after: that bounce never happens.
        kept = [b for b in seg.bounces
                if not (seg.early_release and b.after_breath is not None and b.after_breath >= len(breaths))]
        # In time order (a script may list them in any order): the player and the truth rely on it.
        kept.sort(key=lambda b: self._bounce_start(b, hold_start, breaths))
        overlays = [self._bounce(b, hold_start, breaths) for b in kept]
        self.t = end
        if seg.release_to == "off":
            self._leave(end)
        self.stretches.append({
            "start": round(start, 4), "hold_start": round(hold_start, 4), "end": round(end, 4),
            "hold_s": round(hold_s, 4), "breaths": len(breaths), "bounces": len(overlays),
            "completed": hold_s >= self.target_s,
            "peak_kg": round(self._peak(pieces, overlays, start, end), 3),
            "leg": seg.leg, "knee": seg.knee, "release_to": seg.release_to,
            "plateau_kg": round(plateau, 3), "early_release": seg.early_release,
            "breath_times": [round(b.peak_t, 4) for b in breaths],
            "press_kg": round(sum(b.rise_kg for b in breaths) / len(breaths), 3) if breaths else 0.0,
            **self._breath_truth(breaths), "damping": seg.damping,
            **self._sway_truth(hold_piece, breaths),
        })
        return pieces, overlays

    @staticmethod
    def _breath_truth(breaths: list[Breath]) -> dict[str, float | None]:
        """The hold's breathing as it was played: mean cycle, out-breath share and let-off."""
        if not breaths:
            return {"cycle_s": None, "exhale_share": None, "let_off": None}
        n = len(breaths)
        return {"cycle_s": round(sum(b.press_s + b.inhale_s for b in breaths) / n, 3),
                "exhale_share": round(sum(b.press_s / (b.press_s + b.inhale_s) for b in breaths) / n, 3),
                "let_off": round(sum(b.let_off_kg / b.rise_kg if b.rise_kg else 0.0 for b in breaths) / n, 3)}

    def _sway_truth(self, hold: HoldPiece, breaths: list[Breath]) -> dict[str, Any]:
        """The sway under the hold alone, in the breathing band (peak to peak, kg), where it came
        from, and the hold's press-to-sway ratio (DESIGN §2; None without breaths or sway)."""
        if self.sway is None or not self.rate_hz:
            return {}
        sway, leg, damping = self.sway, hold.leg, hold.damping
        pp = band_pp(lambda t: sway_at(sway, t, 1.0, leg, damping), hold.t0, hold.t1)
        press = sum(b.rise_kg for b in breaths) / len(breaths) if breaths else 0.0
        ratio = round(press / pp, 3) if press and pp > 0 else None
        return {"sway_pp_kg": round(pp, 4), "press_to_sway": ratio,
                "sway_source": getattr(sway, "source", "synthetic")}

    def _breaths(self, seg: Hold, hold_start: float) -> tuple[list[Breath], float]:
        """The hold's breath presses (randomised a little per breath) and its duration."""
        rng, bw = self.rng, self.body_kg
        cycles = [seg.cycle_s * rng.uniform(1 - seg.vary, 1 + seg.vary) for _ in range(seg.breaths)]
        lead, tail = seg.lead_s, seg.tail_s
        if seg.early_release:
            limit = self.target_s - 3.0
            lead = min(lead, limit)
            while cycles and lead + sum(cycles) + tail > limit:
                cycles.pop()
            tail = max(0.0, min(tail, limit - lead - sum(cycles)))
        hold_s = lead + sum(cycles) + tail
        if seg.hold_s is not None and seg.hold_s > hold_s and not seg.early_release:
            hold_s = seg.hold_s
        breaths, t = [], hold_start + lead
        press_vary = seg.vary if seg.press_vary is None else seg.press_vary
        for cycle in cycles:
            if seg.exhale_share is None:
                press_s = min(max(2.0, cycle * rng.uniform(0.35, 0.5)), 5.0, cycle - 1.0)
            else:
                press_s = cycle * seg.exhale_share
            rise = seg.press_frac * bw * rng.uniform(1 - press_vary, 1 + press_vary)
            let = seg.let_off if seg.let_off is not None else rng.uniform(0.5, 0.9)
            breaths.append(Breath(t, press_s, rise, cycle - press_s, rise * let))
            t += cycle
        return breaths, hold_s

    @staticmethod
    def _bounce_start(b: Bounce, hold_start: float, breaths: list[Breath]) -> float:
        if b.after_breath is None:
            return hold_start + b.at_s
        if b.after_breath < len(breaths):
            return breaths[b.after_breath].peak_t + b.at_s
        raise ScriptError(f"Bounce.after_breath={b.after_breath} but the hold has only "
                          f"{len(breaths)} breaths (0-based index)")

    def _bounce(self, b: Bounce, hold_start: float, breaths: list[Breath]) -> Overlay:
        t0 = self._bounce_start(b, hold_start, breaths)
        pp = b.pp_frac * self.body_kg
        self.bounces.append({"t": round(t0, 4), "end": round(t0 + b.seconds, 4), "hz": b.hz,
                             "pp_kg": round(pp, 3), "cycles": b.cycles})
        return Overlay(t0, t0 + b.seconds, b.hz, pp / 2)


    def _peak(self, pieces: list[Piece], overlays: list[Overlay], t0: float, t1: float) -> float:
        """The stretch's highest load as a noise-free sensor samples it: script, bounces and sway
        (real force on the cell) at each sample instant; no sensor noise, drift or glitches.
        Without a sway and rate (a bare compiler), the scripted load's peak.

        When the sway says its largest size (`sway.bound`, kg), it is evaluated only where the
        load could still beat the peak, which keeps compiling a hold quick enough not to stall
        a live loop pulling an endless person."""
        if self.sway is None or not self.rate_hz:
            return _script_peak(pieces, overlays, t0, t1)
        sway, rate, usual = self.sway, self.rate_hz, self.usual_stand_kg
        bound = getattr(sway, "bound", math.inf)
        grid, k = [], 0
        for i in range(math.ceil(t0 * rate), math.floor(t1 * rate) + 1):
            t = i / rate
            while k < len(pieces) - 1 and t > pieces[k].t1:
                k += 1
            piece = pieces[k]
            level = piece.level(t)
            grid.append((t, piece, level, level + sum(o.level(t) for o in overlays) if overlays else level))
        if not grid:
            return _script_peak(pieces, overlays, t0, t1)
        floor = max(load for *_, load in grid) - 2.0 * bound
        return max(load + piece.sway_kg(sway, t, level, usual)
                   for t, piece, level, load in grid if load >= floor)


def _script_peak(pieces: list[Piece], overlays: list[Overlay], t0: float, t1: float) -> float:
    """Highest scripted load over [t0, t1] (sway and sensor noise excluded).

    Without a bounce the load peaks at a piece edge or a breath peak (ramps are monotonic), so
    only those instants are checked; bounce windows are scanned at 200 Hz.
    """
    times = [t0, t1, *(p.t0 for p in pieces), *(p.t1 for p in pieces)]
    for piece in pieces:
        if isinstance(piece, HoldPiece):
            times += [b.peak_t for b in piece.breaths]
    for o in overlays:  # each crest exactly, and a 200 Hz scan for the slope beneath
        n = max(1, int((o.t1 - o.t0) * 200))
        times += [o.t0 + (o.t1 - o.t0) * i / n for i in range(n + 1)]
        times += [o.t0 + (k + 0.25) / o.hz for k in range(int((o.t1 - o.t0) * o.hz + 0.5))]

    def load(t: float) -> float:
        piece = next((p for p in pieces if p.t0 <= t <= p.t1), pieces[-1])
        return piece.level(t) + sum(o.level(t) for o in overlays)

    return max(load(t) for t in times if t0 <= t <= t1)
