"""`stretchstep export / import / report / reanalyze` as a user types them (CliRunner), on a
seeded data dir: outputs written whole, round trip through import, clear one-line refusals."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from firmware import events as ev
from firmware.cli import main
from firmware.config import Config
from firmware.events import Event
from firmware.history import PainLog
from firmware.store import Store


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    # where `run` on the default (simulated) source keeps its history, so these commands read it
    store = Store(Config().with_values("store", data_dir=str(d)).history_dir() / "history.sqlite")
    now = time.time()
    sid = store.start_session("hx711", now - 3600)
    for n in range(3):
        summary = {"start": 5.0 + n, "end": 40.0 + n, "hold_s": 30.0, "breaths": 5, "completed": True,
                   "peak_kg": 60.0}
        store.add_event(sid, Event(ev.STRETCH_END, 40.0 + n, summary), now - 600 + n,
                        {"leg": "right", "knee": "straight", "rep": n + 1})
    PainLog(store).add(now - 500, 4, 3, "fine")
    store.close()
    return d


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("STRETCHSTEP_DATA_DIR", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def test_export_json_then_import_into_a_new_data_dir(cli, data_dir, tmp_path):
    out = tmp_path / "all.json"
    result = cli("export", "--format", "json", "-o", out, "--data-dir", data_dir)
    assert result.exit_code == 0
    assert "wrote 3 stretches, 1 pain entry, 3 events and 0 kept traces" in result.output
    fresh = tmp_path / "fresh"
    result = cli("import", out, "--data-dir", fresh)
    assert result.exit_code == 0
    assert ("imported 3 stretches, 1 pain entry, 1 session, 3 events, 0 kept traces, 0 profiles and "
            "0 routines" in result.output)
    again = tmp_path / "again.json"
    cli("export", "--format", "json", "-o", again, "--data-dir", fresh)
    a, b = json.loads(out.read_text()), json.loads(again.read_text())
    assert (a["stretches"], a["pain"], a["sessions"]) == (b["stretches"], b["pain"], b["sessions"])
    refused = cli("import", out, "--data-dir", fresh)
    assert refused.exit_code != 0 and "already holds history" in refused.output
    assert "Traceback" not in refused.output


def test_export_csv_to_stdout_and_since_a_day(cli, data_dir):
    result = cli("export", "--data-dir", data_dir)
    assert result.exit_code == 0 and result.stdout.count("\nstretch,") == 3 and "\npain," in result.stdout
    later = cli("export", "--since", "2999-01-01", "--data-dir", data_dir)
    assert later.stdout.strip().count("\n") == 0
    bad = cli("export", "--since", "yesterday", "--data-dir", data_dir)
    assert bad.exit_code == 2 and "is not a date YYYY-MM-DD" in bad.output


def test_report_writes_a_self_contained_page(cli, data_dir, tmp_path):
    out = tmp_path / "week.html"
    result = cli("report", "--week", "-o", out, "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "<svg" in html and "<script" not in html and html.count("<tr><td>20") == 7
    missing = cli("report", "-o", tmp_path / "nope" / "w.html", "--data-dir", data_dir)
    assert missing.exit_code == 2 and "folder" in missing.output and "does not exist" in missing.output


def test_commands_on_a_data_dir_with_no_history_say_so(cli, tmp_path):
    for args in (["export"], ["report"], ["reanalyze", "--since", "2026-01-01"]):
        result = cli(*args, "--data-dir", tmp_path / "empty")
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert "no history in" in result.output and "`stretchstep run` starts it there" in result.output


def test_reanalyze_without_kept_traces_says_where_it_looked(cli, data_dir):
    result = cli("reanalyze", "--since", "2000-01-01", "--data-dir", data_dir)
    assert result.exit_code == 1 and "no kept traces since 2000-01-01" in result.output
    assert "keep_traces_days = 30" in result.output


def test_reanalyze_says_which_kept_traces_it_left_as_they_were(cli, data_dir):
    """A kept file whose keeper dropped samples says so (`# dropped=N`); its stretches stay."""
    import gzip
    from datetime import date

    traces = Config().with_values("store", data_dir=str(data_dir)).history_dir() / "traces"
    traces.mkdir()
    rows = "".join(f"{n / 80:.4f},40.0\n" for n in range(400))
    head = f"# stretchstep trace v1\n# rate_hz=80\n# wall_t0={time.time() - 600:.3f}\n# t0=0\nt,kg\n"
    text = f"{head}# dropped=7\n{rows}"
    (traces / f"session-1-{date.today().isoformat()}.csv.gz").write_bytes(gzip.compress(text.encode()))
    result = cli("reanalyze", "--since", "2000-01-01", "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    assert "left as it was: 7 of its samples were dropped while it was kept" in result.output
    last = result.output.splitlines()[-1]
    assert last == ("replayed 0 trace files: 0 stretches before, 0 now; 1 file with samples missing left "
                    "as they were")


@pytest.mark.parametrize("command", ["reanalyze", "import"])
def test_commands_that_rewrite_history_refuse_while_the_device_runs(cli, data_dir, tmp_path, command):
    """Reanalyzing a session `run` was still writing stored its stretch in progress twice; so
    `reanalyze` and `import` refuse, naming the process, while another holds the data dir."""
    from firmware.datalock import DataDirLock

    history = Config().with_values("store", data_dir=str(data_dir)).history_dir()
    export = tmp_path / "all.json"
    cli("export", "--format", "json", "-o", export, "--data-dir", data_dir)
    args = ["reanalyze", "--since", "2000-01-01"] if command == "reanalyze" else ["import", export]
    store = Store(history / "history.sqlite")
    before = store.counts()
    store.close()
    with DataDirLock(history):                                   # what a running `stretchstep run` holds
        result = cli(*args, "--data-dir", data_dir)
    assert result.exit_code == 2 and f"cannot {command}: " in result.output     # as a second `run` does
    assert "in use by another stretchstep (pid " in result.output and "Traceback" not in result.output
    assert "; the service stops with: sudo systemctl stop stretchstep" in result.output
    store = Store(history / "history.sqlite")
    assert store.counts() == before                              # nothing written
    store.close()
    freed = cli(*args, "--data-dir", data_dir)                   # the lock gone, the command runs
    assert "in use by another" not in freed.output


def test_an_export_piped_into_a_reader_that_stops_ends_quietly(data_dir, tmp_path):
    """`stretchstep export | head`: the pipe's reader is gone (here before the export writes at
    all, so it is the same on any machine); no "Error: Broken pipe", no traceback."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.pop("STRETCHSTEP_DATA_DIR", None)
    try:
        child = subprocess.run([sys.executable, "-m", "firmware", "export", "--data-dir", str(data_dir)],
                               stdout=write, stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    finally:
        os.close(write)
    assert child.returncode == 1
    assert child.stderr.splitlines() == [f"history: {data_dir}/simulated/history.sqlite"], child.stderr


def test_export_help_says_what_each_format_holds(cli):
    said = " ".join(cli("export", "--help").output.split())
    assert "JSON also keeps the profiles, settings, routines, events and kept force traces" in said
    assert "json: everything, for `stretchstep import`" in said
