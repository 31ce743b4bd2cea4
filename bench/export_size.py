"""How big is a JSON export (format 3) of a year of daily use, and what do `stretchstep export`
and `stretchstep import` cost to make and read it?

One stretching day is three routines of a simulated person (`good_routine`, seeds 0-2: 9-13
holds each, 80 Hz) through the real detector; its events go into the store and its on-step
samples into a kept trace file written by the real TraceKeeper. A year is that day's events on
each of --days days (one session a day) and that day's trace file copied for the last
--keep-days days (`[store] keep_traces_days`, 30 by default: older traces are pruned, so they
are not in an export). Then `stretchstep export --format json` and `stretchstep import` run as
processes of their own; the figures are the export's size and each command's time and peak RSS
(from wait4).

    python bench/export_size.py                   # 365 days, traces kept 30 days (the default)
    python bench/export_size.py --keep-days 365   # every day's trace kept
    python bench/export_size.py --quick           # 3 days, 1 kept
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.trace_memory import peak_rss_mb  # noqa: E402
from firmware.config import Config  # noqa: E402
from firmware.detector import DetectorConfig, HoldDetector  # noqa: E402
from firmware.events import Event  # noqa: E402
from firmware.history import DayClock, read_export  # noqa: E402
from firmware.sensors.simulated import scenario  # noqa: E402
from firmware.store import Store  # noqa: E402
from firmware.traces import TraceKeeper  # noqa: E402
from firmware.traces.keeper import FLUSH_S  # noqa: E402

RATE_HZ = 80.0
DAY_S = 86400.0


def one_day(folder: Path, wall0: float) -> tuple[list[Event], Path, float]:
    """Three routines through the detector: their events, the kept trace file, seconds on the step."""
    detector = HoldDetector(DetectorConfig(rate_hz=RATE_HZ))
    # its thread waits an hour: this loop writes a member every FLUSH_S of samples, as the
    # thread does every FLUSH_S on a live step (the gzip members' size sets the compression)
    keeper = TraceKeeper(folder, 1, RATE_HZ, flush_s=3600, wall=lambda: wall0 + 3600)
    events: list[Event] = []
    offset, on_step, fed = 0.0, 0, 0
    for seed in range(3):
        last = offset
        for sample in scenario("good_routine", seed=seed, rate_hz=RATE_HZ).samples():
            t = offset + sample.t
            events.extend(detector.feed(t, sample.kg))
            keeper.on_sample(t, sample.kg, {"state": detector.state})
            on_step += detector.state != "empty"
            last, fed = t, fed + 1
            if fed % int(FLUSH_S * RATE_HZ) == 0:
                keeper._write_pending()
        offset = last + 3600.0          # the next routine an hour later
    events.extend(detector.finish())
    keeper.close()
    assert keeper.dropped == 0, keeper.health()
    (path,) = folder.glob("traces/session-1-*.csv.gz")
    return events, path, on_step / RATE_HZ


def build_year(history_dir: Path, days: int, keep_days: int, scratch: Path) -> dict[str, float]:
    clock = DayClock()
    today = 1_780_000_000.0
    events, day_trace, on_step_s = one_day(scratch, today)
    store = Store(history_dir / "history.sqlite")
    traces = history_dir / "traces"
    traces.mkdir(parents=True, exist_ok=True)
    try:
        for n in range(days):
            wall0 = today - (days - 1 - n) * DAY_S
            sid = store.start_session("hx711", wall0)
            store.add_events([(sid, e, wall0 + 3600 + e.t, {}) for e in events])
            store.end_session(sid, wall0 + 3600 + events[-1].t)
            if n >= days - keep_days:
                shutil.copyfile(day_trace, traces / f"session-{sid}-{clock.day_of(wall0).isoformat()}.csv.gz")
    finally:
        store.close()
    return {"events_per_day": len(events), "on_step_min": on_step_s / 60,
            "trace_kb_per_day": day_trace.stat().st_size / 1024}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--keep-days", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="3 days, 1 kept trace (the CI smoke run)")
    args = ap.parse_args()
    days, keep = (3, 1) if args.quick else (args.days, min(args.keep_days, args.days))
    with tempfile.TemporaryDirectory(prefix="export-size-") as tmp:
        root = Path(tmp)
        source_dir = root / "data"
        history_dir = Config().with_values("store", data_dir=str(source_dir)).history_dir()
        day = build_year(history_dir, days, keep, root / "day")
        out = root / "export.json"
        rss_out, secs_out, status = peak_rss_mb("export", "--format", "json", "-o", str(out),
                                                "--data-dir", str(source_dir))
        if status != 0:
            print(f"export failed with status {status}")
            return 1
        size_mb = out.stat().st_size / 1e6
        data = read_export(out)     # as import reads it: the traces one at a time
        traces_mb = sum(len(t["gzip_base64"]) for t in data["traces"]) / 1e6
        rss_in, secs_in, status = peak_rss_mb("import", str(out), "--data-dir", str(root / "fresh"))
        if status != 0:
            print(f"import failed with status {status}")
            return 1
    print(f"one day: 3 routines, {day['on_step_min']:.0f} min on the step, {day['events_per_day']:.0f} "
          f"events, kept trace {day['trace_kb_per_day']:.0f} KiB")
    print(f"{days} days, traces kept {keep} days: export {size_mb:.1f} MB "
          f"({len(data['events'])} events, {len(data['stretches'])} stretches; traces {traces_mb:.1f} MB "
          f"of it in {len(data['traces'])} files)")
    print(f"stretchstep export: {secs_out:.1f} s, peak RSS {rss_out:.0f} MB")
    print(f"stretchstep import: {secs_in:.1f} s, peak RSS {rss_in:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
