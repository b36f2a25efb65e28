"""The catch-up fast path's rules with in-memory chains: the hash chain (pure), and nodes that
serve blocks that do not link or a chain of their own (adversarial fakes)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fakechain import FakeChain, h, transfer

from nemwatch.core.alert import Alert, Stage
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.hashchain import HashChain, link_fault
from nemwatch.core.models import Block
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.watchset import WatchSet

HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
A, B, C = "http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"
QUIET = {"backfill_per_cycle": 0, "balance_checks_per_cycle": 0}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2018, 1, 26, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


# --- the hash chain, pure ----------------------------------------------------------------------


def chain_blocks(first: int, last: int, tag: str = "") -> list[Block]:
    fake = FakeChain(tip=last, branch={first: tag} if tag else {})
    return [fake.block(height) for height in range(first, last + 1)]


def test_a_block_is_endorsed_once_a_second_node_served_a_linked_block_at_or_above_it() -> None:
    base = FakeChain(tip=10).block(10)
    chain = HashChain(10, base.hash or "", need=2)
    blocks = chain_blocks(11, 20)
    chain.add(A, blocks[:5])  # 11-15 from A alone: its word only
    assert (chain.linked_top, chain.endorsed()) == (15, 10)
    chain.add(B, blocks[7:])  # 18-20 from B: not linked yet (16, 17 missing)
    assert (chain.linked_top, chain.endorsed()) == (15, 10)
    chain.add(A, blocks[5:7])  # 16-17: B's 18 now names A's 17, so B vouches for 11-17
    assert (chain.linked_top, chain.endorsed()) == (20, 17)
    assert not chain.confirm(C, chain_blocks(20, 20, "other")[0])  # another block 20: no
    assert chain.endorsed() == 17
    assert chain.confirm(C, blocks[-1])  # the same block 20 from C: everything is vouched for
    assert chain.endorsed() == 20
    taken = chain.take(20)
    assert [c.height for c in taken] == list(range(11, 21)) and chain.base == 20
    assert chain.base_hash == blocks[-1].hash


def test_a_copy_that_does_not_link_breaks_the_chain_and_nothing_above_it_is_endorsed() -> None:
    base = FakeChain(tip=10).block(10)
    chain = HashChain(10, base.hash or "", need=2)
    honest = chain_blocks(11, 20)
    forged = chain_blocks(15, 20, "forged")  # C's own chain from 15: linked within, not to 14
    liar = [replace(b, prev_block_hash=h("nothing"), hash=h("liar", b.height)) for b in forged]
    chain.add(A, honest[:4])  # 11-14
    chain.add(C, liar[:3])  # 15-17: 15 names another block 14
    assert chain.broken is not None
    assert (chain.broken.height, chain.broken.node, chain.broken.below) == (15, C, A)
    chain.add(B, honest[4:])  # nothing links past the break
    assert (chain.linked_top, chain.endorsed()) == (14, 10)  # A alone vouches for 11-14


def test_one_healthy_node_is_taken_on_its_word_and_an_unknown_hash_never_links() -> None:
    base = FakeChain(tip=10).block(10)
    chain = HashChain(10, base.hash or "", need=1)
    blocks = chain_blocks(11, 13)
    chain.add(A, blocks)
    assert chain.endorsed() == 13
    assert "cannot be computed" in link_fault(replace(blocks[0], hash=None), base.hash or "")
    assert "names" in link_fault(blocks[1], base.hash or "")
    assert link_fault(blocks[0], base.hash or "") == ""


# --- adversarial nodes against the engine ------------------------------------------------------


class Liars(FakeChain):
    """``unlinked``: node -> from this height on, every block it serves names a parent that
    does not exist. ``own_chain``: node -> from this height on it serves a chain of its own,
    linked within and to the real block below (a forged segment)."""

    def __init__(self, *, unlinked: dict[str, int] | None = None, own_chain: dict[str, int] | None = None,
                 **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.unlinked = unlinked or {}
        self.own_chain = own_chain or {}
        self.asked: list[tuple[str, int]] = []

    async def block_at(self, height: int, *, node: str | None = None) -> Block:
        await asyncio.sleep(0)  # as a real request does: the other nodes' reads go on meanwhile
        block = await super().block_at(height, node=node)
        served_by = node or self.nodes[0]
        self.asked.append((served_by, height))
        if height >= self.unlinked.get(served_by, height + 1):
            return replace(block, prev_block_hash=h("no such block", height), hash=h("unlinked", height))
        if height >= self.own_chain.get(served_by, height + 1):
            fork = FakeChain(tip=self.tip, txs={}, branch={self.own_chain[served_by]: "own"})
            return fork.block(height)  # the watched transfers left out, its own hashes
        return block


def engine_for(tmp_path: Path, chain: FakeChain, **settings: object) -> tuple[Engine, list[Alert]]:
    engine = Engine(
        source=chain,
        store=Store.open(tmp_path / "state.sqlite3"),
        watch=WatchSet({HOT: WatchRule(label="hot wallet")}),
        settings=EngineSettings(**{**QUIET, **settings}),  # type: ignore[arg-type]
        clock=Clock(),
    )
    seen: list[Alert] = []
    engine.subscribe(lambda e: seen.append(e.alert) if hasattr(e, "alert") else None)
    return engine, seen


def stored_hashes(engine: Engine, first: int, last: int) -> dict[int, str | None]:
    return {height: engine.chain.refs[height].hash for height in range(first, last + 1)}


def dissenters(alerts: list[Alert]) -> set[str | None]:
    return {a.node for a in alerts if a.rule == "node" and dict(a.extra).get("kind") == "dissent"}


async def catch_up(engine: Engine, chain: FakeChain, tip: int) -> None:
    chain.tip = tip
    for _ in range(20):
        await engine.cycle()
        cursor = engine.store.get_cursor("chain")
        if cursor is not None and cursor.height >= tip:
            return


def with_outflows() -> dict[int, list]:
    return {height: [transfer(HOT, THIEF, 1_000_000 + height, tag=str(height))] for height in range(12, 120, 7)}


async def test_a_node_serving_blocks_that_do_not_link_is_named_and_never_believed(tmp_path: Path) -> None:
    chain = Liars(unlinked={C: 40}, tip=10, nodes=(A, B, C), txs=with_outflows())
    engine, seen = engine_for(tmp_path, chain)
    await engine.cycle()
    await catch_up(engine, chain, 120)
    honest = FakeChain(tip=120)
    assert stored_hashes(engine, 11, 120) == {height: honest.block(height).hash for height in range(11, 121)}
    assert dissenters(seen) == {C}  # named as the two-copy reading names a dissenter
    confirmed = [a.tx_hash for a in seen if a.rule == "outflow" and a.stage is Stage.CONFIRMED]
    assert sorted(confirmed) == sorted(t.hash for ts in with_outflows().values() for t in ts)
    assert len(chain.reads) < 2 * (120 - 10)  # fewer reads than two copies a block: the fast path did the bulk


async def test_a_forged_segment_is_not_committed_on_its_word(tmp_path: Path) -> None:
    chain = Liars(own_chain={C: 60}, tip=10, nodes=(A, B, C), txs=with_outflows())
    engine, seen = engine_for(tmp_path, chain)
    await engine.cycle()
    await catch_up(engine, chain, 120)
    honest = FakeChain(tip=120)
    assert stored_hashes(engine, 11, 120) == {height: honest.block(height).hash for height in range(11, 121)}
    assert dissenters(seen) == {C}
    assert not any(a.rule == "outflow" and a.stage is Stage.RETRACTED for a in seen)
    confirmed = [a.tx_hash for a in seen if a.rule == "outflow" and a.stage is Stage.CONFIRMED]
    assert sorted(confirmed) == sorted(t.hash for ts in with_outflows().values() for t in ts)


async def test_with_two_nodes_a_forged_segment_stops_the_follower_below_it(tmp_path: Path) -> None:
    chain = Liars(own_chain={C: 60}, tip=10, nodes=(A, C), txs=with_outflows())
    engine, seen = engine_for(tmp_path, chain)
    await engine.cycle()
    await catch_up(engine, chain, 120)
    cursor = engine.store.get_cursor("chain")
    assert cursor is not None and cursor.height == 59  # one against one: nothing at 60 is believed
    honest = FakeChain(tip=59)
    assert stored_hashes(engine, 11, 59) == {height: honest.block(height).hash for height in range(11, 60)}
    assert dissenters(seen) == {A, C}  # the split is reported: each names the other's block
