"""The simulated chain: lazy blocks, the prevBlockHash chain, rollbacks, capacity, shared nodes."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from simfixtures import START, START_HEIGHT, compiled_small, get, http, sim, start_cluster  # noqa: F401

from nemwatch.core.nem import txhash
from nemwatch.sim import Chain, ManualClock, ScenarioBuilder, SimCluster, TransferSpec, compile_scenario


def chain_of(compiled=None, start=START) -> Chain:  # noqa: ANN001
    return Chain(compiled or compiled_small(), ManualClock(start))


def assert_linked(chain: Chain) -> None:
    """Each block's prevBlockHash is the hash of the block below; each signature verifies."""
    for below, above in zip(chain.blocks, chain.blocks[1:], strict=False):
        assert above.height == below.height + 1
        assert above.prev_hash == txhash.block_hash(below.to_json()) == below.hash
        assert above.timestamp > below.timestamp
    for block in chain.blocks:
        assert txhash.verify_block_signature(block.to_json())
    # fees go to harvesters: no micro-XEM is created or lost, whatever was rewritten
    assert sum(chain.ledger.balances.values()) == sum(chain.compiled.genesis_balances.values())
    assert min(chain.ledger.balances.values()) >= 0


def test_blocks_are_produced_lazily_one_per_interval_including_empty_ones() -> None:
    chain = chain_of()
    assert chain.sync() == START_HEIGHT
    chain.clock.advance(59)
    assert chain.sync() == START_HEIGHT
    chain.clock.advance(1)
    assert chain.sync() == START_HEIGHT + 1
    chain.clock.advance(6 * 3600)
    assert chain.sync() == START_HEIGHT + 361
    assert any(not b.txs for b in chain.blocks)  # empty blocks are blocks too
    assert sum(len(b.txs) for b in chain.blocks) == len(chain.compiled.txs)
    assert_linked(chain)
    assert chain.mine_until(START_HEIGHT + 400) == START_HEIGHT + 400
    assert chain.clock.now() == START + timedelta(seconds=400 * 60)


