"""Retry policy of the NIS client: jittered exponential backoff and ``Retry-After`` parsing.

The retry loop itself lives in the client because each attempt picks a node; this module holds
the numbers and the pure functions behind them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one call tries.

    ``attempts``: requests per call at most (over all nodes). The n-th retry on a node already
    tried in the same call first waits ``min(backoff_max, backoff_base * 2**(n-1))`` plus a
    uniform jitter of up to ``jitter`` seconds; moving to a fresh node does not wait.
    ``max_wait``: the longest single pause a call accepts (for a Retry-After window or a node
    to come back); a longer one ends the call with the failure instead.
    ``max_retry_after``: a node's ``Retry-After`` is clamped to this many seconds.
    """

    attempts: int = 4
    backoff_base: float = 0.25
    backoff_max: float = 5.0
    jitter: float = 0.25
    max_wait: float = 30.0
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if min(self.backoff_base, self.backoff_max, self.jitter, self.max_wait, self.max_retry_after) < 0:
            raise ValueError("backoff, jitter and wait limits cannot be negative")

    def backoff(self, retry: int, rng: random.Random | None = None) -> float:
        """Pause before the ``retry``-th retry (1, 2, ...): exponential, capped, jittered."""
        if retry <= 0:
            return 0.0
        delay = min(self.backoff_max, self.backoff_base * 2 ** min(retry - 1, 30))
        spread = (rng or random).uniform(0.0, self.jitter) if self.jitter else 0.0
        return min(self.backoff_max + self.jitter, delay + spread)


def parse_retry_after(value: str | None, now: datetime, limit: float) -> float | None:
    """``Retry-After`` in seconds from now, clamped to ``[0, limit]``; None when absent or unreadable.

    The header is either delta-seconds (``"120"``) or an HTTP date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``); ``now`` is the current wall time (aware).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        digits = value.lstrip("0") or "0"
        return limit if len(digits) > 12 else float(min(int(digits), limit))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min(limit, (when - now).total_seconds()))
