"""No single node decides what happened: forged blocks, split nodes and a height lie, end to end
against the simulator through the real client."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from nemwatch.core.alert import Alert, Stage
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.models import Network
from nemwatch.core.nem.client import NisClient
from nemwatch.core.retry import RetryPolicy
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.watchset import WatchSet
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.forge import Invented
from nemwatch.sim.scenario import ScenarioBuilder

from simfixtures import VirtualTime

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
OUT_AT = (300, 600, 900)  # seconds after the start: three outflows of the hot wallet


def scenario():  # type: ignore[no-untyped-def]
    b = ScenarioBuilder("agreement-test", START, block_interval=60)
    b.account("hot", "hot_wallet", xem=10_000_000)
    b.account("thief", "thief")
    for i, at in enumerate(OUT_AT):
        b.transfer(at, "hot", "thief", xem=1000 + i)
    return b.build()


def engine_for(sim: SimCluster, tmp_path: Path) -> tuple[Engine, list[Alert]]:
    vt = VirtualTime(sim)
    client = NisClient(
        sim.urls, Network.MAINNET, timeout=3.0, max_rps_per_node=20, burst=20,
        retry=RetryPolicy(attempts=2, backoff_base=0.01, backoff_max=0.05), clock=vt, sleep=vt.sleep,
    )
    engine = Engine(
        source=client,
        store=Store.open(tmp_path / "state.sqlite3"),
        watch=WatchSet({sim.address("hot"): WatchRule(label="hot wallet")}),
        settings=EngineSettings(backfill_per_cycle=0, balance_checks_per_cycle=0),
        clock=lambda: sim.clock.now(),
    )
    seen: list[Alert] = []
    engine.subscribe(lambda e: seen.append(e.alert) if hasattr(e, "alert") else None)
    return engine, seen


def height_of(sim: SimCluster, at_seconds: int) -> int:
    """The height of the block that includes a transfer made ``at_seconds`` after the start."""
    return sim.chain.start_height + at_seconds // 60 + 1


def tx_hash_at(sim: SimCluster, height: int) -> str:
    (entry,) = [e for e in sim.chain.block(height).txs if e.tx.built.xem >= 1000 * 1_000_000]
    return entry.tx.built.hash


def outflows(alerts: list[Alert], stage: Stage) -> list[tuple[int | None, str | None]]:
    return sorted((a.amount, a.tx_hash) for a in alerts if a.rule == "outflow" and a.stage is stage)


async def follow(sim: SimCluster, engine: Engine, seconds: int, step: int = 30) -> None:
    for _ in range(seconds // step):
        sim.advance(step)
        await engine.cycle()


async def test_a_forged_outflow_is_never_alerted_and_the_forger_is_named(tmp_path: Path) -> None:
    with SimCluster.start(scenario(), nodes=3, clock=ManualClock(START)) as sim:
        engine, seen = engine_for(sim, tmp_path)
        await engine.cycle()
        forger = sim.nodes[0]  # the first healthy node: the one read first
        target = height_of(sim, 450)  # a block with no real outflow
        invented = Invented(sim.compiled.keys["hot"].public_key, sim.address("thief"), 5_000_000 * 1_000_000)
        forger.faults.forge(target, invent=[invented])
        await follow(sim, engine, 1200)
        real = {(1000 + i) * 1_000_000 for i in range(len(OUT_AT))}
        assert {amount for amount, _ in outflows(seen, Stage.CONFIRMED)} == real
        assert all(a.amount in real for a in seen if a.rule == "outflow")  # at no stage
        (dissent,) = [a for a in seen if a.rule == "node"]
        assert dissent.node == forger.url and dissent.height == target
        assert "not valid" in dissent.summary
        cursor = engine.store.get_cursor("chain")
        assert cursor is not None and cursor.height == sim.height
        assert engine.store.recent_blocks()[-1].height == sim.height
        await engine.source.aclose()  # type: ignore[attr-defined]


async def test_a_hidden_outflow_is_alerted_from_the_honest_nodes(tmp_path: Path) -> None:
    with SimCluster.start(scenario(), nodes=3, clock=ManualClock(START)) as sim:
        engine, seen = engine_for(sim, tmp_path)
        await engine.cycle()
        target = height_of(sim, OUT_AT[0])
        sim.mine_until(target)
        hidden = tx_hash_at(sim, target)
        sim.nodes[0].faults.forge(target, hide=[hidden])  # a valid block of its own, the outflow left out
        await engine.cycle()
        await follow(sim, engine, 300)
        confirmed = outflows(seen, Stage.CONFIRMED)
        assert (1000 * 1_000_000, hidden) in confirmed
        (dissent,) = [a for a in seen if a.rule == "node"]
        assert dissent.node == sim.nodes[0].url and dissent.height == target
        assert "differs from the block" in dissent.summary and "2 other node(s)" in dissent.summary
        # the committed header is the majority's, not the forger's
        row = next(r for r in engine.store.recent_blocks() if r.height == target)
        assert row.signature == sim.chain.block(target).signature
        await engine.source.aclose()  # type: ignore[attr-defined]


async def test_two_nodes_that_disagree_commit_nothing_but_alert_what_verifies(tmp_path: Path) -> None:
    with SimCluster.start(scenario(), nodes=2, clock=ManualClock(START)) as sim:
        engine, seen = engine_for(sim, tmp_path)
        await engine.cycle()
        target = height_of(sim, OUT_AT[0])
        sim.mine_until(target)
        hidden = tx_hash_at(sim, target)
        sim.nodes[1].faults.forge(target, hide=[hidden])
        for _ in range(3):  # the split lasts: nothing is committed at that height, no duplicates
            await engine.cycle()
            sim.advance(20)
        cursor = engine.store.get_cursor("chain")
        assert cursor is not None and cursor.height == target - 1
        # the outflow only one node shows verifies: alerted early, as unconfirmed
        assert outflows(seen, Stage.UNCONFIRMED) == [(1000 * 1_000_000, hidden)]
        assert outflows(seen, Stage.CONFIRMED) == []
        dissent = sorted(a.node or "" for a in seen if a.rule == "node")
        assert dissent == sorted(sim.urls)  # a split: neither node's word is taken
        sim.nodes[1].faults.clear("forge")
        await engine.cycle()
        assert outflows(seen, Stage.CONFIRMED) == [(1000 * 1_000_000, hidden)]
        assert engine.store.get_cursor("chain").height == sim.height  # type: ignore[union-attr]
        await engine.source.aclose()  # type: ignore[attr-defined]


async def test_a_height_lie_of_the_only_node_neither_blinds_nor_inflates(tmp_path: Path) -> None:
    with SimCluster.start(scenario(), nodes=1, clock=ManualClock(START)) as sim:
        engine, seen = engine_for(sim, tmp_path)
        await engine.cycle()
        sim.mine_until(height_of(sim, OUT_AT[0]) - 1)
        await engine.cycle()
        node = sim.nodes[0]
        node.faults.lie(1000)
        lie_cycles = []
        for _ in range(3):  # 15 s of lies at 5 s polls; the first outflow's block comes meanwhile
            sim.advance(5)
            lie_cycles.append(await engine.cycle())
        sim.mine_until(height_of(sim, OUT_AT[0]))
        during = await engine.cycle()
        node.faults.clear("lie")
        await follow(sim, engine, 660, step=5)
        # the outflow mined during the lie is alerted in the cycle after its block, with 1 confirmation
        (first,) = [a for a in during.alerts if a.rule == "outflow"]
        assert first.amount == 1000 * 1_000_000 and first.confirmations == 1
        assert all(s.head is not None and s.head <= sim.height for s in [*lie_cycles, during])
        # and the follower went on: every outflow, each with a plausible confirmation count
        confirmed = [a for a in seen if a.rule == "outflow" and a.stage is Stage.CONFIRMED]
        assert sorted(a.amount for a in confirmed) == [(1000 + i) * 1_000_000 for i in range(len(OUT_AT))]
        assert all(a.confirmations is not None and a.confirmations <= 2 for a in confirmed)
        assert engine.store.get_cursor("chain").height == sim.height  # type: ignore[union-attr]
        # the node was in trouble while it lied, and recovered
        assert [(a.stage.value, a.node) for a in seen if a.rule == "node"] == [
            ("firing", node.url), ("resolved", node.url)
        ]
        assert not [a for a in seen if a.rule == "outflow" and a.stage is Stage.SETTLED]
        await engine.source.aclose()  # type: ignore[attr-defined]
