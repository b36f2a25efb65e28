"""Hashes and signatures of simulated transactions are genuine: recomputed from the served JSON."""

from __future__ import annotations

from typing import Any

import pytest
from simfixtures import coincheck, compiled_small
from symbolchain.CryptoTypes import PublicKey, Signature
from symbolchain.facade.NemFacade import NemFacade
from symbolchain.nem.TransactionFactory import TransactionFactory

from nemwatch.core.models import Network
from nemwatch.core.nem import txhash
from nemwatch.sim.keys import sim_key
from nemwatch.sim.txbuild import MosaicInfo, TxBuilder

FACADE = NemFacade("mainnet")


def descriptor(tx: dict[str, Any]) -> dict[str, Any]:
    """An SDK descriptor for a NIS JSON transfer, written independently of the simulator."""
    version = tx["version"] & 0xFFFFFF
    result: dict[str, Any] = {
        "type": f"transfer_transaction_v{version}",
        "signer_public_key": tx["signer"],
        "fee": tx["fee"],
        "timestamp": tx["timeStamp"],
        "deadline": tx["deadline"],
        "recipient_address": tx["recipient"],
        "amount": tx["amount"],
    }
    if tx["message"]:
        kind = "plain" if tx["message"]["type"] == 1 else "encrypted"
        result["message"] = {"message_type": kind, "message": bytes.fromhex(tx["message"]["payload"])}
    if version == 2:
        result["mosaics"] = [
            {
                "mosaic": {
                    "mosaic_id": {
                        "namespace_id": {"name": m["mosaicId"]["namespaceId"].encode()},
                        "name": m["mosaicId"]["name"].encode(),
                    },
                    "amount": m["quantity"],
                }
            }
            for m in tx["mosaics"]
        ]
    return result


def rebuild(tx: dict[str, Any]) -> tuple[Any, Any | None]:
    """(SDK transaction, inner transaction or None) from NIS JSON."""
    if tx["type"] == 257:
        return FACADE.transaction_factory.create(descriptor(tx)), None
    assert tx["type"] == 4100
    inner = FACADE.transaction_factory.create(descriptor(tx["otherTrans"]))
    outer = FACADE.transaction_factory.create(
        {
            "type": "multisig_transaction_v1",
            "signer_public_key": tx["signer"],
            "fee": tx["fee"],
            "timestamp": tx["timeStamp"],
            "deadline": tx["deadline"],
            "inner_transaction": TransactionFactory.to_non_verifiable_transaction(inner),
        }
    )
    return outer, inner


def check(tx: dict[str, Any], meta_hash: str, inner_hash: str | None) -> None:
    outer, inner = rebuild(tx)
    assert str(FACADE.hash_transaction(outer)).lower() == meta_hash
    assert FACADE.verify_transaction(outer, Signature(tx["signature"]))
    assert txhash.transaction_hash(tx) == meta_hash  # and the project's own hashing agrees
    if inner is None:
        assert inner_hash is None
        return
    assert str(FACADE.hash_transaction(inner)).lower() == inner_hash == txhash.inner_hash(tx)
    for cosignature in tx["signatures"]:
        cosig = FACADE.transaction_factory.create(
            {
                "type": "cosignature_v1",
                "signer_public_key": cosignature["signer"],
                "fee": cosignature["fee"],
                "timestamp": cosignature["timeStamp"],
                "deadline": cosignature["deadline"],
                "other_transaction_hash": cosignature["otherHash"]["data"],
                "multisig_account_address": cosignature["otherAccount"],
            }
        )
        assert cosignature["otherHash"]["data"] == inner_hash
        assert FACADE.verify_transaction(cosig, Signature(cosignature["signature"]))


def test_every_coincheck_transaction_has_a_genuine_hash_and_signature() -> None:
    compiled = coincheck()
    kinds = set()
    for planned in compiled.txs:
        check(planned.built.json, planned.hash, planned.inner_hash)
        kinds.add((planned.built.json["type"], planned.built.json["version"] & 0xFF, bool(planned.built.json.get("mosaics"))))
    assert {(257, 1, False), (257, 2, False), (257, 2, True), (4100, 1, False)} <= kinds


def test_signatures_belong_to_the_accounts_that_move_funds() -> None:
    compiled = coincheck()
    for planned in compiled.txs:
        tx = planned.built.json
        funds = tx.get("otherTrans", tx)["signer"]
        derived = str(FACADE.network.public_key_to_address(PublicKey(funds)))
        assert derived == planned.sender


