"""The one retry policy (core/retry.py): the backoff every caller waits on, Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from nemwatch.core.retry import RETRY_AFTER_LIMIT, RetryPolicy, backoff_delay, parse_retry_after
from nemwatch.headless.retry import RetryPolicy as DeliveryPolicy

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_backoff_without_jitter_doubles_up_to_the_cap() -> None:
    waits = [backoff_delay(n, initial=5.0, maximum=600.0) for n in range(0, 10)]
    assert waits == [0.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 600.0, 600.0]
    assert backoff_delay(10**6, initial=1.0, maximum=300.0) == 300.0  # no overflow on a long outage


def test_jitter_stretches_within_its_fraction_and_spreads_callers() -> None:
    rng = random.Random(3)
    waits = [backoff_delay(3, initial=1.0, maximum=300.0, jitter=0.5, rng=rng) for _ in range(200)]
    assert all(4.0 <= w < 6.0 for w in waits)
    assert len({round(w, 3) for w in waits}) > 50


def test_the_node_and_delivery_policies_wait_on_the_same_backoff() -> None:
    node = RetryPolicy(backoff_base=0.25, backoff_max=5.0, jitter=0.25)
    delivery = DeliveryPolicy(initial=0.25, maximum=5.0, jitter=0.25)
    for n in range(1, 8):
        assert node.backoff(n, random.Random(n)) == delivery.backoff(n, random.Random(n)) == backoff_delay(
            n, initial=0.25, maximum=5.0, jitter=0.25, rng=random.Random(n)
        )


def test_retry_after_default_limit_is_a_day() -> None:
    assert parse_retry_after("999999", NOW) == RETRY_AFTER_LIMIT == 86_400.0
    assert parse_retry_after(format_datetime(NOW + timedelta(days=9), usegmt=True), NOW) == RETRY_AFTER_LIMIT
    assert parse_retry_after(" 7 ", NOW) == 7.0
    assert parse_retry_after("7 s", NOW) is None
