"""Catching up far behind the head against the simulator, through the real client: the same
alerts as the two-copy path, blocks-after where nodes serve it and one block a request where
they refuse it, forged segments and rollbacks."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from simfixtures import VirtualTime, compiled_small, start_cluster

from nemwatch.core.alert import Alert
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.models import Network
from nemwatch.core.nem import blocksafter
from nemwatch.core.nem.client import NisClient
from nemwatch.core.nem.nisjson import ParseError
from nemwatch.core.retry import RetryPolicy
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.watchset import WatchSet
from nemwatch.sim.cluster import SimCluster

BEHIND_SECONDS = 150 * 60  # the chain moves 150 blocks while the watcher is away


def build(sim: SimCluster, path: Path, **settings: Any) -> tuple[Engine, NisClient, list[Alert]]:
    vt = VirtualTime(sim)
    client = NisClient(
        sim.urls, Network.MAINNET, timeout=3.0, max_rps_per_node=20, burst=20,
        retry=RetryPolicy(attempts=2, backoff_base=0.01, backoff_max=0.05), clock=vt, sleep=vt.sleep,
    )
    engine = Engine(
        source=client,
        store=Store.open(path),
        watch=WatchSet({
            sim.address("hot"): WatchRule(label="hot wallet"),
            sim.address("thief"): WatchRule(label="thief"),
        }),
        settings=EngineSettings(backfill_per_cycle=0, balance_checks_per_cycle=0, **settings),
        clock=lambda: sim.clock.now(),
    )
    seen: list[Alert] = []
    engine.subscribe(lambda e: seen.append(e.alert) if hasattr(e, "alert") else None)
    return engine, client, seen


async def to_head(sim: SimCluster, engine: Engine, cycles: int = 30) -> int:
    done = 0
    while engine.store.get_cursor("chain").height < sim.height and done < cycles:  # type: ignore[union-attr]
        await engine.cycle()
        done += 1
    return done


def lines(seen: list[Alert]) -> list[str]:
    return [alert.to_json_line() for alert in seen]


def reads(sim: SimCluster, path: str) -> list[int]:
    return [sum(1 for r in node.requests if r.path.startswith(path)) for node in sim.nodes]


async def run_once(tmp_path: Path, name: str, *, fast: bool, public: bool = False, between: Any = None,
                   behind: int = BEHIND_SECONDS) -> tuple[list[str], SimCluster, Engine, NisClient]:
    """Start at the scenario's start, fall ``behind`` seconds behind, catch up (``between``
    runs after the first catch-up, then the chain moves again and the watcher catches up)."""
    sim = start_cluster(compiled_small(), nodes=3, public=public)
    engine, client, seen = build(sim, tmp_path / f"{name}.sqlite3", catchup_after_blocks=8 if fast else 0)
    await engine.cycle()
    sim.advance(behind)
    await to_head(sim, engine)
    if between is not None:
        between(sim)
        sim.advance(BEHIND_SECONDS)
        await to_head(sim, engine)
    return lines(seen), sim, engine, client


async def test_a_catch_up_raises_the_same_alert_lines_as_two_copies_a_block(tmp_path: Path) -> None:
    slow, sim_slow, _, c1 = await run_once(tmp_path, "slow", fast=False)
    fast, sim_fast, engine, c2 = await run_once(tmp_path, "fast", fast=True)
    public, sim_public, _, c3 = await run_once(tmp_path, "public", fast=True, public=True)
    try:
        assert len(slow) > 100  # outflows and inflows, confirmed and settled
        assert fast == slow
        assert public == slow
        slow_reads = sum(reads(sim_slow, "/block/at/public"))
        fast_reads = sum(reads(sim_fast, "/block/at/public")) + sum(reads(sim_fast, "/local/chain/blocks-after"))
        assert fast_reads * 5 < slow_reads  # ten blocks a request, one copy each
        public_reads = sum(reads(sim_public, "/block/at/public"))
        assert public_reads < 0.7 * slow_reads  # one copy a block
        assert engine.catchup.requests > 0
    finally:
        for sim, client in ((sim_slow, c1), (sim_fast, c2), (sim_public, c3)):
            await client.aclose()
            sim.stop()


async def test_a_node_refusing_blocks_after_is_probed_once_then_read_one_block_a_request(tmp_path: Path) -> None:
    sim = start_cluster(compiled_small(), nodes=3)
    sim.nodes[1].faults.public()  # this node acts as a public one: 401 on /local/*
    try:
        engine, client, _ = build(sim, tmp_path / "state.sqlite3")
        await engine.cycle()
        sim.advance(BEHIND_SECONDS)
        await to_head(sim, engine)
        sim.advance(30 * 60)  # within the hour the refusal is remembered
        await to_head(sim, engine)
        assert engine.store.get_cursor("chain").height == sim.height  # type: ignore[union-attr]
        bulk = reads(sim, "/local/chain/blocks-after")
        assert bulk[1] == 1  # one probe, refused and remembered across the two catch-ups
        assert bulk[0] > 3 and bulk[2] > 3
        assert [r.status for r in sim.nodes[1].requests if r.path.startswith("/local/")] == [401]
        assert reads(sim, "/block/at/public")[1] > 3  # its share, one block a request
        assert client.serves_blocks_after(sim.urls[1]) is False
        assert client.serves_blocks_after(sim.urls[0]) is None
        await client.aclose()
    finally:
        sim.stop()


async def test_a_node_on_a_chain_of_its_own_is_named_and_its_segment_never_committed(tmp_path: Path) -> None:
    sim = start_cluster(compiled_small(), nodes=3)
    try:
        engine, client, seen = build(sim, tmp_path / "state.sqlite3")
        await engine.cycle()
        start = engine.store.get_cursor("chain").height  # type: ignore[union-attr]
        sim.advance(BEHIND_SECONDS)
        forger = sim.nodes[2]
        forger.fork()  # from now on its own chain: the last 60 blocks rewritten, linked within
        report = forger.chain.rollback(60, "drop")
        assert report.old_block_hashes != report.new_block_hashes
        await to_head(sim, engine)
        real = sim.nodes[0].chain
        tip = engine.store.get_cursor("chain").height  # type: ignore[union-attr]
        assert tip == sim.height
        assert all(engine.chain.refs[h].hash == real.block(h).hash for h in range(start + 1, tip + 1))
        named = {a.node for a in seen if a.rule == "node" and dict(a.extra).get("kind") == "dissent"}
        assert named == {sim.urls[2]}
        assert not any(a.stage.value == "retracted" for a in seen)
        await client.aclose()
    finally:
        sim.stop()


async def test_a_rollback_between_two_catch_ups_raises_the_slow_paths_lines(tmp_path: Path) -> None:
    def rewrite(sim: SimCluster) -> None:
        sim.rollback(6, "drop")  # the last blocks the watcher committed vanish, with their transfers

    # 30 blocks behind first (the transfers of the scenario are then in the last blocks)
    slow, s1, _, c1 = await run_once(tmp_path, "slow", fast=False, between=rewrite, behind=30 * 60)
    fast, s2, _, c2 = await run_once(tmp_path, "fast", fast=True, between=rewrite, behind=30 * 60)
    try:
        assert any(json.loads(line)["stage"] == "retracted" for line in slow)
        assert fast == slow
    finally:
        for sim, client in ((s1, c1), (s2, c2)):
            await client.aclose()
            sim.stop()


async def test_a_rollback_while_the_range_is_read_ends_on_the_chains_verdict(tmp_path: Path) -> None:
    sim = start_cluster(compiled_small(), nodes=3)
    try:
        engine, client, seen = build(sim, tmp_path / "state.sqlite3")
        await engine.cycle()
        start = engine.store.get_cursor("chain").height  # type: ignore[union-attr]
        sim.advance(BEHIND_SECONDS)
        real_blocks_after = client.blocks_after
        calls = 0

        async def rolling(height: int, **kw: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 6:  # mid-range: the chain's last 40 blocks are rewritten under the reader
                sim.rollback(40, "reinclude")
            return await real_blocks_after(height, **kw)

        client.blocks_after = rolling  # type: ignore[method-assign]
        await to_head(sim, engine)
        tip = engine.store.get_cursor("chain").height  # type: ignore[union-attr]
        assert calls > 6 and tip == sim.height
        chain = sim.nodes[0].chain
        assert all(engine.chain.refs[h].hash == chain.block(h).hash for h in range(start + 1, tip + 1))
        on_chain = {e.tx.built.inner_hash or e.tx.built.hash
                    for h in range(start + 1, tip + 1) for e in chain.block(h).txs}
        stored = {row.identity for row in engine.store.transfers_from(start + 1)}
        assert stored == on_chain  # every transfer of the final chain, nothing of the old branch
        await client.aclose()
    finally:
        sim.stop()


def test_blocks_after_refuses_a_hash_that_is_not_the_blocks() -> None:
    sim = start_cluster(compiled_small(), nodes=1)
    try:
        sim.advance(600)
        answer = sim.nodes[0].api.handle("POST", "/local/chain/blocks-after", "", b'{"height": 1002}')
        assert answer.status == 200 and len(answer.body["data"]) == 8
        blocks = blocksafter.parse_blocks_after(answer.body, 1002)
        assert [b.height for b in blocks] == list(range(1003, 1011))
        assert all(b.prev_block_hash == a.hash for a, b in zip(blocks, blocks[1:]))
        bad = copy.deepcopy(answer.body)
        bad["data"][3]["hash"] = "00" * 32
        with pytest.raises(ParseError, match="block 1006"):
            blocksafter.parse_blocks_after(bad, 1002)
        shifted = copy.deepcopy(answer.body)
        del shifted["data"][2]  # a gap: the next block is not the next height
        with pytest.raises(ParseError):
            blocksafter.parse_blocks_after(shifted, 1002)
        sim.nodes[0].api.public = True
        refused = sim.nodes[0].api.handle("POST", "/local/chain/blocks-after", "", b'{"height": 1002}')
        assert refused.status == 401
    finally:
        sim.stop()
