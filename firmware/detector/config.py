"""What the detector is told: `DetectorConfig`, every field with a default that works without
the body weight, and the allowed range of each (checked at construction, so a bad config file
fails with one clear line instead of a detector that silently misbehaves)."""

from __future__ import annotations

from dataclasses import dataclass, fields

# name: (low, high) allowed, inclusive
RANGES: dict[str, tuple[float, float]] = {
    "body_kg": (20.0, 300.0),
    "heaviest_kg": (20.0, 300.0),
    "target_s": (1.0, 3600.0),
    "target_breaths": (0, 50),
    "rate_hz": (1.0, 1000.0),
    "on_kg": (0.5, 50.0),
    "rise_frac": (0.01, 1.0),
    "rise_sd": (0.0, 50.0),
    "slow_rise_s": (0.0, 5.0),
    "release_frac": (0.1, 0.9),
    "breath_gap_s": (0.5, 20.0),
    "breath_cycle_s": (3.0, 20.0),
    "breath_smooth_share": (0.1, 0.6),
    "breath_floor_frac": (0.0, 0.2),
    "breath_floor_sway": (0.0, 10.0),
    "breath_hyst_frac": (0.0005, 0.05),
    "bounce_frac": (0.0, 0.5),
    "bounce_sd": (0.0, 50.0),
}


@dataclass
class DetectorConfig:
    """What the detector is told. Every field has a default that works without body weight."""

    body_kg: float | None = None    # optional; sharpens the onset threshold, never required
    heaviest_kg: float = 150.0      # bounds a foot shift (<= 0.1 BW) when body_kg is not given:
                                    # the heaviest user the step is built for (hardware README: a
                                    # 200 kg cell for 120 kg plus a bounce) and a quarter more, as a
                                    # shift read through sway reads bigger
    target_s: float = 30.0          # hold_complete on the first sample with hold time >= target_s
    target_breaths: int = 0         # 0 = off; else hold_complete also at this many breaths
    rate_hz: float | None = None    # None: inferred from the first samples' spacing
    on_kg: float = 4.0              # load above the empty baseline that means someone is on
    rise_frac: float = 0.15         # onset threshold R as a share of the standing load (a stretch
                                    # rises >= 0.15 BW, >= 0.25 of a standing of <= 0.6 BW) ...
    rise_sd: float = 4.0            # ... or this many SDs of the standing 1 s mean, whichever is larger
    slow_rise_s: float = 0.5        # 20-80 % rise time separating a heel drop (1-4 s: >= 0.41 s)
                                    # from a foot shift (0.3-1 s: <= 0.41 s, sway on it stretches
                                    # that by up to ~0.1 s), for a rise a shift could make
    release_frac: float = 0.5       # release when y falls this share of the way hold -> standing
    breath_gap_s: float = 3.0       # breath peaks at least this far apart (cycles are 4-12 s)
    breath_cycle_s: float = 7.0     # breath cycle assumed until a hold shows its own
    breath_smooth_share: float = 0.35  # presses are sought in the load averaged over this share of a cycle
    breath_floor_frac: float = 0.015  # smallest press counted, as a share of the hold load ...
    breath_floor_sway: float = 0.3  # ... or this share of the biggest slow sway swing seen standing
    breath_hyst_frac: float = 0.0025  # zig-zag hysteresis, as a share of the hold load
    bounce_frac: float = 0.04       # smallest bounce swing, as a share of the hold load ...
    bounce_sd: float = 5.0          # ... or this many SDs of the standing 1-3 Hz band
    reject_glitches: bool = True    # run firmware.detector.glitch.GlitchFilter on the input

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "reject_glitches":
                if not isinstance(value, bool):
                    raise ValueError(f"reject_glitches={value!r} is not allowed; use true or false")
                continue
            if value is None and f.name in ("body_kg", "rate_hz"):
                continue
            lo, hi = RANGES[f.name]
            ok = isinstance(value, int | float) and not isinstance(value, bool) and lo <= value <= hi
            if f.name == "target_breaths":
                ok = ok and isinstance(value, int)
            if not ok:
                extra = " or None" if f.name in ("body_kg", "rate_hz") else ""
                raise ValueError(f"{f.name}={value!r} is out of range; allowed {lo:g} to {hi:g}{extra}")
