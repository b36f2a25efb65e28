"""The one token bucket, shared by the node client and the price sources."""

from __future__ import annotations

import pytest

from nemwatch.core.tokenbucket import TokenBucket


def test_token_bucket_paces_after_the_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=5.0, burst=2, clock=lambda: now[0])
    waits = [bucket.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.2, 0.4, 0.6])  # reservations queue up
    now[0] = 10.0
    assert bucket.reserve() == 0.0 and bucket.reserve() == 0.0  # refilled, capped at the burst
    assert bucket.reserve() == pytest.approx(0.2)
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1, clock=lambda: 0.0)
    with pytest.raises(ValueError):
        TokenBucket(rate=1, burst=0.5, clock=lambda: 0.0)


def test_a_wait_longer_than_max_wait_takes_nothing() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=8.0, burst=2, clock=lambda: now[0])  # Zaif: at most 10 in any second
    assert [bucket.reserve(0.5) for _ in range(2)] == [0.0, 0.0]
    assert bucket.reserve(0.2) == pytest.approx(0.125)  # queued behind the burst
    assert bucket.reserve(0.2) is None  # would wait 0.25 s: refused, nothing taken
    assert bucket.reserve(0.3) == pytest.approx(0.25)  # the refused call left its token in place
    now[0] = 0.375
    assert bucket.reserve(0.0) == 0.0


def test_ten_calls_in_any_second_at_most() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=8.0, burst=2, clock=lambda: now[0])
    starts: list[float] = []
    for _ in range(40):
        wait = bucket.reserve()
        starts.append(now[0] + wait)
    for first in starts:
        assert sum(1 for t in starts if first <= t < first + 1.0) <= 10
