"""Shared fixtures: a fake clock, so nothing in the suite sleeps for real time where one serves;
an empty history store and live state for the web tests."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


class FakeClock:
    """A monotonic clock that only moves when told to; `wait` advances it instead of sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def wait(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


# --- browser tests (tests/test_browser*.py) ----------------------------------------------------
# pytest-playwright drives Debian's Chromium (Playwright's own browser download does not work
# here); each test gets a fresh context. `device` starts the real `stretchstep run` on a loopback
# port with a temp data dir.

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ACCESS_CODE = "24681357"
SCREENS = Path(__file__).resolve().parent.parent / "bench" / "out" / "screens"


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "Chromium not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must install it")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright's launch options: the system Chromium, quiet and sandbox-free (root in CI)."""
    return {"executable_path": chromium_path(), "args": CHROMIUM_ARGS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningDevice:
    """`stretchstep run` as a user starts it, on a simulated person; restartable on its port."""

    def __init__(self, data_dir: Path, source: str, speed: float, open_reads: bool = True,
                 access_code: str | None = ACCESS_CODE) -> None:
        """`access_code=None`: none in the config, so the device makes one and prints its link."""
        self.data_dir, self.source, self.speed = data_dir, source, speed
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.config = data_dir / "config.toml"
        code = f'access_code = "{access_code}"\n' if access_code else ""
        self.config.write_text(f"[web]\n{code}open_reads = {str(open_reads).lower()}\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> RunningDevice:
        exe = Path(sys.executable).with_name("stretchstep")
        self.log = open(self.data_dir / "run.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(exe), "run", "--source", self.source, "--speed", str(self.speed), "--host", "127.0.0.1",
             "--port", str(self.port), "--data-dir", str(self.data_dir / "data"),
             "--config", str(self.config)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "api/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        log = (self.data_dir / "run.log").read_text()[-3000:]
        raise RuntimeError("stretchstep run did not come up:\n" + log)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        self.log.close()

    def printed_links(self) -> list[str]:
        """The addresses `stretchstep run` printed for a phone to open (its log)."""
        return re.findall(r"http://\S+", (self.data_dir / "run.log").read_text())

    def store_path(self) -> Path:
        """The history file: simulated and replayed runs keep theirs apart (data/simulated/...)."""
        found = sorted((self.data_dir / "data").glob("**/history.sqlite"))
        return found[0] if found else self.data_dir / "data" / "history.sqlite"

    def wait_for_stretches(self, n: int, timeout: float = 40.0) -> None:
        """Until the device has written `n` stretches (polls its SQLite file, read-only)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.store_path().exists():
                with contextlib.closing(sqlite3.connect(f"file:{self.store_path()}?mode=ro", uri=True)) as db:
                    try:
                        if db.execute("SELECT COUNT(*) FROM stretches").fetchone()[0] >= n:
                            return
                    except sqlite3.OperationalError:  # the schema is not there yet
                        pass
            time.sleep(0.2)
        raise AssertionError(f"fewer than {n} stretches after {timeout} s")


@pytest.fixture
def device(tmp_path):
    """A factory: device("simulated:good_routine", speed=8) -> a started RunningDevice."""
    started: list[RunningDevice] = []

    def make(source: str = "simulated:good_routine", speed: float = 8.0,
             open_reads: bool = True, access_code: str | None = ACCESS_CODE) -> RunningDevice:
        d = RunningDevice(tmp_path / f"dev{len(started)}", source, speed, open_reads, access_code)
        started.append(d.start())
        return d

    yield make
    for d in started:
        if d.proc is not None:
            d.stop()

@pytest.fixture
def store(tmp_path):
    """An empty history store in the test's own folder (closed after the test)."""
    from firmware.store import Store

    s = Store(tmp_path / "history.sqlite")
    yield s
    s.close()


@pytest.fixture
def live():
    from firmware.live import LiveState

    return LiveState()


def poll_until(check, timeout: float = 20.0):
    """`check()`'s first truthy value, polled every 20 ms for at most `timeout` s (a refused
    connection counts as not yet): for processes and sockets, where no fake clock serves."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"condition not met within {timeout:g} s")


@pytest.fixture
def until():
    """poll_until, as a fixture."""
    return poll_until