def test_small_scenario_hashes_and_blocks() -> None:
    from nemwatch.sim import Chain, ManualClock

    compiled = compiled_small()
    chain = Chain(compiled, ManualClock(compiled.scenario.start))
    chain.advance(4 * 3600)
    for block in chain.blocks:
        for entry in block.txs:
            check(entry.tx.built.json, entry.tx.hash, entry.tx.inner_hash)
        signed = [e.tx.built.signed_bytes for e in block.txs]
        assert signed == [txhash.transaction_bytes(e.tx.built.json) for e in block.txs]
        assert txhash.block_hash(block.to_json()) == block.hash


@pytest.mark.parametrize("signing", ["signed", "unsigned_fast"])
def test_fast_construction_gives_the_same_bytes(signing: str) -> None:
    marker = "tag.demo:marker"
    normal = TxBuilder(Network.MAINNET, {marker: MosaicInfo(100, 0)}, signing=signing)  # type: ignore[arg-type]
    fast = TxBuilder(Network.MAINNET, {marker: MosaicInfo(100, 0)}, signing=signing, fast=True)  # type: ignore[arg-type]
    sender = sim_key("hash-test", "sender", Network.MAINNET)
    recipient = sim_key("hash-test", "recipient", Network.MAINNET).address
    cases = [
        {"xem": 0},
        {"xem": 123_456_789},
        {"xem": 5, "message": b"deposit 1009188"},
        {"xem": 5, "version": 2},
        {"xem": 7_000_000, "mosaics": [(marker, 1)], "message": b"x" * 70},
        {"xem": 0, "mosaics": [(marker, 3)]},
    ]
    for case in cases:
        a = normal.transfer(sender, recipient, timestamp=1000, **case)
        b = fast.transfer(sender, recipient, timestamp=1000, **case)
        assert a == b, case
        assert txhash.transaction_bytes(a.json) == a.signed_bytes
        assert txhash.verify_signature(a.json) is (signing == "signed")


def test_fees_follow_the_nis1_rules() -> None:
    builder = TxBuilder(Network.MAINNET, {"tag.demo:marker": MosaicInfo(100, 0)})
    sender = sim_key("fee-test", "sender", Network.MAINNET)
    to = sim_key("fee-test", "recipient", Network.MAINNET).address
    xem = 1_000_000

    def fee(**kw: Any) -> int:
        return builder.transfer(sender, to, timestamp=1, **kw).fee

    assert fee(xem=1 * xem) == 50_000  # the minimum
    assert fee(xem=20_000 * xem) == 100_000  # 0.05 per 10,000 XEM
    assert fee(xem=249_999 * xem) == 1_200_000
    assert fee(xem=100_000_000 * xem) == 1_250_000  # capped at 1.25
    assert fee(xem=1 * xem, message=b"a" * 31) == 100_000  # + 0.05 per started 32 bytes of message
    assert fee(xem=1 * xem, message=b"a" * 32) == 150_000
    assert fee(xem=0, mosaics=[("tag.demo:marker", 1)]) == 50_000  # small indivisible mosaic: 0.05
    signer = sim_key("fee-test", "cosigner-a", Network.MAINNET)
    cosigner = sim_key("fee-test", "cosigner-b", Network.MAINNET)
    wrapped = builder.multisig_transfer(sender, signer, [cosigner], to, timestamp=1, xem=1 * xem)
    assert wrapped.fee == 50_000 + 150_000 + 150_000  # inner + wrapper + one cosignature


def test_tampered_block_fails_its_signature() -> None:
    import copy

    import httpx

    from nemwatch.core.nem import codec
    from nemwatch.sim.clock import ManualClock
    from nemwatch.sim.cluster import SimCluster
    from nemwatch.sim.scenario_toml import load_scenario

    scenario = load_scenario("coincheck-2018")
    with SimCluster.start(scenario, nodes=1, clock=ManualClock(scenario.start)) as sim:
        sim.advance(3 * 3600)
        raw = None
        for height in range(sim.height, scenario.start_height, -1):
            raw = httpx.post(f"{sim.urls[0]}/block/at/public", json={"height": height}).json()
            if any(t.get("type") == 257 for t in raw["transactions"]):
                break
    assert raw is not None
    assert codec.parse_block(raw).signed is True
    forged = copy.deepcopy(raw)
    transfer = next(t for t in forged["transactions"] if t.get("type") == 257)
    transfer["amount"] += 1  # the transaction no longer matches its own signature either
    assert codec.parse_block(forged).signed is False
