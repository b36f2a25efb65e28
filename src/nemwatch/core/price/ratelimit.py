"""Backoff delays and ``Retry-After`` of the price sources (pure; the clock is injected).

Their token buckets are ``nemwatch.core.tokenbucket.TokenBucket``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


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
