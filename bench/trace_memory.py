"""Peak memory of `stretchstep analyze` and `stretchstep plot` against trace size (issue 11:
a 200 MB trace once took 1.8 GB to plot, `analyze /dev/zero` 5 GB in 10 s).

Writes a synthetic trace of about --mb megabytes (a person stepping on and off, 80 Hz), runs
each command as its own process and reads that process's peak RSS from wait4(). The bar: the
peak does not grow with the trace (streaming), and /dev/zero is refused at once.

    python bench/trace_memory.py            # 200 MB, a few minutes
    python bench/trace_memory.py --quick    # 1 MB and 6 MB
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BYTES_PER_LINE = 17  # "1234.5678,31.2345\n" about


def write_trace(path: Path, megabytes: float, seed: int = 1) -> int:
    rng = random.Random(seed)
    lines = int(megabytes * 1e6 / BYTES_PER_LINE)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("# stretchstep trace v1\n# rate_hz=80\nt,kg\n")
        chunk: list[str] = []
        for i in range(lines):
            on = (i // 4000) % 3 != 0       # 50 s on the step, 25 s off
            kg = (38.0 + 3.0 * rng.random()) if on else 0.05 * rng.random()
            chunk.append(f"{i / 80:.4f},{kg:.4f}\n")
            if len(chunk) >= 10_000:
                fh.writelines(chunk)
                chunk = []
        fh.writelines(chunk)
    return lines


# Linux keeps a process's peak RSS across exec, and a child started from this process starts
# with this process's pages: a bench that had parsed a 400 MB export read 847 MB "for import"
# that were its own. So a fresh small interpreter starts the command and reports its peak.
LAUNCHER = ("import os, sys\n"
            "pid = os.posix_spawn(sys.executable, [sys.executable, '-m', 'firmware', *sys.argv[1:]],"
            " os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),"
            " (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])\n"
            "_, status, usage = os.wait4(pid, 0)\n"
            "print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))\n")


def peak_rss_mb(*args: str) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, exit status) of `stretchstep ARGS` in a process of its own,
    started by a fresh interpreter (LAUNCHER) so that none of this process's memory is counted."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *args], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]) / 1024, time.perf_counter() - started, int(out[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=200.0, help="size of the big trace")
    parser.add_argument("--quick", action="store_true", help="1 MB and 6 MB (CI smoke)")
    args = parser.parse_args()
    sizes = [1.0, 6.0] if args.quick else [2.0, args.mb]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mb in sizes:
            trace = Path(tmp) / f"t{mb:g}.csv"
            lines = write_trace(trace, mb)
            size = trace.stat().st_size / 1e6
            for command in (["analyze", "--json", str(trace)], ["plot", str(trace)]):
                rss, seconds, code = peak_rss_mb(*command)
                rows.append((command[0], size, lines, rss, seconds, code))
        rss, seconds, code = peak_rss_mb("analyze", "/dev/zero")
        rows.append(("analyze /dev/zero", 0.0, 0, rss, seconds, code))
    print(f"{'command':<18} {'trace MB':>9} {'samples':>10} {'peak RSS MB':>12} {'s':>7} {'exit':>5}")
    for name, size, lines, rss, seconds, code in rows:
        print(f"{name:<18} {size:>9.1f} {lines:>10} {rss:>12.1f} {seconds:>7.1f} {code:>5}")
    by = {(name, round(size)): rss for name, size, _, rss, _, _ in rows}
    small, big = round(rows[0][1]), round(rows[2][1])
    growth = max(by[("analyze", big)] - by[("analyze", small)], by[("plot", big)] - by[("plot", small)])
    zero = rows[-1]
    ok = growth < 20 and zero[5] == 2 and zero[4] < 10
    print(f"peak RSS growth from {small} to {big} MB traces: {growth:+.1f} MB (bar < 20 MB); "
          f"/dev/zero refused with exit {zero[5]} in {zero[4]:.1f} s: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
