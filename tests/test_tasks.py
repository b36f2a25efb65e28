"""The watcher's tasks on an in-memory chain: bounded pool checks, spread balance rounds, backfill
that never holds up a block, and delivery that starts as soon as a block is committed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from fakechain import FakeChain, transfer
from nemwatch.core.alert import Alert, Stage
from nemwatch.core.models import AccountInfo, Transaction
from nemwatch.core.rules import WatchRule
from test_engine import HOT, THIEF, make

from common_addresses import addresses


@dataclass
class CountingChain(FakeChain):
    pool_reads: list[str] = field(default_factory=list)

    async def unconfirmed(self, address: str) -> Sequence[Transaction]:
        self.pool_reads.append(address)
        return await super().unconfirmed(address)


async def test_pool_checks_are_bounded_per_pass_and_cover_every_urgent_address(tmp_path: Path) -> None:
    urgent = addresses(25)
    chain = CountingChain(tip=3)
    watch = {a: WatchRule(label=f"u{i}", urgent=True) for i, a in enumerate(urgent)}
    engine = make(tmp_path, chain, watch, unconfirmed_poll_seconds=0, pool_checks_per_pass=10)
    await engine.cycle()
    assert len(chain.pool_reads) == 10
    await engine.cycle()
    await engine.cycle()
    assert len(chain.pool_reads) == 30 and set(chain.pool_reads) == set(urgent)  # 3 passes cover all 25
    late = urgent[-1]
    chain.pool[late] = [transfer(late, THIEF, 7)]
    for _ in range(3):
        await engine.cycle()
    assert [a.stage for a in engine.store.recent_alerts(10) if a.address == late] == [Stage.UNCONFIRMED]


async def test_one_urgent_address_is_read_every_pass(tmp_path: Path) -> None:
    chain = CountingChain(tip=3)
    engine = make(tmp_path, chain, {HOT: WatchRule(label="hot", urgent=True)}, unconfirmed_poll_seconds=0)
    for _ in range(3):
        await engine.cycle()
    assert chain.pool_reads == [HOT, HOT, HOT]


@dataclass
class BatchChain(FakeChain):
    batches: list[list[str]] = field(default_factory=list)
    heights_asked: int = 0

    async def accounts(self, addresses: Sequence[str], *, node: str | None = None) -> list[AccountInfo]:
        self.batches.append(list(addresses))
        return [await self.account(a) for a in addresses]

    async def chain_height(self, *, node: str | None = None) -> int:
        self.heights_asked += 1
        return self.tip


async def test_balance_passes_read_one_batch_and_are_spread_in_time(tmp_path: Path) -> None:
    watched = addresses(25)
    chain = BatchChain(tip=5, balances={a: 1_000_000 for a in watched})
    watch = {a: WatchRule(label=f"w{i}") for i, a in enumerate(watched)}
    engine = make(tmp_path, chain, watch, balance_checks_per_cycle=10, balance_check_seconds=3600,
                  balance_pass_seconds=60)
    clock = engine.clock
    await engine.cycle()
    assert [len(b) for b in chain.batches] == [10]
    await engine.cycle()  # a second later: the next pass is not due
    assert len(chain.batches) == 1
    for _ in range(2):
        clock.now += timedelta(seconds=61)  # type: ignore[attr-defined]
        await engine.cycle()
    assert [len(b) for b in chain.batches] == [10, 10, 5]
    assert {a for b in chain.batches for a in b} == set(watched)  # one whole round
    clock.now += timedelta(seconds=61)  # type: ignore[attr-defined]
    await engine.cycle()
    assert len(chain.batches) == 3  # the next round waits for balance_check_seconds
    assert all(engine.store.account(a).balance == 1_000_000 for a in watched)  # type: ignore[union-attr]
    # a balance that fell without a transfer is alerted in the next round
    chain.balances[watched[3]] -= 40_000
    clock.now += timedelta(seconds=3600)  # type: ignore[attr-defined]
    for _ in range(3):
        clock.now += timedelta(seconds=61)  # type: ignore[attr-defined]
        await engine.cycle()
    (drop,) = [a for a in engine.store.recent_alerts(10) if a.rule == "balance_drop"]
    assert drop.address == watched[3] and drop.amount == 40_000


async def test_batch_balances_through_the_client_equal_single_reads() -> None:
    from datetime import UTC, datetime

    from nemwatch.core.models import Network
    from nemwatch.core.nem.client import NisClient
    from nemwatch.sim.clock import ManualClock
    from nemwatch.sim.cluster import SimCluster
    from nemwatch.sim.scenario import ScenarioBuilder

    start = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
    b = ScenarioBuilder("batch-test", start, block_interval=60)
    b.account("hot", "hot_wallet", xem=10_000_000)
    b.account("user", "user", xem=5)
    b.transfer(30, "hot", "user", xem=1234)
    with SimCluster.start(b.build(), nodes=1, clock=ManualClock(start)) as sim:
        sim.advance(120)
        wanted = [sim.address("hot"), sim.address("user"), addresses(1)[0]]
        async with NisClient(sim.urls, Network.MAINNET) as client:
            batch = await client.accounts(wanted)
            single = [await client.account(a) for a in wanted]
        assert [(i.address, i.balance) for i in batch] == [(i.address, i.balance) for i in single]
        assert batch[1].balance == (5 + 1234) * 1_000_000 and batch[2].balance == 0
        assert sum(1 for r in sim.nodes[0].requests if r.path.startswith("/account/get/batch")) == 1


@dataclass
class PagedChain(FakeChain):
    pages_read: int = 0

    async def iter_transfers(self, address: str, direction: str = "all", *, page_size: int = 100,
                             max_pages: int | None = None, **_: object):  # type: ignore[no-untyped-def]
        history = self.history.get(address, [])
        for i, tx in enumerate(history):
            if i % page_size == 0:
                self.pages_read += 1
                if max_pages is not None and self.pages_read > max_pages:
                    return
            yield tx


async def test_backfill_keeps_to_its_pace_per_page(tmp_path: Path) -> None:
    chain = PagedChain(tip=5)
    chain.history[HOT] = [transfer(THIEF, HOT, i + 1, tag=str(i)) for i in range(250)]
    engine = make(tmp_path, chain, backfill_per_cycle=1, backfill_page_seconds=0.5)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    engine.task_sleep = sleep
    assert await engine.backfill(HOT, 5)
    assert chain.pages_read == 3 and slept == [0.5, 0.5, 0.5]  # after each page of 100, and the last
    assert engine.store.get_cursor(f"backfill:{HOT}") is not None


class ListSink:
    def __init__(self, name: str) -> None:
        self.name = name
        self.secrets: list[str] = []
        self.sent: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        self.sent.append(alert)

    async def aclose(self) -> None:
        return None


class StuckSink(ListSink):
    """A webhook that takes forever (30 s and more) per delivery."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.release = asyncio.Event()

    async def send(self, alert: Alert) -> None:
        await self.release.wait()
        self.sent.append(alert)


