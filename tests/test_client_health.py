"""Node health, circuit breakers, per-node rate limit and concurrency cap of the NIS client."""

from __future__ import annotations

import asyncio
import time

import pytest
from client_fakenode import FakeTime, Reply, client_for, fixture, healthy, nis_error, running

from nemwatch.core.nem.client import NisClient
from nemwatch.core.nem.errors import CircuitOpen, RateLimited, ServerError
from nemwatch.core.nem.nodes import BreakerState, HealthState
from nemwatch.core.retry import RetryPolicy


async def test_refresh_health_marks_a_lagging_node_and_reads_avoid_it() -> None:
    t = FakeTime()
    async with running(3, t.clock) as (slow, a, b), client_for(slow, a, b, clock=t.clock, sleep=t.sleep) as client:
        healthy(slow, height=95)
        healthy(a, height=100)
        healthy(b, height=101)
        health = await client.refresh_health()
        assert [h.state for h in health] == [HealthState.LAGGING, HealthState.OK, HealthState.OK]
        assert [h.height for h in health] == [95, 100, 101]
        assert client.best_node() == client.nodes[1]  # the lagging node is listed first but not chosen
        slow.log.clear()
        await client.chain_height()
        assert slow.log == []


async def test_lag_is_measured_against_the_majority_not_one_node_far_ahead() -> None:
    async with running(3) as (a, b, liar), client_for(a, b, liar) as client:
        healthy(a, height=100)
        healthy(b, height=99)
        healthy(liar, height=5000)
        states = [h.state for h in await client.refresh_health()]
        assert states == ["ok", "ok", "ok"]  # two honest nodes do not look "behind" the liar


async def test_a_node_that_is_not_synchronized_is_down() -> None:
    async with running(2) as (a, b), client_for(a, b) as client:
        healthy(a).always("/status", Reply(200, {"code": 8, "type": 4, "message": "loading"}))
        healthy(b)
        health = await client.refresh_health()
        assert (health[0].state, health[0].status_code) == ("down", 8)
        assert health[1].state == "ok"
        assert client.best_node() == client.nodes[1]


async def test_the_breaker_opens_after_three_failures_then_half_opens() -> None:
    t = FakeTime()
    options = {"clock": t.clock, "sleep": t.sleep, "breaker_reset": 30.0}
    async with running(2, t.clock) as (a, b), client_for(a, b, **options) as client:
        healthy(a).always("/chain/height", nis_error(500, "broken"))
        healthy(b, height=77)
        with pytest.raises(ServerError) as caught:
            await client.node(a.url).chain_height()
        assert len(caught.value.errors) == 3 and len(a.hits()) == 3  # the 4th try is not sent
        broken = client.health()[0]
        assert (broken.state, broken.breaker, broken.consecutive_failures) == ("down", BreakerState.OPEN, 3)

        # open: no request reaches it, pinned or not
        with pytest.raises(CircuitOpen):
            await client.node(a.url).chain_height()
        assert await client.chain_height() == 77
        assert (await client.heights())[client.nodes[0]].__class__ is CircuitOpen
        assert len(a.hits()) == 3

        # half-open after the reset timeout: one trial; it fails, so open again
        await t.sleep(30)
        assert client.health()[0].breaker == BreakerState.HALF_OPEN
        results = await asyncio.gather(
            client.chain_height(node=a.url, attempts=1), client.chain_height(node=a.url, attempts=1), return_exceptions=True
        )
        assert sorted(type(r).__name__ for r in results) == ["CircuitOpen", "ServerError"]
        assert len(a.hits()) == 4 and client.health()[0].breaker == BreakerState.OPEN

        # the node recovers: the next trial closes the breaker
        await t.sleep(30)
        a.always("/chain/height", Reply(200, {"height": 78}))
        assert await client.node(a.url).chain_height() == 78
        healed = client.health()[0]
        assert (healed.state, healed.breaker, healed.consecutive_failures) == ("ok", BreakerState.CLOSED, 0)


