"""Pure parts of the NIS client: Retry-After parsing, backoff, breaker, URL display."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemwatch.core.nem.nodes import BreakerState, CircuitBreaker, describe_url
from nemwatch.core.retry import RetryPolicy, parse_retry_after

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("000000000000000000042", 42.0),
        ("86400", 300.0),
        ("9" * 5000, 300.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        ("Sun, 01 Mar 2026 12:01:00 GMT", 60.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
        (format_datetime(NOW + timedelta(days=3), usegmt=True), 300.0),
    ],
)
def test_retry_after_seconds_or_http_date_clamped(header: str, seconds: float) -> None:
    assert parse_retry_after(header, NOW, 300.0) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "1.5", "٣", "Mon, 99 Foo 2026 99:99:99 GMT"])
def test_unreadable_retry_after_is_none(header: str | None) -> None:
    assert parse_retry_after(header, NOW, 300.0) is None


@given(st.text(max_size=60))
def test_retry_after_never_raises_and_stays_in_bounds(header: str) -> None:
    value = parse_retry_after(header, NOW, 300.0)
    assert value is None or 0.0 <= value <= 300.0


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0, jitter=0.25)
    rng = random.Random(7)
    for retry, floor in [(1, 0.5), (2, 1.0), (3, 2.0)]:
        delays = [policy.backoff(retry, rng) for _ in range(50)]
        assert all(floor <= d < floor * 1.25 for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert {policy.backoff(retry, rng) for retry in (4, 10, 100) for _ in range(20)} == {4.0}  # capped
    assert policy.backoff(0) == 0.0
    assert RetryPolicy(jitter=0.0).backoff(2) == 0.5


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(backoff_base=-1)


def test_breaker_cycle() -> None:
    breaker = CircuitBreaker(threshold=3, reset_timeout=10.0)
    for t in (0.0, 1.0):
        breaker.failure(t)
        assert breaker.state(t) is BreakerState.CLOSED and breaker.ready(t)
    breaker.failure(2.0)
    assert breaker.state(2.0) is BreakerState.OPEN and not breaker.ready(11.9)
    assert breaker.state(12.0) is BreakerState.HALF_OPEN and breaker.ready(12.0)
    assert breaker.begin(12.0) and not breaker.begin(12.0)  # a single trial
    breaker.failure(12.5)
    assert breaker.state(13.0) is BreakerState.OPEN and breaker.state(22.5) is BreakerState.HALF_OPEN
    assert breaker.begin(23.0)
    breaker.release()  # cancelled: the trial slot is free again
    assert breaker.begin(23.0)
    breaker.success()
    assert breaker.state(23.0) is BreakerState.CLOSED
    breaker.failure(24.0)
    assert breaker.state(24.0) is BreakerState.CLOSED  # the count starts over after a success


@pytest.mark.parametrize(
    ("url", "shown", "hidden"),
    [
        ("http://127.0.0.1:7890", "http://127.0.0.1:7890", []),
        ("http://bob:pw@node.example:7890/", "http://node.example:7890", ["bob", "pw"]),
        ("https://node.example:7891/?token=abc123", "https://node.example:7891/?token=<secret>", ["abc123"]),
        ("http://x%40y:p%3Aw@h.example:7890", "http://h.example:7890", ["x%40y", "x@y", "p%3Aw", "p:w"]),
    ],
)
def test_describe_url_drops_userinfo_and_masks_tokens(url: str, shown: str, hidden: list[str]) -> None:
    name, secrets = describe_url(url)
    assert name == shown
    assert set(hidden) <= set(secrets)
