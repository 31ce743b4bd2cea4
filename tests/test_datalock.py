"""One process per history dir, and simulated history kept apart from the real one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from firmware.config import DEFAULTS
from firmware.datalock import DataDirLock, DataDirLocked

HOLD_LOCK = """
import sys, time
from firmware.datalock import DataDirLock
DataDirLock(sys.argv[1]).acquire()
print("locked", flush=True)
sys.stdin.readline()
"""


def test_a_second_process_is_refused_with_the_holders_pid(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(DataDirLocked, match=f"in use by another stretchstep \\(pid {holder.pid}\\)"):
            DataDirLock(tmp_path).acquire()
        assert DataDirLock(tmp_path).holder() == str(holder.pid)     # what commands look at
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    # the holder is gone (the kernel dropped its lock): this one may start
    with DataDirLock(tmp_path) as lock:
        assert (tmp_path / "stretchstep.lock").read_text().strip() == str(os.getpid())
    assert lock._fd is None
    assert DataDirLock(tmp_path).holder() is None


def test_the_holder_notes_where_it_answers_and_others_read_it_only_while_it_holds(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK.replace(
        ".acquire()", ".acquire().note_address('http://127.0.0.1:9000')"), str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert DataDirLock(tmp_path).holder() == str(holder.pid)     # the pid alone, as before
        assert DataDirLock(tmp_path).address() == "http://127.0.0.1:9000"
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    assert DataDirLock(tmp_path).address() is None                   # gone: its address is stale


def test_a_commands_glance_at_the_lock_never_refuses_a_starting_service(tmp_path, monkeypatch):
    """`holder()` takes a shared lock for an instant; a service starting in that instant waits
    for it to go instead of saying the dir is in use."""
    import fcntl

    from firmware import datalock

    (tmp_path / "stretchstep.lock").write_text("")
    glance = os.open(tmp_path / "stretchstep.lock", os.O_RDONLY)
    fcntl.flock(glance, fcntl.LOCK_SH)                             # the command's instant...
    pauses: list[float] = []
    monkeypatch.setattr(datalock.time, "sleep", lambda s: (pauses.append(s), os.close(glance)))  # ...ends
    with DataDirLock(tmp_path):
        pass
    assert pauses == [datalock.PAUSE_S]


def test_simulated_runs_keep_their_history_apart(tmp_path):
    cfg = DEFAULTS.with_values("store", data_dir=str(tmp_path))
    assert cfg.history_dir() == tmp_path / "simulated"
    for source in ("replay:x.csv", "hx711-emulated", "simulated:bouncy"):
        assert cfg.with_values("sensor", source=source).history_dir() == tmp_path / "simulated"
    assert cfg.with_values("sensor", source="hx711").history_dir() == tmp_path
    mixed = cfg.with_values("store", simulated_apart=False)
    assert mixed.history_dir() == tmp_path


def test_a_second_run_on_the_same_data_dir_is_one_clear_line(tmp_path):
    """Two real `stretchstep run` processes (simulated person, loopback, any free port)."""
    env = dict(os.environ, STRETCHSTEP_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "firmware", "run", "--host", "127.0.0.1", "--port", "0"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        for line in first.stdout:
            if line.startswith("open:"):
                break
        second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        assert second.returncode != 0
        said = f"in use by another stretchstep (pid {first.pid}, answering at http://127.0.0.1:"
        assert said in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.terminate()
        first.wait(timeout=15)
