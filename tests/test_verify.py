"""A transaction's own signatures (core.nem.verify) and the block reading rule (core.agreement)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from simfixtures import compiled_small, start_cluster

from nemwatch.core import agreement
from nemwatch.core.head import HeadTracker, NodeState
from nemwatch.core.models import TYPE_MULTISIG, Block, Network, Transaction
from nemwatch.core.nem import codec, verify
from nemwatch.core.nem.errors import NotFound

MAINNET = Path(__file__).parent / "fixtures" / "nis" / "mainnet"


@pytest.fixture(scope="module")
def sim_blocks() -> list[Block]:
    sim = start_cluster(compiled_small(), nodes=1)
    try:
        sim.advance(3 * 3600)
        return [
            codec.parse_block(sim.chain.block(h).to_json(), h)
            for h in range(sim.chain.start_height, sim.height + 1)
        ]
    finally:
        sim.stop()


def _txs(blocks: list[Block]) -> list[Transaction]:
    return [tx for b in blocks for tx in b.transactions]


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def test_every_simulated_transaction_verifies_multisig_included(sim_blocks: list[Block]) -> None:
    txs = _txs(sim_blocks)
    assert len(txs) > 100 and any(tx.multisig for tx in txs)
    assert all(tx.signed_form is not None and verify.verify_signed_form(tx.signed_form) for tx in txs)
    assert all(verify.check(tx).signature_valid is True for tx in txs)


@pytest.mark.parametrize("name", ["block_10000.json", "block_1989616.json"])
def test_real_mainnet_transactions_verify(name: str) -> None:
    path = MAINNET / name
    if not path.exists():
        pytest.skip(f"{name} not committed")
    raw = json.loads(path.read_text())
    block = codec.parse_block(raw.get("block", raw) if isinstance(raw, dict) else raw)
    assert all(verify.check(tx).signature_valid is True for tx in block.transactions)


def test_any_changed_byte_of_a_transfer_fails(sim_blocks: list[Block]) -> None:
    tx = next(t for t in _txs(sim_blocks) if not t.multisig)
    data = tx.signed_form
    assert data is not None
    for at in (0, 20, 60, 120, len(data) - 1):  # type, signer, signature, fee, last body byte
        assert not verify.verify_signed_form(_flip(data, at)), at
    assert not verify.verify_signed_form(data[:-1])
    assert not verify.verify_signed_form(b"")
    assert verify.check(replace(tx, signed_form=_flip(data, 130))).signature_valid is False


def test_multisig_checks_the_wrapper_and_every_cosignature(sim_blocks: list[Block]) -> None:
    tx = next(t for t in _txs(sim_blocks) if t.multisig)
    data = tx.signed_form
    assert data is not None and int.from_bytes(data[:4], "little") == TYPE_MULTISIG
    inner_end = 132 + int.from_bytes(data[128:132], "little")
    assert int.from_bytes(data[inner_end : inner_end + 4], "little") >= 1  # it carries cosignatures
    cos = inner_end + 8  # the first cosignature's bytes
    assert verify.verify_signed_form(data)
    assert not verify.verify_signed_form(_flip(data, 140))  # the inner transaction
    assert not verify.verify_signed_form(_flip(data, cos + 60))  # a cosignature's signature
    assert not verify.verify_signed_form(_flip(data, cos + 140))  # the hash it cosigns
    assert not verify.verify_signed_form(_flip(data, cos + 180))  # the multisig account it names
    assert not verify.verify_signed_form(data + b"\0")


def test_check_keeps_a_known_answer_and_cannot_prove_without_a_signed_form(sim_blocks: list[Block]) -> None:
    tx = _txs(sim_blocks)[0]
    assert verify.check(replace(tx, signed_form=None)).signature_valid is None
    assert verify.check(replace(tx, signature_valid=False)).signature_valid is False


# --- the reading rule ---------------------------------------------------------------------------


def _block(sim_blocks: list[Block], **changes: object) -> Block:
    base = next(b for b in sim_blocks if b.transactions)
    return replace(base, **changes)  # type: ignore[arg-type]


def _all(txs: object) -> list[Transaction]:
    return list(txs)  # type: ignore[call-overload]


async def _read(nodes: list[str], answers: dict[str, object], asked: list[str] | None = None) -> agreement.Reading:
    asked = [] if asked is None else asked

    async def fetch(height: int, node: str) -> Block:
        asked.append(node)
        answer = answers[node]
        if isinstance(answer, BaseException):
            raise answer
        return answer  # type: ignore[return-value]

    return await agreement.read_block(5, nodes, fetch, _all)


async def test_two_nodes_agreeing_cost_two_requests(sim_blocks: list[Block]) -> None:
    good = _block(sim_blocks)
    asked: list[str] = []
    reading = await _read(["a", "b", "c"], {"a": good, "b": good, "c": good}, asked)
    assert reading.agreed and reading.block is not None and asked == ["a", "b"]
    assert all(tx.signature_valid is True for tx in reading.block.transactions)
    assert reading.dissenters == () and reading.extra == ()


async def test_the_majority_is_committed_and_the_dissenter_named(sim_blocks: list[Block]) -> None:
    good = _block(sim_blocks)
    other = replace(good, hash="ff" * 32, transactions=good.transactions[:-1])
    reading = await _read(["a", "b", "c"], {"a": other, "b": good, "c": good})
    assert reading.chosen is not None and reading.chosen.nodes == ("b", "c")
    assert [n for n, _ in reading.dissenters] == ["a"]
    assert reading.extra == ()  # the dissenter holds nothing the majority lacks
    split = await _read(["a", "b"], {"a": other, "b": good})
    assert split.chosen is None and sorted(n for n, _ in split.dissenters) == ["a", "b"]
    # nothing agreed: every verified transaction of either version is extra, each once
    assert sorted(tx.identity for tx in split.extra) == sorted(tx.identity for tx in good.transactions)
    assert all(tx.signature_valid is True for tx in split.extra)


async def test_one_node_alone_is_not_enough_unless_the_others_are_provably_wrong(sim_blocks: list[Block]) -> None:
    good = _block(sim_blocks)
    missing = NotFound(404, "block not found in the db")
    reading = await _read(["a", "b"], {"a": good, "b": missing})
    assert reading.chosen is None and reading.unserved == ("b",)
    bad_tx = replace(good.transactions[0], signed_form=_flip(good.transactions[0].signed_form or b"", 130))
    forged = replace(good, hash="ee" * 32, transactions=(bad_tx, *good.transactions[1:]))
    reading = await _read(["a", "b"], {"a": forged, "b": good})
    assert reading.chosen is not None and reading.chosen.nodes == ("b",)
    assert reading.dissenters and "own signature" in reading.dissenters[0][1]
    alone = await _read(["a"], {"a": good})
    assert alone.block is not None and not alone.agreed


def test_a_node_that_cannot_serve_its_height_is_lying_until_it_falls_back() -> None:
    tracker = HeadTracker()
    tracker.decide({"n": 100})
    tracker.decide({"n": 1100})  # the lie: taken at its word once
    tracker.refuse("n", 101)  # ... until it has no block 101
    lying = tracker.decide({"n": 1100})
    assert lying.head == 100 and lying.verdicts[0].state is NodeState.LYING
    tracker.served("n", 101)  # a new block came: it serves 101 now, its claim is probed again
    assert tracker.refused == {}
    tracker.refuse("n", 102)
    assert tracker.decide({"n": 1100}).head == 101
    back = tracker.decide({"n": 101})  # the lie is over: 101 is not a rewrite from 1100
    assert back.head == 101 and back.verdicts[0].state is NodeState.OK
    assert tracker.refused == {}
