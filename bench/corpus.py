"""Build the labelled benchmark corpus: trace files + ground-truth JSON side by side.

    python bench/corpus.py OUT_DIR [--quick] [--seed N]

Writes NAME.csv (trace v1, header carries `# scenario=...`) and NAME.truth.json for every case:
simulated people spanning DESIGN §2 (randomised per case from the seed: 10/80 Hz, 45-120 kg,
standing share, plateaus, 0-7 breaths, bounces, foot shifts, stepping off mid-stretch, bags,
plain standing, drift, glitches, drops, jitter, noise), the real force-plate recordings as idle
cases, and simulated routines on real sway. Regenerated, never committed (bench/corpus/ is
gitignored). --quick makes a handful of traces in seconds for CI smoke runs.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.realdata import Case, real_cases, real_sway_cases  # noqa: E402
from firmware.sensors.simulated import SWAY_FRAC, scenario  # noqa: E402
from firmware.sensors.trace import TraceWriter  # noqa: E402

# (scenario, how many in the full corpus, builder keywords drawn per case)
FULL_PLAN: list[tuple[str, int]] = [
    ("good_routine", 20), ("mixed", 85), ("bouncy", 35), ("early_release", 20),
    ("step_on_off", 15), ("standing", 15), ("bag", 15),
]
QUICK_PLAN: list[tuple[str, int]] = [
    ("good_routine", 1), ("mixed", 2), ("bouncy", 1), ("early_release", 1), ("standing", 1), ("bag", 1),
]


def person_params(rng: random.Random) -> dict[str, Any]:
    """The person and sensor for one case, drawn across DESIGN §2's ranges."""
    rate = rng.choice((10.0, 80.0))
    return {
        "rate_hz": rate,
        "body_kg": round(rng.uniform(45.0, 120.0), 2),
        "stand_frac": round(rng.uniform(0.25, 0.6), 3),
        "noise_kg": round(rng.uniform(0.02, 0.15), 3),
        "drift_kg_per_h": round(rng.uniform(-0.5, 0.5), 3) if rng.random() < 0.5 else 0.0,
        "glitch_rate": round(rng.uniform(1e-4, 2e-3), 5) if rng.random() < 0.4 else 0.0,
        "drop_rate": round(rng.uniform(1e-3, 2e-2), 4) if rng.random() < 0.3 else 0.0,
        "jitter_s": round(rng.uniform(0.0, 0.4 / rate), 4) if rng.random() < 0.3 else 0.0,
    }


def script_params(name: str, rng: random.Random, quick: bool) -> dict[str, Any]:
    """Scenario-shaping keywords: shorter scripts in --quick, long idle in the full corpus."""
    if name == "good_routine":
        return {"reps": 1 if quick else rng.randint(1, 2)}
    if name == "mixed":
        return {"unplug": rng.random() < 0.1}
    if name == "standing":
        return {"minutes": 0.5 if quick else round(rng.uniform(3.0, 12.0), 2)}
    if name == "bag":
        return {"minutes": 0.5 if quick else round(rng.uniform(2.0, 15.0), 2)}
    return {}


def simulated_cases(seed: int, quick: bool, sway_frac: float = SWAY_FRAC) -> list[Case]:
    """The simulated scenarios of FULL_PLAN (or QUICK_PLAN); `sway_frac` is the postural sway's
    RMS share of body weight (the simulator's default)."""
    rng = random.Random(f"{seed}:corpus")
    cases = []
    for name, count in QUICK_PLAN if quick else FULL_PLAN:
        for k in range(count):
            case_seed = rng.randrange(1_000_000)
            params = person_params(rng)
            person = scenario(name, seed=case_seed, sway_frac=sway_frac, **params,
                              **script_params(name, rng, quick))
            case_name = f"sim_{name}_{k:03d}_{params['rate_hz']:g}hz"
            cases.append(Case(case_name, params["rate_hz"], person.samples, person.truth,
                              {"scenario": name, "seed": case_seed}, group="sim", sway=person.sway))
    return cases


def write_case(case: Case, out_dir: Path) -> Path:
    """NAME.csv (via TraceWriter) and NAME.truth.json; returns the trace path."""
    trace = out_dir / f"{case.name}.csv"
    with TraceWriter(trace, case.rate_hz, {**case.meta, "group": case.group}) as writer:
        writer.write_all(case.make_samples())
    truth = {**case.truth, "trace": trace.name, "group": case.group}
    (out_dir / f"{case.name}.truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return trace


def build_corpus(out_dir: str | Path, quick: bool = False, seed: int = 0) -> list[Path]:
    """Write every case into out_dir (created); returns the trace paths in build order."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    cases = simulated_cases(seed, quick)
    if quick:
        cases += real_cases(rates=(10.0,))[:2] + real_sway_cases(seed, rates=(10.0,))[:1]
    else:
        cases += real_cases() + real_sway_cases(seed, scenarios=("mixed", "good_routine"))
    paths = []
    for i, case in enumerate(cases, start=1):
        paths.append(write_case(case, out))
        if i % 10 == 0 or i == len(cases):
            print(f"  {i}/{len(cases)} traces ({time.perf_counter() - started:.1f} s)", flush=True)
    print(summary(cases, time.perf_counter() - started))
    return paths


def summary(cases: list[Case], seconds: float) -> str:
    """What the corpus holds, per group: the numbers that say whether benchmark figures will be
    stable (enough holds, breaths, bounce episodes and idle hours)."""
    lines = []
    for group in sorted({c.group for c in cases}):
        part = [c for c in cases if c.group == group]
        holds = sum(len(c.truth["stretches"]) for c in part)
        breaths = sum(s["breaths"] for c in part for s in c.truth["stretches"])
        bounces = sum(len(c.truth["bounces"]) for c in part)
        hours = sum(c.truth["duration_s"] for c in part) / 3600
        idle_h = sum(c.truth["duration_s"] for c in part if c.truth["idle"]) / 3600
        lines.append(f"  {group:9} {len(part):4} traces {hours:6.2f} h ({idle_h:.2f} h idle) {holds:4} holds "
                     f"{breaths:5} breaths {bounces:4} bounce episodes")
    return f"corpus: {len(cases)} traces built in {seconds:.1f} s\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the labelled stretchstep benchmark corpus.")
    parser.add_argument("out_dir", type=Path, help="folder for NAME.csv + NAME.truth.json pairs")
    parser.add_argument("--quick", action="store_true", help="a handful of traces in seconds (CI smoke)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    args = parser.parse_args(argv)
    paths = build_corpus(args.out_dir, quick=args.quick, seed=args.seed)
    print(f"wrote {len(paths)} traces + truth to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
