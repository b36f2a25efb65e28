"""The one token bucket: every rate limit nemwatch keeps for itself (per node, per price source).

A bucket with ``rate`` tokens per second and ``burst`` tokens lets at most ``burst + rate * t``
calls through in any ``t`` seconds: Zaif's "at most 10 calls a second" is ``rate=8, burst=2``;
a node asked at 5 requests a second with bursts of 2 is ``rate=5, burst=2``. It starts full.

Reservations queue: a token is spent when it is reserved even if it only becomes available
later, so concurrent callers get increasing waits and the rate holds. Pure: the clock (seconds,
monotonic) is injected; the caller does the waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import overload


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` at once (see the module docstring)."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._tokens = self.burst
        self._stamp: float | None = None

    @overload
    def reserve(self) -> float: ...

    @overload
    def reserve(self, max_wait: float) -> float | None: ...

    def reserve(self, max_wait: float | None = None) -> float | None:
        """Take a token; return the seconds to wait before using it (0 when one is ready).

        With ``max_wait``, a wait longer than that takes nothing and returns None (the caller
        skips the call instead of queueing behind it).
        """
        now = self._clock()
        if self._stamp is not None:
            self._tokens = min(self.burst, self._tokens + max(0.0, now - self._stamp) * self.rate)
        self._stamp = now
        wait = 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate
        if max_wait is not None and wait > max_wait:
            return None
        self._tokens -= 1.0
        return wait
