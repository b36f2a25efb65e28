"""When to try a failed delivery again: exponential backoff with jitter, and Retry-After.

The n-th failure of a delivery waits ``initial * 2**(n-1)`` seconds (1 s, 2 s, 4 s, ...),
stretched by a random factor in ``[1, 1 + jitter)`` so that many failing deliveries do not
retry in lockstep, and capped at ``maximum`` (5 minutes). With ``jitter < 1`` each wait is
longer than the one before until the cap. A destination that says ``Retry-After`` is not
called again before then (clamped to ``max_retry_after``; never sooner than the backoff, so a
``Retry-After: 0`` cannot make a tight loop). A delivery still failing ``give_up_after`` after
its alert was raised is dead-lettered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial: float = 1.0
    maximum: float = 300.0
    jitter: float = 0.25
    max_retry_after: float = 3600.0
    give_up_after: timedelta = timedelta(days=2)

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after the ``failures``-th failure (1 for the first)."""
        base = self.initial * 2.0 ** max(0, min(failures - 1, 60))
        return min(self.maximum, base * (1.0 + rng.random() * self.jitter))

    def delay(self, failures: int, rng: random.Random, retry_after: float | None) -> float:
        """The wait after a failure: the backoff, or longer when the destination asked for it."""
        backoff = self.backoff(failures, rng)
        if retry_after is None:
            return backoff
        return max(backoff, min(retry_after, self.max_retry_after))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from ``now`` given a ``Retry-After`` header: delay-seconds or an HTTP-date.

    None when absent or unreadable (then the ordinary backoff applies).
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
