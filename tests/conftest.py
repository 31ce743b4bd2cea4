"""Shared fixtures: a fake clock, so nothing in the suite sleeps for real time where one serves;
an empty history store and live state for the web tests."""

from __future__ import annotations

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
