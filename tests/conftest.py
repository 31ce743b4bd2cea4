"""Shared fixtures: a fake clock, so nothing in the suite sleeps for real time where one serves."""

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