@dataclass
class StuckHistory(FakeChain):
    """A backfill that never ends (a history of thousands of pages), and slow pool reads."""

    backfills: int = 0

    async def transfers(self, address: str, direction: str = "all", **_: object) -> list[Transaction]:
        self.backfills += 1
        await asyncio.Event().wait()
        return []


async def test_an_alert_leaves_at_its_commit_past_a_stuck_sink_and_an_endless_backfill(tmp_path: Path) -> None:
    from nemwatch.core.tasks.runner import side_tasks
    from nemwatch.headless.delivery import Dispatcher

    chain = StuckHistory(tip=5)
    engine = make(tmp_path, chain, backfill_per_cycle=5, sinks=("fast", "slow"))
    fast, slow = ListSink("fast"), StuckSink("slow")
    dispatcher = Dispatcher(engine.store, {"fast": fast, "slow": slow}, clock=engine.clock)
    engine.delivery = dispatcher
    engine.tasks_apart = True
    stop = asyncio.Event()
    await engine.cycle()  # the head is known: the side tasks can start
    tasks = [asyncio.create_task(dispatcher.run(stop)), *(asyncio.create_task(t) for t in side_tasks(engine, stop))]
    try:
        for height in (6, 7):
            chain.txs[height] = [transfer(HOT, THIEF, height * 1_000_000)]
            chain.tip = height
            stats = await asyncio.wait_for(engine.cycle(), timeout=5)  # never waits for the others
            assert [a.amount for a in stats.alerts if a.rule == "outflow"] == [height * 1_000_000]
            for _ in range(50):
                if len(fast.sent) == height - 5:
                    break
                await asyncio.sleep(0.01)
            assert [a.amount for a in fast.sent] == [h * 1_000_000 for h in range(6, height + 1)]
        assert chain.backfills >= 1 and slow.sent == []  # both still stuck meanwhile
        slow.release.set()
        for _ in range(100):
            if len(slow.sent) == 2:
                break
            await asyncio.sleep(0.01)
        assert [a.amount for a in slow.sent] == [6_000_000, 7_000_000]
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_watched_address_added_mid_round_is_read_next_and_the_round_goes_on(tmp_path: Path) -> None:
    watched = addresses(26)
    first, late = watched[:25], watched[25]
    chain = BatchChain(tip=5, balances={a: 1_000_000 for a in watched})
    watch = {a: WatchRule(label=f"w{i}") for i, a in enumerate(first)}
    engine = make(tmp_path, chain, watch, balance_checks_per_cycle=10, balance_check_seconds=3600,
                  balance_pass_seconds=60)
    clock = engine.clock
    await engine.cycle()
    assert [len(b) for b in chain.batches] == [10]
    engine.watch.add(late, WatchRule(label="followed"))  # as the taint watch adds an account
    engine.watch_changed()
    clock.now += timedelta(seconds=61)  # type: ignore[attr-defined]
    await engine.cycle()
    assert chain.batches[1][0] == late  # read first in the next pass
    assert not set(chain.batches[1]) & set(chain.batches[0])  # the round went on, not over
    for _ in range(2):
        clock.now += timedelta(seconds=61)  # type: ignore[attr-defined]
        await engine.cycle()
    assert sorted(a for b in chain.batches for a in b) == sorted(watched)  # each once in the round
    # after the round, an address added is read at the next pass, not after balance_check_seconds
    extra = addresses(27)[26]
    chain.balances[extra] = 5
    engine.watch.add(extra, WatchRule(label="another"))
    engine.watch_changed()
    clock.now += timedelta(seconds=61)  # type: ignore[attr-defined]
    await engine.cycle()
    # one address: read alone, not in a batch
    assert engine.store.account(extra).balance == 5  # type: ignore[union-attr]
