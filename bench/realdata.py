"""Real force-plate recordings (read-only, beside the repo) as the sway of benchmark people.

The recordings hold no stretching: they are real people standing quietly. What the edge cell
would see of them is the moment of their feet's forces about the board's hinge over its depth
(DESIGN §2): `sum F_vertical * x_COP / L`. So each recording becomes two feet (vertical force
and antero-posterior centre of pressure, about their means) fed through the simulator's
`LeverSway`, which lays them on a board drawn for the case:

- PDS13*grf (one person, three trials) and pds_control01-07 (seven older adults, three trials
  each): one plate per foot -- the eight per-foot people a corpus holds out by person;
- BDS (subject 1: BDS00001-3, subject 9: BDS00101-2): one plate under both feet, so the net
  force and COP, split evenly between the feet (their left/right shifting is not in it);
- jump1/2: vertical force only (step on, stand, jump, land, step off): idle cases as recorded.

The folder is `../shared/data/real` from the repo root, or `$STRETCHSTEP_REAL_DATA`. It is
never copied into the repo; when absent, `people()` is empty and the corpus says so.
"""

from __future__ import annotations

import bisect
import functools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.sensors.base import Sample
from firmware.sensors.simulated.sway import Geometry, LeverSway, recorded_foot

G = 9.80665
RATE_HZ = 100.0  # every BDS/PDS recording's rate
REPO_ROOT = Path(__file__).resolve().parents[1]
ON_KG, OFF_KG = 5.0, 2.0  # step threshold with hysteresis, kg at the cell
MIN_OFF_S = 1.0  # a jump's flight (~0.6 s) is not stepping off
JUMPS = ("jump1", "jump2")

# How each kind of file names a foot's vertical force (N) and AP centre of pressure, and the
# COP's unit in metres: (right force, right COP, left force, left COP, metres per unit).
# pds_control files name the dominant and non-dominant foot; the dominant is taken as the right.
LAYOUTS: dict[str, tuple[str, str, str, str, float]] = {
    "PDS13": ("RGRF_Y", "RCOP_X", "LGRF_Y", "LCOP_X", 1.0),
    "pds_control": ("dominant Fvert (N)", "dominant CPap (m)", "non-dominant Fvert (N)",
                    "non-dominant CPap (m)", 1.0),
    "BDS": ("Fz[N]", "COPx[cm]", "Fz[N]", "COPx[cm]", 0.01),
}


@dataclass(frozen=True)
class RealPerson:
    """One recorded person: an id, their trial files and whether the plates were per foot."""

    id: str
    files: tuple[str, ...]
    per_foot: bool = True


PEOPLE: tuple[RealPerson, ...] = (
    RealPerson("PDS13", ("PDS13OR1grf.txt", "PDS13CR2grf.txt", "PDS13OF3grf.txt")),
    *(RealPerson(f"control{n:02d}", tuple(f"pds_control{n:02d}_trial{k}.txt" for k in range(3)))
      for n in range(1, 8)),
    RealPerson("BDS-s1", ("BDS00001.txt", "BDS00002.txt", "BDS00003.txt"), per_foot=False),
    RealPerson("BDS-s9", ("BDS00101.txt", "BDS00102.txt"), per_foot=False),
)


@dataclass
class Case:
    """One benchmark trace: its samples (made on demand, so a corpus streams) and its truth."""

    name: str
    rate_hz: float
    make_samples: Callable[[], Iterable[Sample]]
    truth: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    group: str = "sim"  # where the sway came from: "sim" (synthetic feet) or "real" (recorded)
    sway: Callable[[float], float] | None = None  # the postural sway laid under a simulated case


def real_data_dir() -> Path | None:
    """The recordings folder, or None when it is not there."""
    override = os.environ.get("STRETCHSTEP_REAL_DATA")
    path = Path(override) if override else REPO_ROOT.parent / "shared" / "data" / "real"
    return path if path.is_dir() else None


def people(data_dir: Path | None = None) -> list[RealPerson]:
    """The recorded people whose files are all there ([] with a note when the folder is absent)."""
    folder = data_dir or real_data_dir()
    if folder is None:
        print("note: real recordings not found (../shared/data/real or $STRETCHSTEP_REAL_DATA); skipped")
        return []
    return [p for p in PEOPLE if all((folder / f).exists() for f in p.files)]


