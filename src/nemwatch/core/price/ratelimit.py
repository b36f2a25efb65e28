"""Per-provider token buckets and backoff delays (pure; the clock is injected).

A bucket with ``rate`` tokens per second and ``capacity`` tokens lets at most
``capacity + rate * t`` calls through in any ``t`` seconds: Zaif's "at most 10 calls a second"
is ``rate=8, capacity=2``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    monotonic: Callable[[], float]
    _tokens: float = field(default=0.0, init=False)
    _stamp: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.capacity < 1:
            raise ValueError("a token bucket needs rate > 0 and capacity >= 1")

    _started: bool = field(default=False, init=False)

    def _refill(self) -> None:
        now = self.monotonic()
        if not self._started:  # first use: a full bucket
            self._tokens, self._stamp, self._started = self.capacity, now, True
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._stamp = now

    def reserve(self, max_wait: float | None = None) -> float | None:
        """Take one token; return how long to wait before using it (0 when one is ready).

        Reservations queue: the token is spent now even if it is only available later, so
        concurrent callers get increasing waits and the rate holds. When the wait would
        exceed ``max_wait`` nothing is taken and None is returned.
        """
        self._refill()
        wait = 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate
        if max_wait is not None and wait > max_wait:
            return None
        self._tokens -= 1.0
        return wait


def backoff_seconds(failures: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff after ``failures`` consecutive failures: base, 2*base, 4*base ... cap."""
    if failures <= 0:
        return 0.0
    return min(cap, base * (2 ** min(failures - 1, 30)))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date. None when absent or bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 86_400))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, min(86_400.0, (when - current).total_seconds()))
