"""`stretchstep run` for real: a subprocess serving the page and SSE from waitress on a free
loopback port, stopped by SIGTERM. Simulated source at high speed, so no hardware and little time."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

STARTUP_S = 20


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, STRETCHSTEP_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1",
               XDG_CONFIG_HOME=str(tmp_path / "cfg"))
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


def read_sse(url: str, want: int, timeout: float = 15) -> list[tuple[str, dict]]:
    messages: list[tuple[str, dict]] = []
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        kind = "message"
        for raw in resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                messages.append((kind, json.loads(line.split(":", 1)[1])))
                if len(messages) >= want:
                    break
    return messages


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
    db = sqlite3.connect(tmp_path / "data" / "simulated" / "history.sqlite")  # simulated: kept apart
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
