"""`stretchstep run` for real: a subprocess serving the page and SSE from waitress on a free
loopback port, stopped by SIGTERM. Simulated source at high speed, so no hardware and little time."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.config import Config

STARTUP_S = 20


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, STRETCHSTEP_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1",
               XDG_CONFIG_HOME=str(tmp_path / "cfg"), **(env or {}))
    cmd = [sys.executable, "-m", "firmware", "run", "--host", "127.0.0.1", "--port", "0", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + STARTUP_S
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(r"open: (http://127\.0\.0\.1:\d+)/", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    pytest.fail("stretchstep run did not announce its address:\n" + "".join(seen))


def iter_sse(url: str, timeout: float = 15) -> Iterator[tuple[str, dict]]:
    """(event kind, data) as each message arrives, so a test can act on one the moment it comes."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        kind = "message"
        for raw in resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                yield kind, json.loads(line.split(":", 1)[1])


def read_sse(url: str, want: int, timeout: float = 15) -> list[tuple[str, dict]]:
    return list(itertools.islice(iter_sse(url, timeout), want))


@pytest.fixture
def running(tmp_path):
    proc, base = start(tmp_path, "--speed", "20")
    yield proc, base, tmp_path
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_run_serves_page_api_and_sse_then_stops_cleanly_on_sigterm(running):
    proc, base, tmp_path = running
    page = urllib.request.urlopen(base + "/", timeout=5).read().decode()
    assert "<html" in page.lower() and "/api/stream" in page + _static(base, page)
    messages = read_sse(base + "/api/stream", want=12)
    samples = [data for kind, data in messages if kind == "sample"]
    assert samples and all(isinstance(data["kg"], float | int) for data in samples)
    times = [data["t"] for data in samples]
    assert times == sorted(times) and times[-1] > times[0]  # the simulated person is live
    state = json.load(urllib.request.urlopen(base + "/api/state", timeout=5))
    assert state["status"]["source"] == "simulated"

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert "stopped; history kept" in out
    db = sqlite3.connect(_history_file(tmp_path))  # simulated: kept apart
    ended = db.execute("SELECT ended FROM sessions").fetchall()
    assert ended and ended[0][0] is not None


def _static(base: str, page: str) -> str:
    """The page's own scripts and the modules they import (the SSE URL lives in one of them)."""
    text, todo, seen = "", re.findall(r'<script[^>]+src="([^"]+)"', page), set()
    while todo:
        src = todo.pop()
        if src in seen:
            continue
        seen.add(src)
        body = urllib.request.urlopen(base + src, timeout=5).read().decode()
        text += body
        folder = src.rsplit("/", 1)[0]
        todo += [f"{folder}/{name}" for name in re.findall(r'from "\./([\w.]+)"', body)]
    return text