async def test_rate_limit_per_node_on_fake_time() -> None:
    t = FakeTime()
    options = {"clock": t.clock, "sleep": t.sleep, "max_rps_per_node": 5.0, "burst": 2}
    async with running(1, t.clock) as (node,), client_for(node, **options) as client:
        healthy(node, height=1)
        for _ in range(40):
            await client.chain_height()
        times = [h.at for h in node.hits()]
        assert len(times) == 40
        assert times[-1] - times[0] >= (40 - 2) / 5.0 - 1e-6
        for start in times:  # any one-second window holds at most rate + burst requests
            assert sum(1 for x in times if start <= x < start + 1.0) <= 5 + 2


async def test_rate_limit_holds_for_concurrent_calls_in_real_time() -> None:
    async with running(1) as (node,), client_for(node, max_rps_per_node=20.0, burst=2) as client:
        healthy(node, height=1)
        started = time.monotonic()
        await asyncio.gather(*(client.chain_height() for _ in range(24)))
        # the bucket cannot be outrun, however the machine schedules: a lower bound only (the
        # per-window count is checked on fake time above; arrival times on a busy machine bunch)
        assert time.monotonic() - started >= (24 - 2) / 20.0
        assert len(node.hits()) == 24


async def test_rate_limits_are_per_node() -> None:
    t = FakeTime()
    options = {"clock": t.clock, "sleep": t.sleep, "max_rps_per_node": 2.0, "burst": 1}
    async with running(2, t.clock) as (a, b), client_for(a, b, **options) as client:
        healthy(a, height=1)
        healthy(b, height=1)
        for _ in range(4):
            await client.heights()  # each asks both nodes at once
        for node in (a, b):
            times = [h.at for h in node.hits()]
            assert len(times) == 4
            assert all(later - earlier >= 0.5 - 1e-6 for earlier, later in zip(times, times[1:], strict=False))
        assert t.now - 1000.0 <= 2.0  # the two nodes were paced side by side, not one after the other


async def test_concurrency_per_node_is_capped() -> None:
    async with running(1) as (node,), client_for(node, max_concurrency_per_node=2, max_rps_per_node=20.0, burst=20) as client:
        node.always("/chain/height", Reply(200, {"height": 3}, delay_seconds=0.05))
        await asyncio.gather(*(client.chain_height() for _ in range(8)))
        assert len(node.hits()) == 8 and node.max_in_flight == 2


def test_the_rate_cannot_exceed_twenty_per_second() -> None:
    with pytest.raises(ValueError):
        NisClient(["http://127.0.0.1:7890"], max_rps_per_node=21)
    with pytest.raises(ValueError):
        NisClient([])
    with pytest.raises(ValueError):
        NisClient(["ftp://127.0.0.1:7890"])
    with pytest.raises(ValueError):
        NisClient(["http://127.0.0.1:7890", "http://127.0.0.1:7890/"])


async def test_health_snapshot_fields() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, clock=t.clock, sleep=t.sleep) as client:
        healthy(node, height=500)
        node.always("/node/info", Reply(200, fixture("node_info.json")))
        (before,) = client.health()
        assert (before.state, before.height, before.last_error, before.retry_after_until) == ("ok", None, None, None)
        (after,) = await client.refresh_health()
        assert (after.height, after.status_code, after.network_id) == (500, 6, 104)
        node.always("/chain/height", Reply(429, b"", {"Retry-After": "12"}))
        with pytest.raises(RateLimited):
            await client.chain_height(attempts=1)
        (resting,) = client.health()
        assert resting.state == "backoff" and resting.retry_after_until == pytest.approx(t.now + 12)


async def test_an_owned_http_client_is_closed_by_aclose() -> None:
    async with running(1) as (node,):
        healthy(node, height=2)
        async with NisClient([node.url], retry=RetryPolicy(attempts=1)) as client:
            assert await client.chain_height() == 2
        with pytest.raises(RuntimeError, match="closed"):
            await client.chain_height()
