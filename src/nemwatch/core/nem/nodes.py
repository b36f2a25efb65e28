"""Per-node state of the NIS client: rate limit, circuit breaker, Retry-After window, health.

Times are seconds on the client's injected monotonic clock.

Health states (``NodeHealth.state``), first match wins:

- ``wrong_network``: ``/node/info`` reported another network id; never asked again;
- ``backoff``: inside a Retry-After window (429, or 503 with Retry-After); not asked until it ends;
- ``down``: the breaker is not closed, the last request failed, or ``/status`` is not 6
  (synchronized);
- ``lagging``: more than ``lag_blocks`` below the reference height of the responsive nodes;
- ``ok``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote, urlsplit, urlunsplit

from nemwatch.core.head import quorum_head
from nemwatch.core.text import sanitize
from nemwatch.core.tokenbucket import TokenBucket
from nemwatch.redact import redact_url, scrub, secret_parts

MAX_REQUESTS_PER_SECOND = 20.0  # public nodes reject clients above 50 per second per IP
SYNCHRONIZED = 6  # /status code of a node that is in sync


class HealthState(str, Enum):
    OK = "ok"
    LAGGING = "lagging"
    DOWN = "down"
    BACKOFF = "backoff"
    WRONG_NETWORK = "wrong_network"


class BreakerState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class NodeHealth:
    """A snapshot of one node for the dashboard and the engine's node-trouble alerts.

    ``url`` is the redacted URL (no userinfo, no token); ``last_error`` is sanitized and
    redacted; ``retry_after_until`` is on the client's clock, ``retry_in`` the seconds left.
    """

    url: str
    state: HealthState
    height: int | None
    last_error: str | None
    consecutive_failures: int
    retry_after_until: float | None
    retry_in: float | None = None
    status_code: int | None = None
    breaker: BreakerState = BreakerState.CLOSED
    network_id: int | None = None


class CircuitBreaker:
    """Closed -> open after ``threshold`` consecutive failures -> half-open after
    ``reset_timeout`` (one trial request) -> closed on its success, open again on its failure."""

    def __init__(self, threshold: int = 3, reset_timeout: float = 30.0) -> None:
        if threshold < 1 or reset_timeout < 0:
            raise ValueError("breaker needs threshold >= 1 and reset_timeout >= 0")
        self.threshold = threshold
        self.reset_timeout = reset_timeout
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial = False

    def state(self, now: float) -> BreakerState:
        if self._state is BreakerState.OPEN and now >= self._opened_at + self.reset_timeout:
            return BreakerState.HALF_OPEN
        return self._state

    def ready(self, now: float) -> bool:
        state = self.state(now)
        return state is BreakerState.CLOSED or (state is BreakerState.HALF_OPEN and not self._trial)

    def begin(self, now: float) -> bool:
        """Claim the right to send one request (the trial, when half-open)."""
        if not self.ready(now):
            return False
        if self.state(now) is BreakerState.HALF_OPEN:
            self._state = BreakerState.HALF_OPEN
            self._trial = True
        return True

    def success(self) -> None:
        self._state, self._failures, self._trial = BreakerState.CLOSED, 0, False

    def failure(self, now: float) -> None:
        self._failures += 1
        self._trial = False
        if self._state is BreakerState.HALF_OPEN or self._failures >= self.threshold:
            self._state, self._opened_at = BreakerState.OPEN, now

    def release(self) -> None:
        """A claimed request ended without a verdict (cancelled, or refused as a bad request)."""
        self._trial = False


def describe_url(url: str) -> tuple[str, tuple[str, ...]]:
    """The display form of a node URL (userinfo dropped, tokens masked) and its secret parts."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    secrets: list[str] = []
    if at:
        secrets.append(userinfo)
        for piece in userinfo.split(":", 1):
            secrets.extend((piece, unquote(piece)))
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    secrets.extend(secret_parts(clean))
    return redact_url(clean).rstrip("/"), tuple(s for s in secrets if s)


class Node:
    """One configured node and everything the client knows about it."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float],
        rate: float,
        burst: float,
        concurrency: int,
        breaker: CircuitBreaker,
    ) -> None:
        self.url = url
        self.name, self.secrets = describe_url(url)
        self.bucket = TokenBucket(rate, burst, clock)
        self.slots = asyncio.Semaphore(concurrency)
        self.breaker = breaker
        self.height: int | None = None
        self.status_code: int | None = None
        self.network_id: int | None = None
        self.wrong_network = False
        self.retry_after_until: float | None = None
        self.throttles = 0  # consecutive 429s without Retry-After, for their backoff
        self.consecutive_failures = 0
        self.last_error: str | None = None
        self.requests = 0

    def clean(self, text: str) -> str:
        """``text`` with this node's secrets masked, sanitized to one short line."""
        return sanitize(scrub(text, self.secrets), max_len=300)

    def in_backoff(self, now: float) -> bool:
        return self.retry_after_until is not None and now < self.retry_after_until

    def ready(self, now: float, any_network: bool = False) -> bool:
        return (any_network or not self.wrong_network) and not self.in_backoff(now) and self.breaker.ready(now)

    def ready_at(self, now: float, any_network: bool = False) -> float | None:
        """When this node may be asked next, if only a Retry-After window keeps it; None when
        it is on another network or its breaker is not ready (a broken node is not waited for)."""
        if (self.wrong_network and not any_network) or not self.breaker.ready(now):
            return None
        return max(now, self.retry_after_until or now)

    def record_success(self) -> None:
        self.breaker.success()
        self.consecutive_failures = 0
        self.throttles = 0

    def record_failure(self, error: str, now: float) -> None:
        self.consecutive_failures += 1
        self.last_error = self.clean(error)
        self.breaker.failure(now)

    def record_throttle(self, error: str, seconds: float, now: float) -> None:
        self.throttles += 1
        self.last_error = self.clean(error)
        self.retry_after_until = max(self.retry_after_until or now, now + seconds)
        self.breaker.release()

    def state(self, now: float, reference: int | None, lag_blocks: int) -> HealthState:
        if self.wrong_network:
            return HealthState.WRONG_NETWORK
        if self.in_backoff(now):
            return HealthState.BACKOFF
        if not self.responsive(now):
            return HealthState.DOWN
        if self.height is not None and reference is not None and self.height < reference - lag_blocks:
            return HealthState.LAGGING
        return HealthState.OK

    def responsive(self, now: float) -> bool:
        return (
            not self.wrong_network
            and self.breaker.state(now) is BreakerState.CLOSED
            and self.consecutive_failures == 0
            and self.status_code in (None, SYNCHRONIZED)
        )

    def health(self, now: float, reference: int | None, lag_blocks: int) -> NodeHealth:
        until = self.retry_after_until if self.in_backoff(now) else None
        return NodeHealth(
            url=self.name,
            state=self.state(now, reference, lag_blocks),
            height=self.height,
            last_error=self.last_error,
            consecutive_failures=self.consecutive_failures,
            retry_after_until=until,
            retry_in=None if until is None else until - now,
            status_code=self.status_code,
            breaker=self.breaker.state(now),
            network_id=self.network_id,
        )


def reference_height(nodes: Sequence[Node], now: float) -> int | None:
    """The height lag is measured against: the best height of the responsive nodes, or with
    three or more of them the best height a majority reaches (so one node far ahead does not
    make all the others look behind)."""
    heights = {str(i): n.height for i, n in enumerate(nodes) if n.height is not None and n.responsive(now)}
    if len(heights) >= 3:
        return quorum_head(heights)
    return max(heights.values(), default=None)
