"""When to try a failed delivery again, on the core's backoff (``nemwatch.core.retry``).

The n-th failure of a delivery waits ``initial * 2**(n-1)`` seconds (1 s, 2 s, 4 s, ...),
stretched by a random factor in ``[1, 1 + jitter)`` so that many failing deliveries do not
retry in lockstep, and capped at ``maximum`` (5 minutes). A destination that says
``Retry-After`` is not called again before then (clamped to ``max_retry_after``; never sooner
than the backoff, so a ``Retry-After: 0`` cannot make a tight loop). A delivery still failing
``give_up_after`` after its alert was raised is dead-lettered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from nemwatch.core.retry import backoff_delay


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial: float = 1.0
    maximum: float = 300.0
    jitter: float = 0.25
    max_retry_after: float = 3600.0
    give_up_after: timedelta = timedelta(days=2)

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after the ``failures``-th failure (1 for the first)."""
        return backoff_delay(failures, initial=self.initial, maximum=self.maximum, jitter=self.jitter, rng=rng)

    def delay(self, failures: int, rng: random.Random, retry_after: float | None) -> float:
        """The wait after a failure: the backoff, or longer when the destination asked for it."""
        backoff = self.backoff(failures, rng)
        if retry_after is None:
            return backoff
        return max(backoff, min(retry_after, self.max_retry_after))
