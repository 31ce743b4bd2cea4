"""Build the labelled benchmark corpus: a tuning part and a test part drawn differently.

    python bench/corpus.py OUT_DIR [--quick] [--seed N]

Writes OUT_DIR/tune/ and OUT_DIR/test/, each NAME.csv (trace v1) beside NAME.truth.json. Every
simulated person is drawn across DESIGN §2 (`firmware.sensors.simulated.wide`); the two parts
differ in how they were drawn, so a figure on the test part is not one the tuning has seen:

- **held-out people**: the sway under a real-sway case is a recorded person's feet through the
  step's lever; the eight per-foot people (and the two BDS subjects) are split by the seed, and
  no test case's sway comes from a tuning person (nor the test part's real standing);
- **held-out corners**: the tuning part draws cycles of 6-12 s, let-offs of 20-100 % and pauses
  of 6-20 s only; the test part has a slice for each corner left out (cycles 4-6 s, staircases
  with let-off < 20 %, pauses of 3-6 s) and a slice drawn across the full ranges.

Both parts hold both rates (10 and 80 Hz) and idle traces: a bag, standing whose level walks
in shifts, the part's real people standing (through the lever) and a real jump. Seeded and
regenerated, never committed (bench/corpus/ is gitignored). --quick writes a handful in seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.realdata import (  # noqa: E402
    JUMPS,
    Case,
    RealPerson,
    body_kg_of,
    jump_case,
    people,
    real_data_dir,
    recorded_sway,
)
from firmware.sensors.simulated import Off, SimulatedPerson, Stand, StepOff, StepOn, scenario  # noqa: E402
from firmware.sensors.simulated.wide import DESIGN_RANGES, Ranges, draw_person  # noqa: E402
from firmware.sensors.trace import TraceWriter  # noqa: E402

RATES = (10.0, 80.0)
PARTS = ("tune", "test")
TEST_PEOPLE = 3  # of the eight per-foot people; one of the two BDS subjects too

TUNE_RANGES = replace(DESIGN_RANGES, cycle_s=(6.0, 12.0), let_off=(0.2, 1.0), pause_s=(6.0, 20.0))
# The test part's slices: each corner the tuning part never drew, and everything.
TEST_SLICES: dict[str, Ranges] = {
    "short_cycles": replace(DESIGN_RANGES, cycle_s=(4.0, 6.0)),
    "staircase": replace(DESIGN_RANGES, let_off=(0.0, 0.2)),
    "short_pauses": replace(DESIGN_RANGES, pause_s=(3.0, 6.0)),
    "full": DESIGN_RANGES,
}


@dataclass(frozen=True)
class Plan:
    """How many traces of each kind a part gets (per slice for the stretch visits)."""

    synthetic_visits: int  # per slice and rate, synthetic feet
    real_visits: int       # per slice, person and rate, recorded feet
    bags: int              # per rate
    walking: int           # per rate
    real_standing: bool    # each trial of the part's people standing, at each rate
    visit_holds: int | None = None
    idle_minutes: tuple[float, float] = (2.0, 6.0)
    real_people: int | None = None  # only the first N of the part's people get visits
    slices: int | None = None       # only the first N slices


FULL_PLAN = {"tune": Plan(synthetic_visits=20, real_visits=2, bags=3, walking=4, real_standing=True),
             "test": Plan(synthetic_visits=6, real_visits=2, bags=3, walking=5, real_standing=True)}
QUICK_PLAN = {part: Plan(synthetic_visits=1, real_visits=1, bags=1, walking=1, real_standing=False,
                         visit_holds=2, idle_minutes=(0.4, 0.6), real_people=1, slices=2) for part in PARTS}


def split_people(seed: int, found: list[RealPerson]) -> dict[str, list[RealPerson]]:
    """Leave people out: TEST_PEOPLE of the per-foot people and one BDS subject for the test part
    (drawn by the seed), the rest for tuning. Nobody is in both."""
    rng = random.Random(f"{seed}:people")
    per_foot = [p for p in found if p.per_foot]
    net = [p for p in found if not p.per_foot]
    test = rng.sample(per_foot, min(TEST_PEOPLE, max(0, len(per_foot) - 1)))
    test += rng.sample(net, 1) if len(net) > 1 else []
    return {"test": test, "tune": [p for p in found if p not in test]}


def slices_of(part: str) -> dict[str, Ranges]:
    return TEST_SLICES if part == "test" else {"tuning": TUNE_RANGES}


def visit_case(name: str, rng: random.Random, rate: float, ranges: Ranges, plan: Plan, *,
               person: RealPerson | None = None, folder: Path | None = None) -> Case:
    """One visit of holds by a person drawn across `ranges`; over a recorded person's feet when
    `person` is given (their own weight, all their trials spliced, from a random place)."""
    seed = rng.randrange(1_000_000)
    feet, body = None, None
    if person is not None and folder is not None:
        paths = [folder / f for f in person.files]
        rng.shuffle(paths)  # the trials in a drawn order, from a drawn place
        body = sum(body_kg_of(p) for p in paths) / len(paths)
        offset = rng.uniform(0.0, 60.0 * len(paths))

        def feet(geometry: Any, paths: list[Path] = paths, offset: float = offset) -> Any:
            return recorded_sway(paths, geometry, offset)

    kw = draw_person(rng, rate, ranges, body_kg=body, feet=feet)
    sim = scenario("wide", seed=seed, rate_hz=rate, ranges=ranges, holds=plan.visit_holds,
                   unplug=rng.random() < 0.1, **kw)
    group, who = ("real", person.id) if person else ("sim", None)
    return _case(name, sim, seed, group=group, sway_person=who)


def idle_case(name: str, kind: str, rng: random.Random, rate: float, ranges: Ranges, plan: Plan) -> Case:
    """A bag left on the step, or standing that walks (synthetic feet)."""
    seed = rng.randrange(1_000_000)
    kw = draw_person(rng, rate, ranges)
    minutes = round(rng.uniform(*plan.idle_minutes), 2)
    if kind == "bag":
        kw.pop("sway")
        sim = scenario("bag", seed=seed, rate_hz=rate, minutes=minutes, **kw)
    else:
        sim = scenario("walking", seed=seed, rate_hz=rate, ranges=ranges, minutes=minutes, **kw)
    return _case(name, sim, seed, group="sim", sway_person=None)


def real_standing_case(name: str, person: RealPerson, file: str, rng: random.Random, rate: float,
                       folder: Path) -> Case:
    """A recorded person standing on the step for their trial's length, through the lever."""
    path = folder / file
    seed = rng.randrange(1_000_000)
    kw = draw_person(rng, rate, DESIGN_RANGES, body_kg=body_kg_of(path),
                     feet=lambda geometry: recorded_sway(path, geometry))
    script = [Off(round(rng.uniform(2.0, 5.0), 3)), StepOn(round(rng.uniform(0.4, 1.0), 3)), Stand(58.0),
              StepOff(round(rng.uniform(0.4, 1.0), 3)), Off(round(rng.uniform(2.0, 5.0), 3))]
    sim = SimulatedPerson(script, seed=seed, rate_hz=rate, name=f"real_standing:{file}", **kw)
    return _case(name, sim, seed, group="real", sway_person=person.id)


