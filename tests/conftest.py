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
