"""Real NEM mainnet blocks and transactions, exactly as public material published them.

The fixtures live in tests/fixtures/nis/mainnet (README.md there says where each comes from).
What is checked:

- each block's harvester signature verifies over the bytes nemwatch rebuilds from the JSON
  (``txhash.block_signing_bytes``), so the block serialization, and with it ``txhash.block_hash``,
  is the one NIS signs and hashes;
- each transaction's own signature verifies (``txhash.verify_signature``, and independently
  through the SDK's ``NemFacade.verify_transaction``); where a hash was published, it is reproduced;
- any change to a signed field, or one flipped byte of a signature, makes verification fail;
- the documentation sample block 42804 does NOT verify: it is a shape sample only.

No public material publishes the hash of any of these blocks, nor the next block of any of
them (whose ``prevBlockHash`` would be it), so block hashes are pinned as computed: the
harvester signature proves the bytes they are the Keccak-256 of.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from client_fakenode import Reply, client_for, fixture, running
from nis_samples import load as load_sample
from symbolchain.CryptoTypes import Signature
from symbolchain.facade.NemFacade import NemFacade

from nemwatch.core.models import MosaicAmount, Transfer
from nemwatch.core.nem import codec, txhash

MAINNET = Path(__file__).parent / "fixtures" / "nis" / "mainnet"
FACADE = NemFacade("mainnet")

# file -> (height, transaction count, harvester address, block hash as computed)
BLOCKS: dict[str, tuple[int, int, str, str]] = {
    "block_10000.json": (
        10000,
        1,
        "NAIDGWOGPIRK2IXZNC6LVKRPSRNCVPQPGZC7LFI2",
        "9b3064fc0e40456c02a5e7965ff0bb508200386bd55d5a1174451010de1096ad",
    ),
    "block_394311.json": (
        394311,
        0,
        "NDK74FR4KA6J4R37QASL7Z4AF2CRGD3EW3YDTLP6",
        "ae9fee8045cf52720c37a67b88fc1212ec6b78312d434eb62c8399110acf7cfa",
    ),
    "block_1989616.json": (
        1989616,
        4,
        "ND46IJEC53O7UQGLBUK6TA7NU22ONI6VYDAOOPXQ",
        "ba26238d32bb1fd0ef000a32981c323b9551e5a00f75edda38faf6c9695e9822",
    ),
    "block_3943119.json": (
        3943119,
        0,
        "ND6RTQICHTPWUT5OV7SHVDQ42HCVUVRJKJZXDNQA",
        "7f35bf290d53c30c8212a38125be7b0822b348ac08860465f5aa1d3fa98a4897",
    ),
}
WITH_TRANSACTIONS = [name for name, (_, count, _, _) in BLOCKS.items() if count]

# Hashes of the transactions inside the blocks (no hash is published for them; each one's own
# signature proves the bytes hashed).
BLOCK_TX_HASHES = {
    "block_10000.json": ["651f37bb853068a454111ff5e9814efa985de8a41d27bd04e015014c2b1d3a26"],
    "block_1989616.json": [
        "1bdf3af33a7f04913f6276444ff4a1810da148ff153d7a51eeaf34fb857f88e9",
        "8f7091712d8b100f3be642eb61cfec589240634fc764470f1bb53bd16d17e59c",
        "b80d99a09abb617dfafbbac0bb4c52fe2e9d804732d65dc00622e9bab26740b0",
        "56b902f998d61aed518a4ffdc8e76fc005875bb012b3d0a56364951f2fea24dc",
    ],
}


def load(name: str) -> Any:
    return json.loads((MAINNET / name).read_text(encoding="utf-8"))


def _flip(hex_text: str, index: int = 0) -> str:
    """``hex_text`` with one bit of byte ``index`` flipped."""
    data = bytearray(bytes.fromhex(hex_text))
    data[index] ^= 0x01
    return data.hex()


# --- provenance ---------------------------------------------------------------------------------


def test_1989616_is_the_published_text_without_its_annotations() -> None:
    # The post annotated some lines with "←..." comments (not JSON); removing them, and
    # nothing else, gives the fixture byte for byte.
    published = (MAINNET / "block_1989616.published.txt").read_text(encoding="utf-8")
    assert published.count("←") == 7
    assert re.sub(r"←[^\n]*", "", published) == (MAINNET / "block_1989616.json").read_text(encoding="utf-8")


def test_every_mainnet_fixture_is_described_in_the_readme() -> None:
    readme = (MAINNET / "README.md").read_text(encoding="utf-8")
    names = sorted(p.name for p in MAINNET.iterdir() if p.name != "README.md")
    assert names and all(f"`{name}`" in readme for name in names)
    assert "block_42804.json" in readme and "does not verify" in readme


# --- block signatures and hashes ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(BLOCKS))
def test_harvester_signature_verifies_and_the_hash_is_pinned(name: str) -> None:
    height, count, harvester, expected_hash = BLOCKS[name]
    raw = load(name)
    assert txhash.verify_block_signature(raw)
    signing_bytes = txhash.block_signing_bytes(raw)
    assert txhash.block_hash(raw) == txhash.keccak256(signing_bytes).hex() == expected_hash
    block = codec.parse_block(raw, height=height)
    assert block.signed is True
    assert (block.height, len(block.transactions), block.harvester, block.hash) == (height, count, harvester, expected_hash)


@pytest.mark.parametrize("name", list(BLOCKS))
def test_any_change_to_a_signed_field_breaks_the_harvester_signature(name: str) -> None:
    raw = load(name)
    changes: list[dict[str, Any]] = [
        {"timeStamp": raw["timeStamp"] + 1},
        {"height": raw["height"] + 1},
        {"type": -1},
        {"prevBlockHash": {"data": _flip(raw["prevBlockHash"]["data"])}},
        {"prevBlockHash": {"data": _flip(raw["prevBlockHash"]["data"], 31)}},
        {"signer": load("block_10000.json" if name != "block_10000.json" else "block_394311.json")["signer"]},
        {"signature": _flip(raw["signature"])},
        {"signature": _flip(raw["signature"], 63)},
    ]
    transactions = raw["transactions"]
    if transactions:
        changes.append({"transactions": transactions[1:]})
        first = transactions[0]
        for key, value in (("amount", first["amount"] + 1), ("fee", first["fee"] - 1), ("signature", _flip(first["signature"]))):
            changes.append({"transactions": [dict(first, **{key: value}), *transactions[1:]]})
    if len(transactions) > 1:
        changes.append({"transactions": transactions[::-1]})
    for change in changes:
        tampered = dict(copy.deepcopy(raw), **change)
        assert not txhash.verify_block_signature(tampered), change
        assert codec.parse_block(tampered).signed is False, change
    # the harvester's signature is not part of what is hashed; everything else is
    hashes = {txhash.block_hash(dict(copy.deepcopy(raw), **change)) for change in changes if "signature" not in change}
    assert BLOCKS[name][3] not in hashes


# --- transactions ---------------------------------------------------------------------------------


def _real_transactions() -> list[tuple[str, dict[str, Any], str | None]]:
    """Every real mainnet transaction in the fixtures: (label, NIS JSON, published hash or None)."""
    out: list[tuple[str, dict[str, Any], str | None]] = []
    for name in WITH_TRANSACTIONS:
        for i, item in enumerate(load(name)["transactions"]):
            out.append((f"{name}[{i}]", item, None))
    for name in ("transfers_all_87e2.json", "transfers_outgoing_871f.json"):
        for i, item in enumerate(load(name)["data"]):
            out.append((f"{name}[{i}]", item["transaction"], item["meta"]["hash"]["data"]))
    for i, item in enumerate(load_sample("incoming_nax3.json")["data"]):
        out.append((f"incoming_nax3[{i}]", item["transaction"], item["meta"]["hash"]["data"]))
    pair = load_sample("transfer_v2_mosaics_ef33.json")
    out.append(("transfer_v2_mosaics_ef33", pair["transaction"], pair["meta"]["hash"]["data"]))
    multisig = load_sample("multisig_3eef.json")
    out.append(("multisig_3eef", multisig["transaction"], multisig["meta"]["hash"]["data"]))
    for i, cosignature in enumerate(multisig["transaction"]["signatures"]):
        out.append((f"multisig_3eef.cosignature[{i}]", cosignature, None))
    out.append(("unconfirmed_nax3", load_sample("unconfirmed_nax3.json")["data"][0]["transaction"], None))
    return out


REAL = _real_transactions()


@pytest.mark.parametrize(("label", "transaction", "published"), REAL, ids=[r[0] for r in REAL])
def test_every_real_transaction_signature_verifies(label: str, transaction: dict[str, Any], published: str | None) -> None:
    assert txhash.verify_signature(transaction)
    # independently of nemwatch's own check: the SDK verifies the object nemwatch rebuilt
    assert FACADE.verify_transaction(txhash.sdk_transaction(transaction), Signature(transaction["signature"]))
    if published is not None:
        assert txhash.transaction_hash(transaction) == published
    for tampered in (
        dict(transaction, signature=_flip(transaction["signature"])),
        dict(transaction, signature=_flip(transaction["signature"], 40)),
        dict(transaction, fee=transaction["fee"] + 1),
        dict(transaction, timeStamp=transaction["timeStamp"] + 1),
        dict(transaction, deadline=transaction["deadline"] - 1),
    ):
        assert not txhash.verify_signature(tampered)


def test_the_real_transaction_set_covers_what_it_claims() -> None:
    kinds = {(t["type"], t["version"]) for _, t, _ in REAL}
    assert {(257, 0x68000001), (257, 0x68000002), (4100, 0x68000001), (4098, 0x68000001)} <= kinds
    assert len(REAL) == 13 and sum(1 for _, _, published in REAL if published) == 6


@pytest.mark.parametrize("name", WITH_TRANSACTIONS)
def test_block_transactions_hash_as_pinned(name: str) -> None:
    block = codec.parse_block(load(name))
    assert [t.hash for t in block.transactions] == BLOCK_TX_HASHES[name]
    assert [txhash.transaction_hash(t) for t in load(name)["transactions"]] == BLOCK_TX_HASHES[name]


def test_block_1989616_holds_v1_transfers_of_xem_and_v2_transfers_of_native_coin() -> None:
    block = codec.parse_block(load("block_1989616.json"))
    assert all(isinstance(t, Transfer) for t in block.transactions)
    transfers = block.transfers
    assert [t.version for t in transfers] == [0x68000001, 0x68000001, 0x68000002, 0x68000002]
    assert {t.sender for t in transfers} == {"NCKZD7JGDLNDIVVPH6U2PG2QKD3PX3FX4CPZMF2A"}
    assert [(t.amount, t.xem, t.fee) for t in transfers] == [
        (50000, 50000, 50000),
        (50000, 50000, 50000),
        (1000000, 0, 50000),
        (1000000, 0, 50000),
    ]
    # v2: amount is a multiplier (1.0); native:coin moves, no XEM does
    assert [t.mosaics for t in transfers[2:]] == [
        (MosaicAmount("native", "coin", 2002250),),
        (MosaicAmount("native", "coin", 5005250),),
    ]
    # the post's NIS log says 2019-01-21 06:01 JST
    assert block.timestamp.isoformat() == "2019-01-20T21:01:31+00:00"


def test_block_10000_holds_alices_plain_message() -> None:
    (transfer,) = codec.parse_block(load("block_10000.json")).transfers
    assert transfer.message is not None and transfer.message.text == "Alice is donating 10 nem every minute to poor harvesters."
    assert (transfer.sender, transfer.recipient, transfer.xem, transfer.fee) == (
        "NALICELGU3IVY4DPJKHYLSSVYFFWYS5QPLYEZDJJ",
        "NALICELGU3IVY4DPJKHYLSSVYFFWYS5QPLYEZDJJ",
        10_000_000,
        10_000_000,
    )


def test_published_account_transfers_parse_with_their_hashes() -> None:
    (v2,) = codec.parse_tx_page(load("transfers_all_87e2.json"))
    assert (v2.hash, v2.height, v2.xem, v2.mosaics) == (
        "87e2033d75b0e9d7445d9a617f70e45e2af116aed7c6895d586822316811e318",
        3398888,
        0,
        (MosaicAmount("asset", "ch0459804891b", 2000000),),
    )
    (v1,) = codec.parse_tx_page(load("transfers_outgoing_871f.json"))
    assert (v1.hash, v1.height, v1.amount, v1.fee) == (
        "871f84f02e97c0ccaea94f1aca54cfa793b65680212630dc866a914e9f1b29d5",
        3105116,
        0,
        321_000_000,
    )


# --- through the client, as a node serves them -------------------------------------------------


async def test_the_client_reads_real_blocks_as_signed() -> None:
    async with running(1) as (node,), client_for(node) as client:
        for name, (height, count, _, expected_hash) in BLOCKS.items():
            node.always("/block/at/public", Reply(200, fixture(f"mainnet/{name}")))
            block = await client.block_at(height)
            assert (block.signed, block.hash, len(block.transactions)) == (True, expected_hash, count)


async def test_the_client_flags_a_forged_copy_of_a_real_block() -> None:
    forged = load("block_1989616.json")
    forged["transactions"][2]["recipient"] = forged["transactions"][3]["recipient"]
    async with running(1) as (node,), client_for(node) as client:
        node.always("/block/at/public", Reply(200, forged))
        block = await client.block_at(1989616)
        assert block.signed is False


# --- the documentation sample -------------------------------------------------------------------


def test_documentation_sample_42804_does_not_verify() -> None:
    # tests/fixtures/nis/block_42804.json is the NIS API documentation's /block/at/public
    # example: right shape, but its harvester signature does not verify. Shape tests only.
    sample = load_sample("block_42804.json")
    assert not txhash.verify_block_signature(sample)
    block = codec.parse_block(sample, height=42804)
    assert block.signed is False and block.transactions == ()
    # a well-formed signature that verifies nothing, not a malformed field
    assert len(bytes.fromhex(sample["signature"])) == 64


async def test_the_client_returns_the_documentation_sample_as_unsigned() -> None:
    async with running(1) as (node,), client_for(node) as client:
        node.always("/block/at/public", Reply(200, fixture("block_42804.json")))
        assert (await client.block_at(42804)).signed is False
