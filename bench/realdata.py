"""Real force-plate recordings (read-only, beside the repo) as benchmark cases.

The recordings hold no stretching: they are the real noise floor, weight shifting and step
on/off the detector must never mistake for a stretch, a breath or a bounce. Each becomes idle
traces at 10 and 80 Hz (box-averaged like an integrating ADC, newtons -> kg):

- BDS* (both feet on one plate): Fz/2 (an edge-weighted step sees about half) and full Fz;
- PDS* (one plate per foot): RGRF_Y and LGRF_Y, each one foot on the edge cell;
- jump1/2: GRF[N] (step on, stand, jump, land, step off).

"Real sway under known truth": a simulated routine whose postural sway is a real one-foot
force (minus its mean), so scripted stretches sit on real noise with exact truth.

The folder is `../shared/data/real` from the repo root, or `$STRETCHSTEP_REAL_DATA`. It is
never copied into the repo; when absent, `real_cases()` returns nothing and says so.
"""

from __future__ import annotations

import bisect
import os
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.sensors.base import Sample

G = 9.80665
REPO_ROOT = Path(__file__).resolve().parents[1]
ON_KG, OFF_KG = 5.0, 2.0  # step threshold with hysteresis, kg at the cell
MIN_OFF_S = 1.0  # a jump's flight (~0.6 s) is not stepping off

# (file stem, column, scale, label): what the edge cell would see of each recording.
RECORDINGS: list[tuple[str, str, float, str]] = [
    *[(f"BDS{n}", "Fz[N]", scale, label) for n in ("00001", "00002", "00003", "00101", "00102")
      for scale, label in ((0.5, "half"), (1.0, "full"))],
    *[(f"PDS13{n}grf", col, 1.0, label) for n in ("OR1", "CR2", "OF3")
      for col, label in (("RGRF_Y", "right"), ("LGRF_Y", "left"))],
    ("jump1", "GRF[N]", 1.0, "grf"),
    ("jump2", "GRF[N]", 1.0, "grf"),
]


@dataclass
class Case:
    """One benchmark trace: its samples (made on demand, so a corpus streams) and its truth."""

    name: str
    rate_hz: float
    make_samples: Callable[[], Iterable[Sample]]
    truth: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    group: str = "sim"  # "sim", "real" (idle recordings) or "realsway": benchmarks report each apart
    sway: Callable[[float], float] | None = None  # the postural sway laid under a simulated case


def real_data_dir() -> Path | None:
    """The recordings folder, or None when it is not there."""
    override = os.environ.get("STRETCHSTEP_REAL_DATA")
    path = Path(override) if override else REPO_ROOT.parent / "shared" / "data" / "real"
    return path if path.is_dir() else None


def read_column(path: Path, column: str) -> tuple[list[float], list[float]]:
    """Times (from 0) and one column in kg from a tab-separated recording with a header line."""
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if column not in header or not any(h.startswith("Time") for h in header):
            raise ValueError(f"{path}: no column {column!r} (and a Time column); it has {header}")
        col = header.index(column)
        tcol = next(i for i, h in enumerate(header) if h.startswith("Time"))
        times, kg = [], []
        for lineno, line in enumerate(fh, start=2):
            cells = line.split("\t")
            if len(cells) <= max(col, tcol):
                continue
            try:
                times.append(float(cells[tcol]))
                kg.append(float(cells[col]) / G)
            except ValueError:
                raise ValueError(f"{path}:{lineno}: not numbers: {line.strip()!r}") from None
    t0 = times[0] if times else 0.0
    return [t - t0 for t in times], kg


def resample(times: list[float], values: list[float], rate_hz: float) -> list[tuple[float, float]]:
    """(t, value) at t = k / rate_hz: the mean of source samples within half a period, or a
    linear interpolation where the source is sparser than the target."""
    out, half = [], 0.5 / rate_hz
    for k in range(int(times[-1] * rate_hz + 1e-9) + 1):
        t = k / rate_hz
        lo, hi = bisect.bisect_left(times, t - half), bisect.bisect_left(times, t + half)
        if hi > lo:
            out.append((t, sum(values[lo:hi]) / (hi - lo)))
        else:
            j = min(max(bisect.bisect_left(times, t), 1), len(times) - 1)
            span = times[j] - times[j - 1]
            w = (t - times[j - 1]) / span if span > 0 else 0.0
            out.append((t, values[j - 1] + w * (values[j] - values[j - 1])))
    return out