def test_block_capacity_and_waiting_for_funds() -> None:
    sb = ScenarioBuilder("busy", START, seed="busy")
    sb.account("rich", xem=1_000_000)
    sb.account("poor")
    sb.account("sink")
    for i in range(300):
        sb.transfer(1 + i // 10, "rich", "sink", xem=1)  # 300 transfers within 30 seconds
    sb.transfer(5, "rich", "poor", xem=10)
    sb.transfer(6, "poor", "sink", xem=5)
    compiled = compile_scenario(sb.build())
    chain = chain_of(compiled)
    chain.advance(180)
    counts = [len(b.txs) for b in chain.blocks[1:4]]
    assert counts == [120, 120, 62]  # NIS puts at most 120 transactions in a block
    assert chain.rejected == []


def test_a_transfer_waits_for_funds_then_expires() -> None:
    chain = chain_of()
    thief = chain.compiled.address("thief")
    broke = TransferSpec(START + timedelta(seconds=5), "bystander", thief, xem=10_000 * 1_000_000)
    tx = chain.submit(broke)
    chain.advance(1800)
    assert tx.hash not in chain.ledger.by_hash and chain.rejected == []  # still waiting in the pool
    assert tx in chain.pending(chain.now_ts(), chain.height)
    chain.advance(1900)  # past its one-hour deadline
    assert chain.rejected == [(tx, "expired")]


def test_rollback_rewrites_k_blocks_and_keeps_the_chain_linked() -> None:
    chain = chain_of()
    chain.advance(3 * 3600)
    tip = chain.height
    old = {b.height: (b.hash, b.signature) for b in chain.blocks}
    report = chain.rollback(100, "reinclude", hashes=[])  # nothing targeted: same txs, new blocks
    assert report.ancestor == tip - 100 and chain.height == tip
    for height in range(tip - 99, tip + 1):
        new = chain.block(height)
        assert new.hash != old[height][0] and new.signature != old[height][1]
        assert report.old_block_hashes[height] == old[height][0]
        assert report.new_block_hashes[height] == new.hash
    for height in range(START_HEIGHT, tip - 99):
        assert chain.block(height).hash == old[height][0]
    assert_linked(chain)


@pytest.mark.parametrize("depth", [1, 20, 360])
def test_rollback_drop_removes_transfers_and_restores_balances(depth: int) -> None:
    chain = chain_of()
    chain.advance(depth * 60 + 3600)
    ancestor = chain.height - depth
    removed = [e for b in chain.blocks if b.height > ancestor for e in b.txs]
    hot = chain.compiled.address("hot")
    balance_before = chain.ledger.balance_at(hot, ancestor)
    report = chain.rollback(depth, "drop")
    assert sorted(report.dropped) == sorted(e.tx.hash for e in removed)
    for entry in removed:
        assert entry.tx.hash not in chain.ledger.by_hash
    assert chain.ledger.balances[hot] == balance_before
    assert_linked(chain)
    chain.advance(3600)
    assert all(e.tx.hash not in chain.ledger.by_hash for e in removed)  # gone for good


def test_rollback_reinclude_moves_transactions_to_another_height() -> None:
    chain = chain_of()
    chain.advance(1200)
    entries = [e for b in chain.blocks[-5:] for e in b.txs]
    assert entries
    old_ids = {e.tx.hash: e.id for e in entries}
    old_heights = {e.tx.hash: e.height for e in entries}
    report = chain.rollback(5, "reinclude", reinclude_delay=2)
    for tx_hash, height in report.moved.items():
        if height is None:
            continue  # past the tip: back in the pool
        moved = chain.ledger.by_hash[tx_hash]
        assert moved.height == old_heights[tx_hash] + 2 and moved.id > max(old_ids.values())
    pending = [h for h, v in report.moved.items() if v is None]
    assert pending
    chain.advance(120)
    for tx_hash in pending:
        assert chain.ledger.by_hash[tx_hash].height > old_heights[tx_hash]
    assert_linked(chain)


def test_rollback_replace_puts_a_conflicting_transaction_in_place() -> None:
    chain = chain_of()
    chain.advance(1200)
    target = chain.blocks[-3].txs[0]
    replacement_to = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
    report = chain.rollback(5, "replace", hashes=[target.tx.hash], replace_to=replacement_to)
    new_hash = report.replaced[target.tx.hash]
    assert new_hash != target.tx.hash and target.tx.hash not in chain.ledger.by_hash
    twin = chain.ledger.by_hash[new_hash]
    assert twin.height == target.height
    assert twin.tx.recipient == replacement_to and twin.tx.sender == target.tx.sender
    assert twin.tx.xem == target.tx.xem
    assert txhash.transaction_hash(twin.tx.built.json) == new_hash and txhash.verify_signature(twin.tx.built.json)
    others = [h for h in report.kept]
    assert others and all(h in chain.ledger.by_hash for h in others)
    assert_linked(chain)


def test_rollback_deeper_than_nis_allows_is_possible_for_tests() -> None:
    chain = chain_of()
    chain.advance(8 * 3600)
    report = chain.rollback(400, "drop", hashes=[])
    assert report.ancestor == chain.height - 400
    with pytest.raises(ValueError):
        chain.rollback(chain.height - START_HEIGHT + 1)


def test_nodes_share_one_chain(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(1800)
    heights = {get(http, url, "/chain/height")["height"] for url in sim.urls}
    assert heights == {START_HEIGHT + 30}
    blocks = [http.post(url + "/block/at/public", json={"height": START_HEIGHT + 7}).json() for url in sim.urls]
    assert blocks[0] == blocks[1] == blocks[2]
    sim.rollback(3, "drop")
    tips = [get(http, url, "/chain/last-block") for url in sim.urls]
    assert tips[0] == tips[1] == tips[2]


def test_a_forked_node_rolls_back_alone(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(1800)
    forked = sim.nodes[2]
    forked.fork()
    forked.chain.rollback(10, "drop")
    height = START_HEIGHT + 25
    on_fork = http.post(forked.url + "/block/at/public", json={"height": height}).json()
    on_main = http.post(sim.urls[0] + "/block/at/public", json={"height": height}).json()
    assert on_fork["signature"] != on_main["signature"]
    assert get(http, sim.urls[2], "/_sim/state")["ownChain"] is True
    sim.advance(60)
    assert get(http, forked.url, "/chain/height") == get(http, sim.urls[0], "/chain/height")  # same clock


def test_submit_adds_a_signed_transfer(sim: SimCluster) -> None:
    tx = sim.submit(TransferSpec(START + timedelta(seconds=30), "hot", sim.address("bystander"), xem=42_000_000))
    sim.advance(60)
    entry = sim.chain.ledger.by_hash[tx.hash]
    assert entry.height == START_HEIGHT + 1 and txhash.verify_signature(tx.built.json)


def test_cluster_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ValueError):
        start_cluster(compiled_small(), host="0.0.0.0")