def read_columns(path: Path, columns: Iterable[str]) -> tuple[list[float], dict[str, list[float]]]:
    """Times (from 0) and the named columns (raw units) of a tab-separated recording with a
    header line whose time column starts with 'time' (any case)."""
    wanted = list(dict.fromkeys(columns))
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        tcol = next((i for i, h in enumerate(header) if h.lower().startswith("time")), None)
        missing = [c for c in wanted if c not in header]
        if missing or tcol is None:
            raise ValueError(f"{path}: no column {missing[0] if missing else 'Time'!r}; it has {header}")
        cols = [header.index(c) for c in wanted]
        times: list[float] = []
        values: dict[str, list[float]] = {c: [] for c in wanted}
        for lineno, line in enumerate(fh, start=2):
            cells = line.split("\t")
            if len(cells) <= max(*cols, tcol):
                continue
            try:
                row = [float(cells[i]) for i in cols]
                times.append(float(cells[tcol]))
            except ValueError:
                raise ValueError(f"{path}:{lineno}: not numbers: {line.strip()!r}") from None
            for c, v in zip(wanted, row, strict=True):
                values[c].append(v)
    t0 = times[0] if times else 0.0
    return [t - t0 for t in times], values


def read_column(path: Path, column: str) -> tuple[list[float], list[float]]:
    """Times (from 0) and one force column in kg (newtons / g)."""
    times, values = read_columns(path, [column])
    return times, [v / G for v in values[column]]


def layout_of(file: str) -> tuple[str, str, str, str, float]:
    return next(layout for prefix, layout in LAYOUTS.items() if file.startswith(prefix))


@functools.lru_cache(maxsize=64)
def read_feet(path: Path) -> tuple[list[float], list[float], list[float], list[float]]:
    """Right force (kg), right COP (m), left force (kg), left COP (m) of one recording; a net
    plate (BDS) gives each foot half the force and the shared COP."""
    rf, rc, lf, lc, metres = layout_of(path.name)
    _, cols = read_columns(path, [rf, rc, lf, lc])
    share = 0.5 if rf == lf else 1.0
    return ([v * share / G for v in cols[rf]], [v * metres for v in cols[rc]],
            [v * share / G for v in cols[lf]], [v * metres for v in cols[lc]])


def body_kg_of(path: Path) -> float:
    """The recorded person's weight: the mean of both feet's vertical force, in kg."""
    right, _, left, _ = read_feet(path)
    return (sum(right) + sum(left)) / len(right)


def recorded_sway(paths: Path | Sequence[Path], geometry: Geometry, offset_s: float = 0.0) -> LeverSway:
    """Recordings' feet through the lever of `geometry`, played from `offset_s` (mirrored at the
    ends). Several trials of one person are laid end to end, each about its own mean, with a
    `SPLICE_S` cross-fade, so a long trace does not replay one minute of sway back and forth.
    Its `source` names the files."""
    paths = [paths] if isinstance(paths, Path) else list(paths)
    trials = [read_feet(p) for p in paths]
    right_f, right_c, left_f, left_c = (splice([trial[k] for trial in trials]) for k in range(4))
    return LeverSway(recorded_foot(right_f, right_c, RATE_HZ, offset_s),
                     recorded_foot(left_f, left_c, RATE_HZ, offset_s), geometry,
                     source="+".join(p.name for p in paths))


SPLICE_S = 2.0


def splice(series: list[list[float]]) -> list[float]:
    """Series laid end to end, each shifted to the first's mean, overlapping by SPLICE_S with a
    linear cross-fade (no jump where one ends and the next begins)."""
    out = list(series[0])
    level = sum(out) / len(out)
    n = int(SPLICE_S * RATE_HZ)
    for nxt in series[1:]:
        shift = level - sum(nxt) / len(nxt)
        nxt = [v + shift for v in nxt]
        k = min(n, len(out), len(nxt))
        for i in range(k):
            w = (i + 1) / (k + 1)
            out[len(out) - k + i] = out[len(out) - k + i] * (1.0 - w) + nxt[i] * w
        out.extend(nxt[k:])
    return out


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


def jump_case(stem: str, rate: float, data_dir: Path | None = None) -> Case | None:
    """A jump recording (step on, stand, jump, land, step off) as an idle case at `rate`."""
    folder = data_dir or real_data_dir()
    path = folder / f"{stem}.txt" if folder else None
    if path is None or not path.exists():
        return None
    times, kg = read_column(path, "GRF[N]")
    series = resample(times, kg, rate)
    loaded = [v for _, v in series if v > ON_KG]
    truth = {
        "scenario": f"real:{stem}", "seed": None, "rate_hz": rate, "body_kg": None,
        "stand_kg": round(sum(loaded) / len(loaded), 3) if loaded else 0.0, "idle": True,
        "duration_s": round(series[-1][0], 4), "stretches": [], "bounces": [],
        "steps": steps_from(series), "source": path.name, "samples": len(series),
        "sway_source": path.name, "sway_person": None,  # not one of PEOPLE: in no split
    }
    samples = [Sample(round(t, 6), v) for t, v in series]
    return Case(f"{stem}_{rate:g}hz", rate, lambda: samples, truth, {"scenario": truth["scenario"]},
                group="real")