def _case(name: str, sim: SimulatedPerson, seed: int, group: str, sway_person: str | None) -> Case:
    source = getattr(sim.sway, "source", "synthetic")
    truth = {**sim.truth, "sway_source": source, "sway_person": sway_person}
    return Case(name, sim.rate_hz, sim.samples, truth, {"scenario": sim.name, "seed": seed}, group=group,
                sway=sim.sway)


def part_cases(part: str, seed: int, quick: bool, split: dict[str, list[RealPerson]],
               folder: Path | None) -> list[Case]:
    """Every case of one part, in a fixed order, each tagged with its part and slice."""
    plan = (QUICK_PLAN if quick else FULL_PLAN)[part]
    rng = random.Random(f"{seed}:{part}")
    mine = split.get(part, [])
    cases: list[Case] = []
    for rate in RATES:
        for slice_name, ranges in list(slices_of(part).items())[:plan.slices]:
            for k in range(plan.synthetic_visits):
                name = f"{part}_{slice_name}_sim_{k:02d}_{rate:g}hz"
                cases.append(_tag(visit_case(name, rng, rate, ranges, plan), part, slice_name))
            for person in mine[:plan.real_people]:
                for k in range(plan.real_visits):
                    name = f"{part}_{slice_name}_{person.id}_{k:02d}_{rate:g}hz"
                    cases.append(_tag(visit_case(name, rng, rate, ranges, plan, person=person, folder=folder),
                                      part, slice_name))
        ranges = TUNE_RANGES if part == "tune" else DESIGN_RANGES
        for kind, count in (("bag", plan.bags), ("walking", plan.walking)):
            for k in range(count):
                name = f"{part}_idle_{kind}_{k:02d}_{rate:g}hz"
                cases.append(_tag(idle_case(name, kind, rng, rate, ranges, plan), part, "idle"))
        if plan.real_standing and folder is not None:
            for person in mine:
                for file in person.files:
                    name = f"{part}_idle_{person.id}_{Path(file).stem}_{rate:g}hz"
                    case = real_standing_case(name, person, file, rng, rate, folder)
                    cases.append(_tag(case, part, "idle"))
        jump = jump_case(JUMPS[PARTS.index(part)], rate, folder) if folder is not None else None
        if jump is not None:
            cases.append(_tag(replace(jump, name=f"{part}_idle_{jump.name}"), part, "idle"))
    return cases


