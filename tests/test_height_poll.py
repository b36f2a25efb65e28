"""One node is polled for the height; the others are asked only when its answer changes, and the
head protections (majority, lying and stuck nodes) still hold. Against three simulated nodes
through the real client, requests counted at the nodes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from nemwatch.core.alert import Alert, Stage
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.head import NodeState
from nemwatch.core.models import Network
from nemwatch.core.nem.client import NisClient
from nemwatch.core.retry import RetryPolicy
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.watchset import WatchSet
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.scenario import ScenarioBuilder

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)


def scenario():  # type: ignore[no-untyped-def]
    b = ScenarioBuilder("height-poll-test", START, block_interval=60)
    b.account("hot", "hot_wallet", xem=10_000_000)
    b.account("thief", "thief")
    b.transfer(150, "hot", "thief", xem=1000)
    return b.build()


def engine_for(sim: SimCluster, tmp_path: Path, **settings: object) -> tuple[Engine, list[Alert]]:
    client = NisClient(
        sim.urls, Network.MAINNET, timeout=3.0, max_rps_per_node=20, burst=20,
        retry=RetryPolicy(attempts=2, backoff_base=0.01, backoff_max=0.05),
    )
    engine = Engine(
        source=client,
        store=Store.open(tmp_path / "state.sqlite3"),
        watch=WatchSet({sim.address("hot"): WatchRule(label="hot wallet")}),
        settings=EngineSettings(backfill_per_cycle=0, balance_checks_per_cycle=0, **settings),  # type: ignore[arg-type]
        clock=lambda: sim.clock.now(),
    )
    seen: list[Alert] = []
    engine.subscribe(lambda e: seen.append(e.alert) if hasattr(e, "alert") else None)
    return engine, seen


def heights_asked(sim: SimCluster) -> list[int]:
    """/chain/height requests per node since the last call (and forget them)."""
    out = [sum(1 for r in node.requests if r.path.startswith("/chain/height")) for node in sim.nodes]
    for node in sim.nodes:
        node.clear_requests()
    return out


async def test_between_blocks_one_node_is_asked_and_a_new_block_asks_the_others(tmp_path: Path) -> None:
    with SimCluster.start(scenario(), nodes=3, clock=ManualClock(START)) as sim:
        engine, seen = engine_for(sim, tmp_path)
        await engine.cycle()
        assert heights_asked(sim) == [1, 1, 1]  # the first decision hears every node
        for _ in range(5):  # no new block: only the primary is asked
            sim.advance(5)
            stats = await engine.cycle()
            assert stats.head == sim.height and stats.blocks == 0
        assert sorted(heights_asked(sim)) == [0, 0, 5]
        sim.advance(60)  # a new block: the primary's answer changed, the others are asked
        stats = await engine.cycle()
        assert stats.blocks >= 1 and stats.head == sim.height
        assert heights_asked(sim) == [1, 1, 1]
        sim.advance(120)  # the transfer's block: alerted through the two-node agreement
        await engine.cycle()
        assert [a.amount for a in seen if a.rule == "outflow" and a.stage is Stage.CONFIRMED] == [1000 * 1_000_000]
        await engine.source.aclose()  # type: ignore[attr-defined]


async def test_a_lying_primary_is_outvoted_and_replaced(tmp_path: Path) -> None:
    with SimCluster.start(scenario(), nodes=3, clock=ManualClock(START)) as sim:
        engine, seen = engine_for(sim, tmp_path)
        await engine.cycle()
        primary = engine.heightpoll.primary
        assert primary is not None
        liar = next(node for node in sim.nodes if node.url == primary)
        liar.faults.lie(1000)
        for _ in range(4):
            sim.advance(60)
            stats = await engine.cycle()
            assert stats.head is not None and stats.head <= sim.height  # never the lie
        assert engine.heightpoll.primary != primary  # another node is asked alone now
        verdict = {v.url: v.state for v in engine._verdicts}
        assert verdict[primary] is NodeState.LYING
        assert any(a.rule == "node" and a.node == primary for a in seen)
        cursor = engine.store.get_cursor("chain")
        assert cursor is not None and cursor.height == sim.height
        await engine.source.aclose()  # type: ignore[attr-defined]


async def test_a_stuck_primary_is_noticed_within_the_full_poll_interval(tmp_path: Path) -> None:
    with SimCluster.start(scenario(), nodes=3, clock=ManualClock(START)) as sim:
        engine, _ = engine_for(sim, tmp_path, full_height_poll_seconds=60.0)
        await engine.cycle()
        primary = engine.heightpoll.primary
        stuck = next(node for node in sim.nodes if node.url == primary)
        stuck.faults.freeze(sim.height)
        frozen_at = sim.height
        sim.advance(65)  # a block the stuck primary does not report
        await engine.cycle()  # full poll due (60 s): every node asked, the head moves on
        cursor = engine.store.get_cursor("chain")
        assert sim.height > frozen_at and cursor is not None and cursor.height == sim.height
        await engine.cycle()
        assert engine.heightpoll.primary != primary
        await engine.source.aclose()  # type: ignore[attr-defined]


async def test_zero_means_every_node_every_poll(tmp_path: Path) -> None:
    with SimCluster.start(scenario(), nodes=3, clock=ManualClock(START)) as sim:
        engine, _ = engine_for(sim, tmp_path, full_height_poll_seconds=0.0)
        for _ in range(3):
            await engine.cycle()
            sim.advance(5)
        assert heights_asked(sim) == [3, 3, 3]
        await engine.source.aclose()  # type: ignore[attr-defined]