def test_bad_config_is_one_clear_line(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[sensor]\nrate_hz = 40\n")
    result = subprocess.run([sys.executable, "-m", "firmware", "run", "--config", str(cfg)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "sensor.rate_hz = 40 is not allowed; expected one of 80 or 10" in result.stderr
    assert "Traceback" not in result.stderr


# --- faults: what stops the run, what is shown and retried ----------------------------------
def _run_briefly(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, STRETCHSTEP_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    cmd = [sys.executable, "-m", "firmware", "run", "--host", "127.0.0.1", "--port", "0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def _bad_replay(tmp_path: Path) -> str:
    trace = tmp_path / "bad.csv"
    rows = "".join(f"{i / 80:.4f},{60.0 if 200 < i < 3000 else 0.0}\n" for i in range(4000))
    trace.write_text("# rate_hz=80\nt,kg\n" + rows + "1.0,oops\n")
    return f"replay:{trace}"


def _corrupt_calibration(tmp_path: Path) -> str:
    (tmp_path / "data").mkdir(parents=True)
    (tmp_path / "data" / "calibration-hx711-emulated.json").write_text("{not json")
    return "hx711-emulated"


def _corrupt_calibration_no_chip(tmp_path: Path) -> str:
    """A corrupt calibration.json where the chip does not answer (off a Pi): the unanswering
    chip alone would be retried, so the corrupt file must be found before that and be fatal."""
    (tmp_path / "data").mkdir(parents=True)
    (tmp_path / "data" / "calibration.json").write_bytes(b"\xff\xfe{garbage")
    return "hx711"


@pytest.mark.parametrize(("source", "says"), [
    (lambda tmp: "replay:" + str(tmp / "missing.csv"), "cannot open trace"),
    (lambda tmp: "simulated:nope", "unknown scenario"),
    (_bad_replay, "not numbers"),
    (_corrupt_calibration, "not a calibration file"),
    (_corrupt_calibration_no_chip, "not a calibration file"),
])
def test_a_fault_retrying_cannot_fix_stops_run_with_one_line_and_stores_nothing(tmp_path, source, says):
    result = _run_briefly(tmp_path, "--source", source(tmp_path), "--speed", "50")
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and says in errors[0], result.stderr
    assert "Traceback" not in result.stderr and "stretchstep running" not in result.stdout
    db = _history_file(tmp_path)
    if db.exists():  # a bad replay was read through before a single stretch was stored
        assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM stretches").fetchone()[0] == 0


@pytest.mark.parametrize("where", ["port in use", "address not ours"])
def test_an_address_the_web_cannot_listen_on_is_one_line_before_anything_starts(tmp_path, where):
    """Checked before the sampler starts: no session of a second stored, no "stopped" line."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        host = "127.0.0.1" if where == "port in use" else "192.0.2.1"   # TEST-NET: not ours, no lookup
        env = dict(os.environ, STRETCHSTEP_DATA_DIR=str(tmp_path / "data"),
                   XDG_CONFIG_HOME=str(tmp_path / "cfg"))
        result = subprocess.run([sys.executable, "-m", "firmware", "run", "--host", host, "--port", port],
                                capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"cannot listen on {host}:{port}" in errors[0], result.stderr
    assert ("another stretchstep running" in errors[0]) == (where == "port in use")
    assert "stopped" not in result.stderr + result.stdout and not _history_file(tmp_path).exists()


def test_a_damaged_history_stops_start_up_and_is_never_written(tmp_path):
    db = _history_file(tmp_path)
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    conn.commit()
    conn.close()
    raw = bytearray(db.read_bytes())
    raw[4096 * 2:4096 * 4] = b"\xff" * 8192           # pages 3 and 4 overwritten
    db.write_bytes(bytes(raw))
    result = _run_briefly(tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "damaged" in result.stderr or "not a readable history" in result.stderr, result.stderr
    assert "move it away" in result.stderr
    assert db.read_bytes() == bytes(raw)


def _history_file(tmp_path) -> Path:
    """Where `run` on a simulated or replayed source keeps its history: apart from a real step's."""
    return Config().with_values("store", data_dir=str(tmp_path / "data")).history_dir() / "history.sqlite"


def _health(base: str) -> dict:
    return json.load(urllib.request.urlopen(base + "/api/health", timeout=5))


def test_no_sensor_is_a_fault_in_health_and_on_the_page_retried_not_a_crash(tmp_path, until):
    """Off a Pi (CI) the hx711 source cannot reach its pins: the same as a chip that is not there."""
    proc, base = start(tmp_path, "--source", "hx711")
    try:
        health = until(lambda: (h := _health(base))["stats"].get("sensor_retries", 0) >= 2 and h)
        assert health["ok"] is False and health["state"] == "fault"
        assert any("sensor fault" in p for p in health["problems"])
        assert health["stats"]["loop_state"] == "retrying" and health["stats"]["loop_crashes"] == 0
        state = json.load(urllib.request.urlopen(base + "/api/state", timeout=5))
        assert state["status"]["fault"] and state["events"][-1]["kind"] == "sensor_fault"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    # logged once before the announcement (read by start()); the later retries are held back
    assert "sensor not available" not in out


def test_a_killed_web_process_is_restarted_and_sampling_never_stops(running, until):
    proc, base, tmp_path = running
    first = until(lambda: (h := _health(base))["stats"]["loop"].get("samples", 0) > 100 and h)
    os.kill(first["stats"]["web_pid"], signal.SIGKILL)
    # the new web process answers at once, and says it is not ok until the sampler's figures
    # reach it (it knows nothing of the loop before that)
    again = until(lambda: (h := _health(base))["stats"]["web_pid"] != first["stats"]["web_pid"]
                  and "loop" in h["stats"] and h)
    assert again["stats"]["pid"] == first["stats"]["pid"]        # the same sampler
    assert again["stats"]["loop"]["samples"] > first["stats"]["loop"]["samples"]
    assert again["ok"] is True
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    db = sqlite3.connect(_history_file(tmp_path))
    assert db.execute("SELECT COUNT(*), COUNT(ended) FROM sessions").fetchone() == (1, 1)


def test_a_killed_sampler_is_restarted_and_its_session_closed(running, until):
    proc, base, tmp_path = running
    first = until(lambda: (h := _health(base))["stats"]["loop"].get("samples", 0) > 100 and h)
    os.kill(first["stats"]["pid"], signal.SIGKILL)
    until(lambda: (h := _health(base))["stats"].get("pid") not in (None, first["stats"]["pid"]) and h["ok"])
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    db = sqlite3.connect(_history_file(tmp_path))
    assert db.execute("SELECT COUNT(*), COUNT(ended) FROM sessions").fetchone() == (2, 2)


def test_a_stretch_the_page_has_shown_survives_kill_9_of_the_sampler(running, until):
    """The loop records a stretch_end before it hands it to the live view; the web shows it only
    after the link carried it, by which time the writer has committed it (window in health)."""
    proc, base, tmp_path = running
    pid = until(lambda: _health(base)["stats"].get("pid"))
    end = None
    for kind, data in iter_sse(base + "/api/stream", timeout=60):
        if kind == "event" and data["event"]["kind"] == "stretch_end":
            os.kill(pid, signal.SIGKILL)            # at once, as the phone sees it
            end = data["event"]["end"]
            break
    assert end is not None
    db = sqlite3.connect(_history_file(tmp_path))
    assert db.execute("SELECT COUNT(*) FROM stretches WHERE abs(end_t - ?) < 1e-6", (end,)).fetchone()[0] == 1
    until(lambda: _health(base)["stats"].get("pid") not in (None, pid))   # and sampling is back


def _gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for init to reap it counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_the_runtime_folder_goes_with_the_run_even_after_a_kill_9(tmp_path, until, request):
    """The socket lives in $RUNTIME_DIRECTORY (what the systemd unit's RuntimeDirectory= sets);
    a supervisor killed with -9 cannot remove its folder, so the sampler, last out, does; one
    left all the same (the whole group killed) is cleared by the next start; a clean stop
    leaves nothing behind."""
    runtime = Path(tempfile.mkdtemp(prefix="rt-"))     # short: the socket's path must fit 108 bytes
    request.addfinalizer(lambda: shutil.rmtree(runtime, ignore_errors=True))
    proc, base = start(tmp_path, "--speed", "20", env={"RUNTIME_DIRECTORY": str(runtime)})
    (folder,) = runtime.iterdir()
    assert (folder / "sampler.sock").exists() and folder.stat().st_mode & 0o777 == 0o700
    stats = until(lambda: (h := _health(base))["stats"].get("web_pid") and h["stats"])
    proc.kill()
    proc.wait()
    until(lambda: _gone(stats["pid"]) and _gone(stats["web_pid"]), timeout=60)   # they notice, stop
    assert not folder.exists()                                       # removed by the sampler
    folder.mkdir(mode=0o700)                                         # as a kill of the group leaves it
    (folder / "sampler.sock").write_text("")
    (folder / "left-by-the-crash").write_text("")

    proc, base = start(tmp_path, "--speed", "20", env={"RUNTIME_DIRECTORY": str(runtime)})
    assert list(runtime.iterdir()) == [folder]
    assert sorted(p.name for p in folder.iterdir()) == ["sampler.sock"]
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert proc.returncode == 0 and list(runtime.iterdir()) == []
