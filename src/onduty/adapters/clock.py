"""Clocks: the wall clock for `serve`, a settable one for the demo, exercises and tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """Time that moves only when told to."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("a simulated clock needs an aware start time")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, at: datetime) -> None:
        if at < self._now:
            raise ValueError("simulated time does not run backwards")
        self._now = at


class ResumedClock:
    """Wall-clock speed from a given moment on: the demo's console carries on where its story ended."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("a resumed clock needs an aware start time")
        self._start, self._started = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._started)
