"""Simulated time for the node simulator.

The chain's "now" comes from a clock object with ``now() -> datetime`` (timezone-aware UTC):

- ``ScaledClock``: start + real elapsed time x speed (the default for ``nemwatch sim``);
- ``ManualClock``: frozen until a test moves it with ``advance`` / ``advance_to``.

Both can be moved forward by hand, so the ``/_sim/advance`` control works with either.
Time never goes backwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class SimClock(Protocol):
    def now(self) -> datetime: ...

    def advance(self, seconds: float) -> datetime: ...

    def advance_to(self, when: datetime) -> datetime: ...


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime: give a timezone")
    return when.astimezone(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def advance_to(self, when: datetime) -> datetime:
        when = _aware(when)
        with self._lock:
            if when > self._now:
                self._now = when
            return self._now


class ScaledClock:
    """start + (real seconds elapsed since creation) x speed, plus any manual advances."""

    def __init__(
        self,
        start: datetime,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = _aware(start)
        self._speed = speed
        self._monotonic = monotonic
        self._t0 = monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        with self._lock:
            elapsed = (self._monotonic() - self._t0) * self._speed + self._offset
        return self._start + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        with self._lock:
            self._offset += seconds
        return self.now()

    def advance_to(self, when: datetime) -> datetime:
        gap = (_aware(when) - self.now()).total_seconds()
        if gap > 0:
            return self.advance(gap)
        return self.now()
