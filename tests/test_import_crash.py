"""`stretchstep import` killed at each step (firmware/history/staged.py): the data dir is left as
before the import or with its rows saved and traces waiting, and the next start (the sampler's
`open_history`) or the next import finishes or undoes it, and says so.

How a crash is faked: the import runs in a child interpreter (the real CLI) with one step hooked
to `os._exit`, which is as abrupt as kill -9 for the process (no `finally`, no rollback, the
sqlite transaction left open). The hooks: `os.replace` (a staged file's write, a move into
`traces/`) and sqlite's trace callback, which runs as a statement begins (the COMMIT, the DELETE
of the record). A power cut is more than this (the disk cache): for that the commit runs with
synchronous=FULL and the moves are fsync'd before the record goes, which no test here can show.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from firmware.cli import main
from firmware.config import Config
from firmware.history.staged import STAGED_KEY, mend_import
from firmware.service import sampler
from firmware.store import Store

ROOT = Path(__file__).resolve().parent.parent
CRASHED = 86
BLOBS = [gzip.compress(f"t,kg\n0,{n}\n".encode()) for n in range(3)]
NAMES = [f"session-{n}-2026-03-08.csv.gz" for n in (1, 2, 3)]

# The child: the hook, then `stretchstep import FILE --data-dir DIR`. argv: point, file, dir.
CHILD = """
import os, sqlite3, sys
point, export, data_dir = sys.argv[1:4]
seen = {"replace_tmp": 0, "move": 0, "begun": False}
real_replace, real_connect = os.replace, sqlite3.connect

def crash():
    os._exit(86)   # CRASHED

def replace(src, dst, *args, **kwargs):
    src, dst = str(src), str(dst)
    if src.endswith(".tmp"):
        seen["replace_tmp"] += 1
        if point == "staging" and seen["replace_tmp"] == 2:
            crash()
    elif "/.import-" in src:
        seen["move"] += 1
        if point == f"move{seen['move']}":
            crash()
    return real_replace(src, dst, *args, **kwargs)

def statement(sql):
    if sql == "BEGIN IMMEDIATE":
        seen["begun"] = True
    elif point == "commit" and sql == "COMMIT" and seen["begun"]:
        crash()
    elif point == "forget" and sql.startswith("DELETE FROM settings"):
        crash()

def connect(*args, **kwargs):
    conn = real_connect(*args, **kwargs)
    conn.set_trace_callback(statement)
    return conn

