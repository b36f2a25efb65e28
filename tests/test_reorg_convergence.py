"""Rollbacks converge: whatever the simulator's chain does to a transfer (drop it, re-include it
in the same cycle or cycles later, fork the very first block processed), the JSON lines a
receiver sees end on the chain's verdict once deduplicated by ``alert_id``."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.models import Network
from nemwatch.core.nem.client import NisClient
from nemwatch.core.retry import RetryPolicy
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.watchset import WatchSet
from nemwatch.headless.delivery import Dispatcher
from nemwatch.headless.sinks.stdout import StdoutSink
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.scenario import ScenarioBuilder

from simfixtures import VirtualTime

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
DAY = 24 * 3600  # NIS deadlines reach 24 h: a transaction rewritten hours back can still return


def tip_for(depth: int) -> int:
    """The chain's height when the fork comes: just deep enough (block h is mined at START +
    (h - 1) minutes), so the deep cases stay fast."""
    return depth + 12


@dataclass
class Watcher:
    """An engine on the simulator whose alerts reach a receiver as JSON lines (the stdout sink)."""

    sim: SimCluster
    engine: Engine
    out: io.StringIO

    @classmethod
    def start(cls, sim: SimCluster, tmp_path: Path) -> Watcher:
        vt = VirtualTime(sim)
        client = NisClient(
            sim.urls, Network.MAINNET, timeout=3.0, max_rps_per_node=20, burst=20,
            retry=RetryPolicy(attempts=3, backoff_base=0.01, backoff_max=0.05), clock=vt, sleep=vt.sleep,
        )
        store = Store.open(tmp_path / "state.sqlite3")
        out = io.StringIO()
        clock = sim.clock.now
        engine = Engine(
            source=client,
            store=store,
            watch=WatchSet({sim.address("hot"): WatchRule(label="hot")}),
            settings=EngineSettings(backfill_per_cycle=0, balance_checks_per_cycle=0),
            clock=clock,
            delivery=Dispatcher(store, {"stdout": StdoutSink(out)}, clock=clock),
        )
        return cls(sim, engine, out)

    async def catch_up(self) -> None:
        for _ in range(20):
            stats = await self.engine.cycle()
            if stats.cursor == self.sim.height:
                return
        raise AssertionError("the watcher did not catch up")

    async def blocks(self, n: int, *, per_cycle: int = 1) -> None:
        """Let ``n`` blocks come, ``per_cycle`` per watcher cycle."""
        for _ in range(0, n, per_cycle):
            self.sim.advance(60 * per_cycle)
            await self.engine.cycle()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.out.getvalue().splitlines()]

    def verdicts(self) -> dict[str, bool]:
        """What a receiver concludes: drop lines whose alert_id it already has, keep the last
        stage of each transaction's outflow; on-chain unless that stage is ``retracted``."""
        seen: set[str] = set()
        last: dict[str, str] = {}
        for alert in self.lines():
            if alert["alert_id"] in seen:
                continue
            seen.add(alert["alert_id"])
            if alert["rule"] == "outflow":
                last[alert["inner_hash"] or alert["tx_hash"]] = alert["stage"]
        return {identity: stage != "retracted" for identity, stage in last.items()}

    def stages(self, tx_hash: str) -> list[str]:
        return [a["stage"] for a in self.lines() if a["rule"] == "outflow" and a["tx_hash"] == tx_hash]

    def chain_verdicts(self) -> dict[str, bool]:
        """The chain's truth for every transfer the watcher alerted: is it in a block now?"""
        on_chain = {e.tx.hash for b in self.sim.chain.blocks for e in b.txs}
        alerted = {a["tx_hash"] for a in self.lines() if a["rule"] == "outflow"}
        return {h: h in on_chain for h in alerted}

    async def close(self) -> None:
        await self.engine.source.aclose()  # type: ignore[attr-defined]
        self.engine.store.close()


def _scenario(depth: int):  # type: ignore[no-untyped-def]
    tip = tip_for(depth)
    b = ScenarioBuilder("reorg-convergence", START, block_interval=60)
    b.account("hot", "hot_wallet", xem=1_000_000)
    b.account("thief", "thief")
    # in the first block the fork rewrites (block tip - depth + 1)
    b.transfer((tip - 1 - depth) * 60 + 10, "hot", "thief", xem=5, deadline_seconds=DAY)
    b.transfer((tip - 4 - depth) * 60 + 10, "hot", "thief", xem=6)  # two blocks below it: survives
    return b.build()


