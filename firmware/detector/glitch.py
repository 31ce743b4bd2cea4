"""Glitch rejection in front of the detector: isolated wild samples and non-finite readings.

An HX711 bit error shows up as ONE sample far from its neighbours (a flipped high bit is
6-200 kg); real load changes, however fast, persist for the following samples. So a sample
that jumps away from the last accepted value is held as *suspect* and judged by the next one:
if the next sample is back near the old value the suspect was a glitch and is dropped; if the
next sample is also far away the load really moved and it is accepted. This never delays a
sample in time (the output for a sample is decided when it arrives: accepted, or NaN =
missing), so a cue driven by sample time (hold_complete) is never late; the price is that the
first sample of a genuine jump is dropped, which a detector averaging ~0.1 s blocks ignores.

The tolerance scales with the sample spacing: at 80 Hz real signals move little per sample
(a 30 % BW, 3 Hz bounce moves ~4 % BW), at 10 Hz a bounce can move a third of the load per
sample, so only wilder jumps are suspect.
"""

from __future__ import annotations

import math

NAN = math.nan


class GlitchFilter:
    """Streaming isolated-spike rejector: `feed(t, kg) -> kg or NaN`. O(1), no allocation."""

    __slots__ = ("abs_kg", "rel_per_s", "rel_max", "gap_s", "_ref", "_ref_t", "_scale", "_suspect",
                 "rejected")

    def __init__(self, abs_kg: float = 1.0, rel_per_s: float = 4.5, rel_max: float = 0.45,
                 gap_s: float = 0.5) -> None:
        if not 0.0 < abs_kg <= 100.0:
            raise ValueError(f"abs_kg={abs_kg!r} is out of range; allowed >0 to 100 kg")
        if not 0.0 <= rel_per_s <= 100.0:
            raise ValueError(f"rel_per_s={rel_per_s!r} is out of range; allowed 0 to 100 per second")
        if not 0.0 <= rel_max <= 10.0:
            raise ValueError(f"rel_max={rel_max!r} is out of range; allowed 0 to 10")
        if not 0.0 < gap_s <= 60.0:
            raise ValueError(f"gap_s={gap_s!r} is out of range; allowed >0 to 60 s")
        self.abs_kg = abs_kg          # tolerance floor: ~10x the HX711 noise
        self.rel_per_s = rel_per_s    # relative tolerance per second of sample spacing ...
        self.rel_max = rel_max        # ... capped (10 Hz: ~0.3 of the load)
        self.gap_s = gap_s            # after a longer gap the next sample starts afresh
        self._ref = NAN               # last accepted value (NaN: none yet)
        self._ref_t = -math.inf
        self._scale = 0.0             # typical recent load (the relative tolerance's base)
        self._suspect = False         # the previous sample was held back
        self.rejected = 0             # how many samples were dropped as glitches

    def feed(self, t: float, kg: float) -> float:
        """The sample's kg if it is believable, else NaN (missing). Non-finite input -> NaN."""
        ref = self._ref
        if kg - kg != 0.0:  # NaN or +-inf
            return NAN
        dt = t - self._ref_t
        if dt > self.gap_s or ref != ref:
            self._accept(t, kg)
            return kg
        rel = self.rel_per_s * dt
        if rel > self.rel_max:
            rel = self.rel_max
        tol = self.abs_kg + rel * self._scale
        dev = kg - ref
        if -tol <= dev <= tol:
            self._suspect = False
            self._ref, self._ref_t = kg, t
            self._scale += 0.05 * ((kg if kg > 0.0 else -kg) - self._scale)
            return kg
        if self._suspect:
            # Two in a row away from the old value: the load really moved.
            self._accept(t, kg)
            return kg
        self._suspect = True
        self.rejected += 1
        return NAN

    def _accept(self, t: float, kg: float) -> None:
        self._suspect = False
        self._ref, self._ref_t = kg, t
        self._scale = abs(kg)

    def reset(self) -> None:
        """Forget the reference (e.g. after the sensor was re-tared)."""
        self._ref, self._ref_t, self._suspect, self._scale = NAN, -math.inf, False, 0.0