os.replace, sqlite3.connect = replace, connect
from firmware.cli import main
main(["import", export, "--data-dir", data_dir])
"""

# (where it is killed, whether the rows had committed by then)
POINTS = [("staging", False), ("commit", False), ("move1", True), ("move2", True), ("forget", True)]


def config(data_dir: Path) -> Config:
    return Config().with_values("store", data_dir=str(data_dir))


def export_file(tmp_path: Path) -> Path:
    sessions = [{"id": n, "source": "hx711", "started": 1.0, "ended": 2.0} for n in (1, 2, 3)]
    traces = [{"session_id": n + 1, "day": "2026-03-08", "size": len(b),
               "gzip_base64": base64.b64encode(b).decode()} for n, b in enumerate(BLOBS)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"format": "stretchstep-export", "version": 3, "sessions": sessions,
                                "traces": traces}))
    return path


def crashed_import(tmp_path: Path, point: str, env: dict[str, str]) -> Path:
    data_dir = tmp_path / "data"
    child = subprocess.run([sys.executable, "-c", CHILD, point, str(export_file(tmp_path)), str(data_dir)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == CRASHED, child.stderr     # the hook was reached, the import cut there
    return data_dir


def held(data_dir: Path) -> tuple[int, bool, list[str], list[str]]:
    """(sessions, whether the record is there, trace files in traces/, hidden folders there)."""
    store = Store(config(data_dir).history_dir() / "history.sqlite")
    try:
        sessions = store.counts()["sessions"]
        record = store.connection().execute("SELECT 1 FROM settings WHERE key = ?", (STAGED_KEY,)).fetchone()
    finally:
        store.close()
    traces = config(data_dir).history_dir() / "traces"
    return (sessions, record is not None, sorted(p.name for p in traces.glob("session-*")),
            sorted(p.name for p in traces.glob(".import-*")))


@pytest.fixture
def env(tmp_path):
    values = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    values.pop("STRETCHSTEP_DATA_DIR", None)
    return values


@pytest.mark.parametrize(("point", "committed"), POINTS)
def test_an_import_killed_at_each_step_is_mended_by_the_next_start_or_import(
        tmp_path, env, monkeypatch, caplog, point, committed):
    data_dir = crashed_import(tmp_path, point, env)
    sessions, record, traces, hidden = held(data_dir)
    assert (sessions, record) == ((3, True) if committed else (0, False))
    assert hidden or point == "forget", "the staged files wait in their hidden folder"
    # no trace file in traces/ without its session's row (the gap this closes)
    assert set(traces) <= (set(NAMES) if committed else set())
    other = tmp_path / "other"
    shutil.copytree(data_dir, other)

    # the next start: the sampler opens the history and mends it before its session begins
    with caplog.at_level(logging.WARNING, logger=sampler.__name__):
        store, writer, session_id = sampler.open_history(config(data_dir))
    writer.close()
    store.close()
    said = "\n".join(r.getMessage() for r in caplog.records)
    assert held(data_dir) == ((4 if committed else 1), False, NAMES if committed else [], [])
    assert session_id == (4 if committed else 1)       # never an id that an orphan trace holds
    folder = config(data_dir).history_dir() / "traces"
    if committed:
        assert "finished an import" in said and "not found" not in said
        assert [(folder / n).read_bytes() for n in NAMES] == BLOBS
    else:
        assert "removed" in said and "the history was not changed" in said

    # or the next import, on a copy of the crashed data dir
    monkeypatch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])
    monkeypatch.delenv("STRETCHSTEP_DATA_DIR", raising=False)
    again = CliRunner().invoke(main, ["import", str(tmp_path / "export.json"), "--data-dir", str(other)])
    assert held(other) == (3, False, NAMES, [])
    if committed:
        assert again.exit_code != 0 and "finished an import" in again.output, again.output
        assert "already holds history" in again.output
    else:
        assert again.exit_code == 0, again.output
        assert "the history was not changed" in again.output and "3 kept traces" in again.output


def test_nothing_to_mend_says_nothing_and_a_whole_import_leaves_no_record(tmp_path, env, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])
    monkeypatch.delenv("STRETCHSTEP_DATA_DIR", raising=False)
    data_dir = tmp_path / "data"
    done = CliRunner().invoke(main, ["import", str(export_file(tmp_path)), "--data-dir", str(data_dir)])
    assert done.exit_code == 0 and "import that was stopped" not in done.output
    assert held(data_dir) == (3, False, NAMES, [])
    store = Store(config(data_dir).history_dir() / "history.sqlite")
    try:
        assert mend_import(store, config(data_dir).history_dir()) is None
    finally:
        store.close()


def test_a_move_that_fails_during_the_import_says_the_history_is_in_and_the_next_start_moves_them(
        tmp_path, env, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])
    monkeypatch.delenv("STRETCHSTEP_DATA_DIR", raising=False)
    real = os.replace

    def refuse_moves(src, dst):
        if "/.import-" in str(src) and not str(src).endswith(".tmp"):   # a move, not a staged write
            raise OSError(28, "No space left on device")
        return real(src, dst)

    data_dir = tmp_path / "data"
    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", refuse_moves)
        result = CliRunner().invoke(main, ["import", str(export_file(tmp_path)), "--data-dir", str(data_dir)])
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "Traceback" not in said
    assert ("the history was imported, but its kept traces could not be moved into" in said
            and "(No space left on device); the next start moves them" in said)
    sessions, record, traces, hidden = held(data_dir)
    assert (sessions, record, traces, len(hidden)) == (3, True, [], 1)
    store = Store(config(data_dir).history_dir() / "history.sqlite")
    try:
        assert "finished an import" in mend_import(store, config(data_dir).history_dir())
    finally:
        store.close()
    assert held(data_dir) == (3, False, NAMES, [])


def test_an_empty_staging_folder_is_removed_without_a_word(store):
    """What a power cut can leave after a whole import (the folder's removal not yet on disk)."""
    empty = store.path.parent / "traces" / ".import-123"
    empty.mkdir(parents=True)
    assert mend_import(store, store.path.parent) is None and not empty.exists()


def test_a_damaged_import_record_is_dropped_and_never_stops_the_start(store):
    """A record that is not JSON (a disk error): mending says it and goes on, the record gone."""
    store.connection().execute("INSERT INTO settings(key, value) VALUES (?, ?)", (STAGED_KEY, "{torn"))
    assert "finished an import" in mend_import(store, store.path.parent)
    left = store.connection().execute("SELECT 1 FROM settings WHERE key = ?", (STAGED_KEY,)).fetchone()
    assert left is None


def test_a_move_that_fails_at_start_up_is_said_and_tried_again(tmp_path, env, monkeypatch):
    """A disk error while finishing: the start goes on (the rows hold the ids, so a new session
    cannot take an imported one's trace) and the next start finishes."""
    data_dir = crashed_import(tmp_path, "move1", env)
    store = Store(config(data_dir).history_dir() / "history.sqlite")
    try:
        def refuse(src, dst):
            raise OSError(5, "Input/output error")

        with monkeypatch.context() as patched:
            patched.setattr(os, "replace", refuse)
            said = mend_import(store, config(data_dir).history_dir())
        assert "cannot yet finish" in said and "the next start tries again" in said
        assert "finished an import" in mend_import(store, config(data_dir).history_dir())
    finally:
        store.close()
    assert held(data_dir) == (3, False, NAMES, [])


def test_reanalyze_finishes_a_killed_import_before_it_replays(tmp_path, env, monkeypatch):
    """`reanalyze` holds the data dir like `import`: the traces it would replay are moved first."""
    data_dir = crashed_import(tmp_path, "move2", env)
    monkeypatch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])
    monkeypatch.delenv("STRETCHSTEP_DATA_DIR", raising=False)
    result = CliRunner().invoke(main, ["reanalyze", "--since", "2026-03-01", "--data-dir", str(data_dir)])
    assert "finished an import that was stopped after its history was saved: moved 2" in result.output
    assert held(data_dir) == (3, False, NAMES, [])