def steps_from(series: list[tuple[float, float]]) -> list[dict[str, float | None]]:
    """Step on/off where the load crosses ON_KG / OFF_KG; unloaded gaps under MIN_OFF_S (a jump's
    flight) do not count; `off` is None when the trace ends with someone on the step."""
    steps: list[dict[str, float | None]] = []
    on = False
    below_since: float | None = None
    for t, kg in series:
        if not on and kg > ON_KG:
            if steps and below_since is not None and t - below_since < MIN_OFF_S:
                steps[-1]["off"] = None  # a flight, not a step off: the visit continues
            else:
                steps.append({"on": round(t, 4), "off": None})
            on, below_since = True, None
        elif on and kg < OFF_KG:
            on, below_since = False, t
            steps[-1]["off"] = round(t, 4)
    return steps


def real_cases(rates: tuple[float, ...] = (10.0, 80.0), data_dir: Path | None = None) -> list[Case]:
    """Idle cases from every recording at each rate; [] (with a note) when the folder is absent."""
    folder = data_dir or real_data_dir()
    if folder is None:
        print("note: real recordings not found (../shared/data/real or $STRETCHSTEP_REAL_DATA); skipped")
        return []
    cases = []
    for stem, column, scale, label in RECORDINGS:
        path = folder / f"{stem}.txt"
        if not path.exists():
            print(f"note: {path} missing; skipped")
            continue
        times, kg = read_column(path, column)
        kg = [v * scale for v in kg]
        for rate in rates:
            series = resample(times, kg, rate)
            cases.append(_idle_case(f"real_{stem}_{label}_{rate:g}hz", stem, column, scale, rate, series))
    return cases


def _idle_case(name: str, stem: str, column: str, scale: float, rate: float,
               series: list[tuple[float, float]]) -> Case:
    loaded = [kg for _, kg in series if kg > ON_KG]
    truth = {
        "scenario": f"real:{stem}:{column}:x{scale:g}", "seed": None, "rate_hz": rate,
        "body_kg": None, "stand_kg": round(sum(loaded) / len(loaded), 3) if loaded else 0.0,
        "idle": True, "duration_s": round(series[-1][0], 4), "stretches": [], "bounces": [],
        "steps": steps_from(series), "source": f"{stem}.txt", "column": column, "scale": scale,
        "samples": len(series),
    }
    samples = [Sample(round(t, 6), kg) for t, kg in series]
    return Case(name, rate, lambda: samples, truth, {"scenario": truth["scenario"]}, group="real")


def real_sway(path: Path, column: str) -> tuple[Callable[[float], float], float]:
    """A real one-foot force minus its mean as a t -> kg sway overlay (played forwards, then
    backwards, and so on, so it never jumps), and that foot's mean load in kg."""
    times, kg = read_column(path, column)
    mean = sum(kg) / len(kg)
    series = resample(times, [v - mean for v in kg], 100.0)
    values = [v for _, v in series]
    period = len(values) - 1

    def sway(t: float) -> float:
        x = (t * 100.0) % (2 * period)
        x = 2 * period - x if x > period else x
        i = min(int(x), period - 1)
        return values[i] + (x - i) * (values[i + 1] - values[i])

    sway.bound = max(abs(v) for v in values)  # type: ignore[attr-defined]  # see ScriptCompiler._peak
    return sway, mean


def real_sway_cases(seed: int = 0, rates: tuple[float, ...] = (10.0, 80.0),
                    data_dir: Path | None = None, scenarios: tuple[str, ...] = ("mixed",)) -> list[Case]:
    """Simulated routines standing on real one-foot sway (PDS recordings), truth exact."""
    from firmware.sensors.simulated import scenario  # here so the idle cases need no simulator

    folder = data_dir or real_data_dir()
    if folder is None:
        return []
    rng = random.Random(f"{seed}:real-sway")
    cases = []
    for stem, column, _scale, label in RECORDINGS:
        if not stem.startswith("PDS"):
            continue
        path = folder / f"{stem}.txt"
        if not path.exists():
            continue
        sway, foot_kg = real_sway(path, column)
        body_kg = 2.0 * foot_kg  # quiet standing shares weight about evenly between the feet
        for rate in rates:
            for name in scenarios:
                case_seed = rng.randrange(1_000_000)
                person = scenario(name, seed=case_seed, rate_hz=rate, body_kg=round(body_kg, 2),
                                  stand_frac=0.45, noise_kg=round(rng.uniform(0.02, 0.15), 3), sway=sway)
                label_ = f"{name}+realsway:{stem}:{column}"
                truth = {**person.truth, "scenario": label_, "sway": f"{stem}.txt"}
                cases.append(Case(f"realsway_{stem}_{label}_{name}_{rate:g}hz", rate, person.samples, truth,
                                  {"scenario": truth["scenario"], "seed": case_seed}, group="realsway",
                                  sway=person.sway))
    return cases