def _hot_hashes(sim: SimCluster) -> dict[int, str]:
    """Transfer amount (XEM) -> hash, from the chain as it is now."""
    return {e.tx.spec.xem // 1_000_000: e.tx.hash for b in sim.chain.blocks for e in b.txs if e.tx.spec is not None}


DEPTHS = [1, 5, 24, 100, 359]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("fate", ["dropped", "same cycle", "cycles later"])
async def test_the_receiver_ends_on_the_chains_verdict(tmp_path: Path, depth: int, fate: str) -> None:
    with SimCluster.start(_scenario(depth), nodes=1, clock=ManualClock(START)) as sim:
        w = Watcher.start(sim, tmp_path)
        await w.engine.cycle()
        tip = sim.mine_until(tip_for(depth))
        await w.catch_up()
        hashes = _hot_hashes(sim)
        moved, kept = hashes[5], hashes[6]
        before = w.stages(moved)
        assert before == (["confirmed", "settled"] if depth >= 20 else ["confirmed"])
        if fate == "dropped":
            sim.rollback(depth, "drop", hashes=[moved])
            await w.blocks(2, per_cycle=2)
        elif fate == "same cycle":
            # back one block later (above the old tip for depth 1): the cycle that sees the fork reads it
            sim.rollback(depth, "reinclude", hashes=[moved], reinclude_delay=1)
            await w.blocks(2, per_cycle=2)
            assert w.stages(moved) == before  # never off-chain: nothing to retract, nothing to repeat
        else:
            sim.rollback(depth, "reinclude", hashes=[moved], reinclude_delay=depth + 4)
            await w.blocks(2, per_cycle=2)
            assert w.stages(moved) == [*before, "retracted"]  # gone from the chain the nodes serve
            await w.blocks(4)  # ... and back, cycles later
            assert w.stages(moved)[-1] == "confirmed"
        await w.blocks(24, per_cycle=4)  # long enough for the re-inclusion to settle
        assert w.verdicts() == w.chain_verdicts()
        assert w.verdicts()[kept] is True
        assert w.verdicts()[moved] is (fate != "dropped")
        if fate == "cycles later":
            assert w.stages(moved) == [*before, "retracted", "confirmed", "settled"]
            again = [a for a in w.lines() if a["tx_hash"] == moved][len(before) + 1 :]
            assert all(a["inclusion"] == 2 and "inclusion 2" in a["summary"] for a in again)
            assert again[0]["height"] == tip + 5  # the height of the re-inclusion
        ids = [a["alert_id"] for a in w.lines()]
        assert len(ids) == len(set(ids))  # each line is news to the receiver
        assert w.engine.store.integrity_check() == "ok"
        await w.close()


async def test_two_forks_retract_and_reinclude_twice(tmp_path: Path) -> None:
    with SimCluster.start(_scenario(5), nodes=1, clock=ManualClock(START)) as sim:
        w = Watcher.start(sim, tmp_path)
        await w.engine.cycle()
        sim.mine_until(tip_for(5))
        await w.catch_up()
        moved = _hot_hashes(sim)[5]
        for _ in range(2):
            tip = sim.height
            height = next(b.height for b in sim.chain.blocks if any(e.tx.hash == moved for e in b.txs))
            sim.rollback(tip - height + 1, "reinclude", hashes=[moved], reinclude_delay=tip - height + 4)
            await w.blocks(2, per_cycle=2)
            await w.blocks(4)
        await w.blocks(24, per_cycle=4)
        assert w.stages(moved) == ["confirmed", "retracted", "confirmed", "retracted", "confirmed", "settled"]
        inclusions = [a.get("inclusion", 1) for a in w.lines() if a["tx_hash"] == moved]
        assert inclusions == [1, 1, 2, 2, 3, 3]
        assert w.verdicts() == w.chain_verdicts() and w.verdicts()[moved] is True
        await w.close()


@pytest.mark.parametrize("depth", [1, 2, 6])
async def test_a_fork_of_the_first_processed_block_does_not_wedge(tmp_path: Path, depth: int) -> None:
    """Started at the tip, the very next block (and, deeper, the start block and below) is
    rewritten: the watcher walks back, retracts, goes on following and says so."""
    b = ScenarioBuilder("first-block-fork", START, block_interval=60)
    b.account("hot", "hot_wallet", xem=1_000_000)
    b.account("thief", "thief")
    b.transfer(50 * 60 + 10, "hot", "thief", xem=7)  # mined in block 52
    b.transfer(60 * 60 + 10, "hot", "thief", xem=8)  # mined in block 62, after the fork
    with SimCluster.start(b.build(), nodes=1, clock=ManualClock(START)) as sim:
        sim.advance(50 * 60 + 30)  # height 51: the watcher starts here
        w = Watcher.start(sim, tmp_path)
        assert (await w.engine.cycle()).cursor == 51
        sim.advance(60)
        await w.engine.cycle()  # block 52: the first one processed
        first = _hot_hashes(sim)[7]
        assert w.stages(first) == ["confirmed"]
        sim.rollback(depth, "drop", hashes=[first])
        for _ in range(12):  # every cycle succeeds: nothing wedges
            sim.advance(60)
            stats = await w.engine.cycle()
            assert stats.cursor == sim.height
        assert w.stages(first) == ["confirmed", "retracted"]
        assert w.verdicts() == w.chain_verdicts()
        assert w.verdicts()[_hot_hashes(sim)[8]] is True  # later outflows still alerted
        forks = [a for a in w.lines() if a["rule"] == "node" and a.get("kind") == "deep_fork"]
        if depth == 1:
            assert forks == []  # the start block is kept: an ordinary one-block fork
        else:
            (fork,) = forks
            assert fork["stage"] == "firing" and fork["retracted"] == 1
            assert fork["ancestor_exact"] is (depth == 2)
            assert "DEEP FORK" in fork["summary"]
        await w.close()