def _tag(case: Case, part: str, slice_name: str) -> Case:
    case.truth.update(part=part, slice=slice_name)
    case.meta.update(part=part, slice=slice_name)
    return case


def write_case(case: Case, out_dir: Path) -> Path:
    """NAME.csv (via TraceWriter) and NAME.truth.json; returns the trace path."""
    trace = out_dir / f"{case.name}.csv"
    with TraceWriter(trace, case.rate_hz, {**case.meta, "group": case.group}) as writer:
        writer.write_all(case.make_samples())
    truth = {**case.truth, "trace": trace.name, "group": case.group}
    (out_dir / f"{case.name}.truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return trace


def build_corpus(out_dir: str | Path, quick: bool = False, seed: int = 0,
                 parts: tuple[str, ...] = PARTS) -> list[Path]:
    """Write each part into out_dir/<part>/ (created); returns the trace paths in build order."""
    out = Path(out_dir)
    started = time.perf_counter()
    folder = real_data_dir()
    split = split_people(seed, people(folder))
    for part in PARTS:
        print(f"  {part} people: {', '.join(p.id for p in split[part]) or 'none'}")
    paths, built = [], []
    for part in parts:
        cases = part_cases(part, seed, quick, split, folder)
        (out / part).mkdir(parents=True, exist_ok=True)
        for i, case in enumerate(cases, start=1):
            paths.append(write_case(case, out / part))
            if i % 20 == 0 or i == len(cases):
                took = time.perf_counter() - started
                print(f"  {part}: {i}/{len(cases)} traces ({took:.1f} s)", flush=True)
        built += cases
    print(summary(built, time.perf_counter() - started))
    return paths


def summary(cases: list[Case], seconds: float) -> str:
    """What the corpus holds, per part and slice: enough holds, breaths, bounces and idle hours
    for stable figures?"""
    lines = []
    keys = sorted({(c.truth["part"], c.truth["slice"], c.group) for c in cases})
    for part, slice_name, group in keys:
        mine = [c for c in cases if (c.truth["part"], c.truth["slice"], c.group) == (part, slice_name, group)]
        holds = sum(len(c.truth["stretches"]) for c in mine)
        breaths = sum(s["breaths"] for c in mine for s in c.truth["stretches"])
        bounces = sum(len(c.truth["bounces"]) for c in mine)
        hours = sum(c.truth["duration_s"] for c in mine) / 3600
        lines.append(f"  {part:5} {slice_name:13} {group:5} {len(mine):4} traces {hours:5.2f} h "
                     f"{holds:4} holds {breaths:5} breaths {bounces:3} bounce episodes")
    return f"corpus: {len(cases)} traces built in {seconds:.1f} s\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the labelled stretchstep benchmark corpus.")
    parser.add_argument("out_dir", type=Path, help="folder for tune/ and test/ (NAME.csv + NAME.truth.json)")
    parser.add_argument("--quick", action="store_true", help="a handful of traces in seconds (CI smoke)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    args = parser.parse_args(argv)
    paths = build_corpus(args.out_dir, quick=args.quick, seed=args.seed)
    print(f"wrote {len(paths)} traces + truth to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
