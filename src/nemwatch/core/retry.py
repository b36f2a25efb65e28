"""The one retry policy: jittered exponential backoff and ``Retry-After``, for every caller.

Three callers retry, each its own way of waiting, all on these numbers:

- the NIS client (``nem/pool.py``) retries one call over several nodes; each attempt picks a
  node, and only a retry on a node already tried waits (``RetryPolicy``);
- a price source (``price/http.py``) retries a request a few times inline and rests a failing
  provider for a growing time (``backoff_delay``);
- delivery (``headless/delivery.py``) stores when a failed alert is tried next, days apart at
  most, across restarts.

A retry library that wraps a call in a loop (stamina, tenacity) fits none of them: the node
client changes target between attempts and waits only when it returns to a node, and delivery
schedules its next attempt in the database rather than sleeping. So the policy lives here as
numbers and pure functions; the loops stay where the waiting is done.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_AFTER_LIMIT = 86_400.0  # no server may park a caller longer than a day


def backoff_delay(
    failures: int, *, initial: float, maximum: float, jitter: float = 0.0, rng: random.Random | None = None
) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure (1 for the first).

    ``initial * 2**(failures-1)``, stretched by a random factor in ``[1, 1 + jitter)`` so that
    many callers failing together do not retry in lockstep, and capped at ``maximum``. With
    ``jitter < 1`` each wait is longer than the one before until the cap. 0 for no failure.
    """
    if failures <= 0:
        return 0.0
    base = initial * 2.0 ** min(failures - 1, 60)
    spread = 1.0 + (rng or random).random() * jitter if jitter else 1.0
    return min(maximum, base * spread)


def parse_retry_after(value: str | None, now: datetime, limit: float = RETRY_AFTER_LIMIT) -> float | None:
    """``Retry-After`` in seconds from ``now``, clamped to ``[0, limit]``; None when absent or unreadable.

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
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min(limit, (when - now).total_seconds()))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one call of the NIS client tries.

    ``attempts``: requests per call at most (over all nodes). The n-th retry on a node already
    tried in the same call first waits ``backoff_delay(n, initial=backoff_base,
    maximum=backoff_max, jitter=jitter)``; moving to a fresh node does not wait.
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
        """Pause before the ``retry``-th retry (1, 2, ...): exponential, jittered, capped."""
        return backoff_delay(retry, initial=self.backoff_base, maximum=self.backoff_max, jitter=self.jitter, rng=rng)
