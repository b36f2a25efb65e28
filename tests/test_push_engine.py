"""The websocket push wired into the watcher (core/tasks/pushwake.py), end to end against three
simulated nodes: a push wakes detection long before the next poll; push off or refused means
polling; a push gap loses nothing (reliability bar R13); a pushed height at or below the last
triggers the rollback check; a pushed height that lies is not believed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from nemwatch.config import load_config
from nemwatch.core.alert import Stage
from nemwatch.core.nem.push import PushedHeight, PushSettings
from nemwatch.service import Service
from nemwatch.service_loop import run_service
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.scenario import ScenarioBuilder, TransferSpec

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
FAST_RECONNECT = PushSettings(backoff_initial=0.2, backoff_max=0.5, jitter=0.0, open_timeout=2.0)


def cluster() -> SimCluster:
    b = ScenarioBuilder("push", START)
    b.account("hot", "hot_wallet", xem=10_000_000)
    b.account("thief", "thief")
    return SimCluster.start(b.build(), nodes=3, clock=ManualClock(START))


def build(tmp_path: Path, sim: SimCluster, *, poll: float, push: bool = True) -> Service:
    nodes = ", ".join(f'"{u}"' for u in sim.urls)
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"[network]\nnodes = [{nodes}]\nmax_requests_per_second = 20\npoll_seconds = {poll}\n"
        f"push = {'true' if push else 'false'}\npush_safety_seconds = 600\nbackfill_pages = 0\n"
        "balance_check_seconds = 0\n\n"
        f'[[watch]]\naddress = "{sim.address("hot")}"\nlabel = "hot wallet"\nurgent = true\n\n'
        f'[price]\nsources = []\n\n[state]\ndir = "{tmp_path}"\n\n[alerts]\nsinks = ["journal"]\n'
    )
    service = Service.build(load_config(cfg), clock=sim.clock.now)
    if service.push is not None:
        for channel in service.push.hub.channels.values():
            channel.settings = FAST_RECONNECT
    return service


@asynccontextmanager
async def running(service: Service) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_service(service, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
        await service.close()


async def until(predicate: Callable[[], bool], timeout: float) -> float:
    """Seconds it took for ``predicate`` to hold; fails after ``timeout``."""
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < timeout, "not within the time"
        await asyncio.sleep(0.02)
    return time.monotonic() - t0


def outflows(service: Service, stage: Stage) -> set[str]:
    return {a.tx_hash for a in service.store.recent_alerts(200) if a.rule == "outflow" and a.stage is stage}


def all_live(service: Service) -> bool:
    assert service.push is not None
    return all(service.push.hub.live(n) for n in service.client.nodes)


async def test_a_push_alerts_long_before_the_next_poll(tmp_path: Path) -> None:
    with cluster() as sim:
        service = build(tmp_path, sim, poll=30)  # the next REST poll would be 30 s away
        async with running(service):
            await until(lambda: all_live(service) and service.engine._decision is not None, 10)
            await asyncio.sleep(0.5)  # each (re)connected node is asked once over REST: done by now
            polls = service.engine.heightpoll.requests
            tx = sim.submit(TransferSpec(sim.clock.now(), "hot", "thief", xem=5_000))
            pooled = await until(lambda: tx.hash in outflows(service, Stage.UNCONFIRMED), 5)
            sim.advance(60)
            mined = await until(lambda: tx.hash in outflows(service, Stage.CONFIRMED), 5)
            assert service.engine.heightpoll.requests == polls  # the pushed heights stood in for REST
        assert pooled < 3 and mined < 3
        assert [n.push.stats.connections for n in sim.nodes] == [1, 1, 1]
        assert service.push is not None and service.push.alerted >= 1


async def test_push_off_or_refused_means_polling_every_poll_seconds(tmp_path: Path) -> None:
    for case in ("off", "refused"):
        with cluster() as sim:
            if case == "refused":
                for url in sim.urls:
                    httpx.post(url + "/_sim/fault", json={"kind": "push_refuse"})
            service = build(tmp_path / case, sim, poll=0.2, push=case != "off")
            async with running(service):
                await until(lambda: service.engine._decision is not None, 10)
                tx = sim.submit(TransferSpec(sim.clock.now(), "hot", "thief", xem=7_000))
                sim.advance(60)
                await until(lambda: tx.hash in outflows(service, Stage.CONFIRMED), 5)
                await asyncio.sleep(0.6)
                polls = service.engine.heightpoll.requests
            assert polls >= 4  # polled every 0.2 s
            assert [n.push.stats.connections for n in sim.nodes] == [0, 0, 0]
            refused = [n.push.stats.refused for n in sim.nodes]
            if case == "off":
                assert refused == [0, 0, 0]
            else:  # one try, then one after the backoff (0.2 s, 0.4 s, ...): never one per poll
                assert all(1 <= r <= 5 for r in refused), refused


async def test_a_push_gap_loses_nothing_r13(tmp_path: Path) -> None:
    with cluster() as sim:
        service = build(tmp_path, sim, poll=30)
        async with running(service):
            await until(lambda: all_live(service) and service.engine._decision is not None, 10)
            for url in sim.urls:  # the push goes away: sockets cut, upgrades refused
                httpx.post(url + "/_sim/fault", json={"kind": "push_refuse"})
                httpx.post(url + "/_sim/fault", json={"kind": "push_disconnect"})
            await until(lambda: service.push is not None and not service.push.hub.any_live(), 5)
            await asyncio.sleep(0.3)  # the follower's wake-up at the drop has run
            hashes = []
            for i in range(20):  # five minutes, 20 outflows
                hashes.append(sim.submit(TransferSpec(sim.clock.now(), "hot", "thief", xem=100 + i)).hash)
                sim.advance(15)
            assert not outflows(service, Stage.CONFIRMED) & set(hashes)  # nothing polled since the drop
            for url in sim.urls:
                httpx.post(url + "/_sim/fault", json={"kind": "clear", "what": "push"})
            took = await until(lambda: set(hashes) <= outflows(service, Stage.CONFIRMED), 10)
        assert took < 5  # reconciled over REST from the cursor at the reconnect, not at the 30 s poll


async def test_a_pushed_height_at_or_below_the_last_triggers_the_rollback_check(tmp_path: Path) -> None:
    with cluster() as sim:
        service = build(tmp_path, sim, poll=30)
        async with running(service):
            await until(lambda: all_live(service) and service.engine._decision is not None, 10)
            tx = sim.submit(TransferSpec(sim.clock.now(), "hot", "thief", xem=9_000))
            sim.advance(60)
            await until(lambda: tx.hash in outflows(service, Stage.CONFIRMED), 5)
            sim.advance(60)
            await until(lambda: service.store.get_cursor("chain").height == sim.height, 5)  # type: ignore[union-attr]
            sim.rollback(2, "drop")  # same height, the transfer gone: only the push tells
            took = await until(lambda: tx.hash in outflows(service, Stage.RETRACTED), 5)
        assert took < 3


async def test_a_pushed_height_that_lies_is_not_believed(tmp_path: Path) -> None:
    with cluster() as sim:
        sim.advance(120)
        service = build(tmp_path, sim, poll=30)
        try:
            engine, push = service.engine, service.push
            assert push is not None
            await engine.cycle()
            real = sim.height
            liar = service.client.nodes[0]
            engine.heightpoll.live = lambda url: True  # as if every node's push were live
            heard = {}
            for claim in (real + 1000, real + 1):
                await push.handle(PushedHeight(liar, claim))
                stats = await engine.cycle()
                assert stats.head == real and stats.cursor == real  # never the head on one node's push
                heard[claim] = {v.url: v.height for v in engine._decision.verdicts}[liar]  # type: ignore[union-attr]
            # +1000 skips heights: the node was asked over REST, which said the truth; +1 stood in
            # for its word (no request) but one node ahead of two is not the head
            assert heard == {real + 1000: real, real + 1: real + 1}
        finally:
            await service.close()
