"""Transaction and block hashes rebuilt from NIS JSON."""

from __future__ import annotations

import copy
import struct
from typing import Any

import pytest
from nis_samples import (
    ADDR_MULTISIG,
    ADDR_NAX3,
    KEY_COSIGNER,
    KEY_MULTISIG,
    KEY_NAX3,
    MAINNET_V1,
    MAINNET_V2,
    MOSAIC_SINK,
    NAMESPACE_SINK,
    TESTNET_V2,
    load,
    multisig,
    transfer,
    tx,
)
from symbolchain import nc
from symbolchain.CryptoTypes import PrivateKey, Signature
from symbolchain.facade.NemFacade import NemFacade
from symbolchain.nem.KeyPair import KeyPair
from symbolchain.nem.TransactionFactory import TransactionFactory

from nemwatch.core.models import Network
from nemwatch.core.nem import txhash
from nemwatch.core.nem.txhash import ParseError, UnsupportedTransaction

FACADE = NemFacade("mainnet")
# Two cosignatories whose NIS order (encoded address) and SDK order (address hash bytes) differ.
KEY_A = "4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a"  # NB4EAJVC...
KEY_B = "e52d9c508c502347344d8c07ad91cbd6068afc75ff6292f062a09ca381c89e71"  # NBDDQ4RT...
TEST_KEY = KeyPair(PrivateKey("2a" * 32))


# --- real mainnet samples ------------------------------------------------------------------------


def _published() -> list[tuple[str, dict[str, Any], str, str | None]]:
    out = []
    for name in ("transfer_v2_mosaics_ef33.json", "multisig_3eef.json"):
        sample = load(name)
        inner = sample["meta"]["innerHash"].get("data")
        out.append((name, sample["transaction"], sample["meta"]["hash"]["data"], inner))
    for i, item in enumerate(load("incoming_nax3.json")["data"]):
        out.append((f"incoming[{i}]", item["transaction"], item["meta"]["hash"]["data"], None))
    return out


@pytest.mark.parametrize(("name", "transaction", "expected", "expected_inner"), _published(), ids=[p[0] for p in _published()])
def test_published_hashes_are_reproduced(name: str, transaction: dict[str, Any], expected: str, expected_inner: str | None) -> None:
    encoded = txhash.encode(transaction)
    assert encoded.hash == expected
    assert encoded.inner_hash == expected_inner
    assert txhash.transaction_hash(transaction) == expected
    assert txhash.inner_hash(transaction) == expected_inner


def test_the_four_published_hashes_by_value() -> None:
    assert txhash.transaction_hash(load("transfer_v2_mosaics_ef33.json")["transaction"]) == (
        "ef33af9b121f9891717bd582cd075435a93bff7fd568816f7bf2a0a5207b9447"
    )
    ms = load("multisig_3eef.json")["transaction"]
    assert txhash.transaction_hash(ms) == "3eef4c05b4018d2d32c62b24dcfd2f98d50daf6be8622fa20c7eca4d9c58487c"
    assert txhash.inner_hash(ms) == "c74f36e32561f1e701bc078cd4aad88d9635d88697ebbb423aa277e207406069"
    incoming = load("incoming_nax3.json")["data"]
    assert txhash.transaction_hash(incoming[0]["transaction"]) == (
        "08f3fcb032d926c3898816b80cd8fba89e31900c1e5dbd2accac1c6fe8538d40"
    )
    assert txhash.transaction_hash(incoming[1]["transaction"]) == (
        "2291488ec8f855e2854222f0f9fc8a42da2eba894b0a78ae8b368e28f16803c2"
    )


def test_multisig_hash_ignores_cosignatures_and_inner_hash_is_the_plain_inner_hash() -> None:
    ms = load("multisig_3eef.json")["transaction"]
    without = copy.deepcopy(ms)
    without["signatures"] = []
    assert txhash.transaction_hash(without) == txhash.transaction_hash(ms)
    assert txhash.transaction_bytes(without) != txhash.transaction_bytes(ms)
    inner = dict(ms["otherTrans"], signature="00" * 64)
    assert txhash.transaction_hash(inner) == txhash.inner_hash(ms)


def test_real_signatures_verify_over_the_rebuilt_bytes() -> None:
    # Where no hash is published (the unconfirmed sample, the cosignature) the signer's own
    # signature proves the serialization is the one NIS signs and hashes.
    samples = [item["transaction"] for item in load("incoming_nax3.json")["data"]]
    samples.append(load("unconfirmed_nax3.json")["data"][0]["transaction"])
    samples.append(load("transfer_v2_mosaics_ef33.json")["transaction"])
    ms = load("multisig_3eef.json")["transaction"]
    samples += [ms, ms["signatures"][0]]
    for sample in samples:
        assert txhash.verify_signature(sample)
        tampered = copy.deepcopy(sample)
        tampered["fee"] += 1
        assert not txhash.verify_signature(tampered)


def test_unconfirmed_sample_hash() -> None:
    sample = load("unconfirmed_nax3.json")["data"][0]["transaction"]
    assert txhash.transaction_hash(sample) == "51fe00a7998f55c5ae0d06d1585e065f3421536aba470b1b9fe200c273811437"
    assert txhash.inner_hash(sample) is None


def test_sdk_transaction_is_a_real_sdk_object() -> None:
    sample = load("transfer_v2_mosaics_ef33.json")["transaction"]
    sdk = txhash.sdk_transaction(sample)
    assert isinstance(sdk, nc.TransferTransactionV2)
    assert str(FACADE.hash_transaction(sdk)).lower() == txhash.transaction_hash(sample)
    assert FACADE.verify_transaction(sdk, Signature(sample["signature"]))


# --- every type against the SDK's own descriptor path ---------------------------------------------

_COMMON_SDK = {"signer_public_key": KEY_NAX3, "fee": 150000, "timestamp": 100, "deadline": 3700}
_COIN = {"namespace_id": {"name": b"root"}, "name": b"coin"}
_COIN_JSON = {"namespaceId": "root", "name": "coin"}

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "transfer v1 encrypted message",
        {
            "type": "transfer_transaction_v1",
            "recipient_address": ADDR_NAX3,
            "amount": 5,
            "message": {"message_type": "encrypted", "message": bytes(range(48))},
        },
        tx(257, recipient=ADDR_NAX3, amount=5, message={"type": 2, "payload": bytes(range(48)).hex()}),
    ),
    (
        "transfer v2 plain message and mosaics",
        {
            "type": "transfer_transaction_v2",
            "recipient_address": ADDR_NAX3,
            "amount": 3_000_000,
            "message": {"message_type": "plain", "message": "héllo".encode()},
            "mosaics": [
                {"mosaic": {"mosaic_id": {"namespace_id": {"name": b"nem"}, "name": b"xem"}, "amount": 7}},
                {"mosaic": {"mosaic_id": _COIN, "amount": 9}},
            ],
        },
        tx(
            257,
            MAINNET_V2,
            recipient=ADDR_NAX3,
            amount=3_000_000,
            message={"type": 1, "payload": "héllo".encode().hex()},
            mosaics=[
                {"quantity": 7, "mosaicId": {"namespaceId": "nem", "name": "xem"}},
                {"quantity": 9, "mosaicId": _COIN_JSON},
            ],
        ),
    ),
    (
        "importance transfer",
        {"type": "account_key_link_transaction_v1", "link_action": "unlink", "remote_public_key": KEY_MULTISIG},
        tx(2049, mode=2, remoteAccount=KEY_MULTISIG),
    ),
    (
        "aggregate modification v1",
        {
            "type": "multisig_account_modification_transaction_v1",
            "modifications": [{"modification": {"modification_type": "add_cosignatory", "cosignatory_public_key": KEY_MULTISIG}}],
        },
        tx(4097, modifications=[{"modificationType": 1, "cosignatoryAccount": KEY_MULTISIG}]),
    ),
    (
        "aggregate modification v2",
        {
            "type": "multisig_account_modification_transaction_v2",
            "modifications": [{"modification": {"modification_type": "delete_cosignatory", "cosignatory_public_key": KEY_MULTISIG}}],
            "min_approval_delta": -1,
        },
        tx(
            4097,
            MAINNET_V2,
            modifications=[{"modificationType": 2, "cosignatoryAccount": KEY_MULTISIG}],
            minCosignatories={"relativeChange": -1},
        ),
    ),
    (
        "cosignature",
        {
            "type": "cosignature_v1",
            "other_transaction_hash": "c74f36e32561f1e701bc078cd4aad88d9635d88697ebbb423aa277e207406069",
            "multisig_account_address": ADDR_MULTISIG,
        },
        tx(
            4098,
            otherHash={"data": "c74f36e32561f1e701bc078cd4aad88d9635d88697ebbb423aa277e207406069"},
            otherAccount=ADDR_MULTISIG,
        ),
    ),
    (
        "provision root namespace",
        {"type": "namespace_registration_transaction_v1", "rental_fee_sink": NAMESPACE_SINK, "rental_fee": 100_000_000, "name": b"root"},
        tx(8193, rentalFeeSink=NAMESPACE_SINK, rentalFee=100_000_000, newPart="root", parent=None),
    ),
    (
        "provision sub-namespace",
        {
            "type": "namespace_registration_transaction_v1",
            "rental_fee_sink": NAMESPACE_SINK,
            "rental_fee": 10_000_000,
            "name": b"sub",
            "parent_name": b"root",
        },
        tx(8193, rentalFeeSink=NAMESPACE_SINK, rentalFee=10_000_000, newPart="sub", parent="root"),
    ),
    (
        "mosaic definition with levy",
        {
            "type": "mosaic_definition_transaction_v1",
            "mosaic_definition": {
                "owner_public_key": KEY_NAX3,
                "id": _COIN,
                "description": b"a coin",
                "properties": [
                    {"property_": {"name": b"divisibility", "value": b"0"}},
                    {"property_": {"name": b"initialSupply", "value": b"1000"}},
                ],
                "levy": {
                    "transfer_fee_type": "percentile",
                    "recipient_address": ADDR_NAX3,
                    "mosaic_id": {"namespace_id": {"name": b"nem"}, "name": b"xem"},
                    "fee": 10,
                },
            },
            "rental_fee_sink": MOSAIC_SINK,
            "rental_fee": 10_000_000,
        },
        tx(
            16385,
            mosaicDefinition={
                "creator": KEY_NAX3,
                "id": _COIN_JSON,
                "description": "a coin",
                "properties": [{"name": "divisibility", "value": "0"}, {"name": "initialSupply", "value": "1000"}],
                "levy": {"type": 2, "recipient": ADDR_NAX3, "mosaicId": {"namespaceId": "nem", "name": "xem"}, "fee": 10},
            },
            creationFeeSink=MOSAIC_SINK,
            creationFee=10_000_000,
        ),
    ),
    (
        "mosaic definition without levy",
        {
            "type": "mosaic_definition_transaction_v1",
            "mosaic_definition": {"owner_public_key": KEY_NAX3, "id": _COIN, "description": b"", "properties": []},
            "rental_fee_sink": MOSAIC_SINK,
            "rental_fee": 10_000_000,
        },
        tx(
            16385,
            mosaicDefinition={"creator": KEY_NAX3, "id": _COIN_JSON, "description": "", "properties": [], "levy": {}},
            creationFeeSink=MOSAIC_SINK,
            creationFee=10_000_000,
        ),
    ),
    (
        "mosaic supply change",
        {"type": "mosaic_supply_change_transaction_v1", "mosaic_id": _COIN, "action": "increase", "delta": 5},
        tx(16386, mosaicId=_COIN_JSON, supplyType=1, delta=5),
    ),
]


@pytest.mark.parametrize(("descriptor", "transaction"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_type_matches_the_sdk_descriptor_path(descriptor: dict[str, Any], transaction: dict[str, Any]) -> None:
    expected = str(FACADE.hash_transaction(FACADE.transaction_factory.create({**_COMMON_SDK, **descriptor}))).lower()
    assert txhash.transaction_hash(transaction) == expected
    assert txhash.inner_hash(transaction) is None


@pytest.mark.parametrize(
    ("descriptor", "transaction"),
    [c[1:] for c in CASES if c[0] != "cosignature"],
    ids=[c[0] for c in CASES if c[0] != "cosignature"],
)
def test_multisig_wraps_every_other_type(descriptor: dict[str, Any], transaction: dict[str, Any]) -> None:
    inner = FACADE.transaction_factory.create({**_COMMON_SDK, **descriptor})
    wrapper = FACADE.transaction_factory.create(
        {"type": "multisig_transaction_v1", "signer_public_key": KEY_COSIGNER, "fee": 150000, "timestamp": 100, "deadline": 3700}
    )
    wrapper.inner_transaction = TransactionFactory.to_non_verifiable_transaction(inner)
    encoded = txhash.encode(multisig(transaction, cosignature_fees=(150000,)))
    assert encoded.hash == str(FACADE.hash_transaction(wrapper)).lower()
    assert encoded.inner_hash == str(FACADE.hash_transaction(inner)).lower()


def test_signed_synthetic_transactions_verify() -> None:
    key = str(TEST_KEY.public_key).lower()
    for _, _, transaction in CASES:
        signed = dict(transaction, signer=key)
        signed["signature"] = str(TEST_KEY.sign(txhash.encode(signed).unsigned)).lower()
        assert txhash.verify_signature(signed)
        assert not txhash.verify_signature(dict(signed, deadline=signed["deadline"] + 1))


def test_unsigned_form_is_the_sdk_non_verifiable_form() -> None:
    for _, descriptor, transaction in CASES:
        if descriptor["type"] == "cosignature_v1":
            continue  # a cosignature has no non-verifiable SDK class; its hash is checked above
        sdk = txhash.sdk_transaction(transaction)
        assert txhash.encode(transaction).unsigned == bytes(TransactionFactory.to_non_verifiable_transaction(sdk).serialize())


# --- aggregate modification: NIS order and an absent minCosignatories ----------------------------


def _modification_body(keys: list[str], tail: bytes) -> bytes:
    body = struct.pack("<i", len(keys))
    for key in keys:
        body += struct.pack("<iii", 40, 1, 32) + bytes.fromhex(key)
    return body + tail


def test_modifications_keep_the_nis_order_the_sdk_would_refuse() -> None:
    nis_order = [KEY_A, KEY_B]  # NB4E... < NBDD... as strings; the SDK sorts them the other way
    sdk = nc.MultisigAccountModificationTransactionV1()
    sdk.modifications = txhash.sdk_transaction(
        tx(4097, modifications=[{"modificationType": 1, "cosignatoryAccount": k} for k in nis_order])
    ).modifications
    with pytest.raises(ValueError, match="sorted"):
        sdk.serialize()
    v1 = tx(4097, modifications=[{"modificationType": 1, "cosignatoryAccount": k} for k in nis_order])
    assert txhash.encode(v1).unsigned.endswith(_modification_body(nis_order, b""))
    v2 = dict(v1, version=MAINNET_V2, minCosignatories={"relativeChange": 2})
    assert txhash.encode(v2).unsigned.endswith(_modification_body(nis_order, struct.pack("<ii", 4, 2)))


def test_absent_min_cosignatories_is_an_empty_object() -> None:
    mods = [{"modificationType": 1, "cosignatoryAccount": KEY_MULTISIG}]
    absent = tx(4097, MAINNET_V2, modifications=mods, minCosignatories={})
    zero = tx(4097, MAINNET_V2, modifications=mods, minCosignatories={"relativeChange": 0})
    assert txhash.encode(absent).unsigned.endswith(_modification_body([KEY_MULTISIG], struct.pack("<i", 0)))
    assert txhash.encode(zero).unsigned.endswith(_modification_body([KEY_MULTISIG], struct.pack("<ii", 4, 0)))
    assert txhash.transaction_hash(absent) != txhash.transaction_hash(zero)
    assert txhash.transaction_hash(dict(absent, minCosignatories=None)) == txhash.transaction_hash(absent)
    wrapped = txhash.encode(multisig(absent))
    assert wrapped.inner_hash == txhash.transaction_hash(absent)


# --- messages, networks, unsupported and malformed -------------------------------------------------


def test_empty_payload_is_no_message() -> None:
    none = transfer(5, message={})
    assert txhash.transaction_hash(transfer(5, message={"type": 1, "payload": ""})) == txhash.transaction_hash(none)
    assert txhash.transaction_hash(transfer(5, message=None)) == txhash.transaction_hash(none)
    without_key = transfer(5)
    del without_key["message"]
    assert txhash.transaction_hash(without_key) == txhash.transaction_hash(none)
    assert txhash.transaction_hash(transfer(5, message={"type": 1, "payload": "00"})) != txhash.transaction_hash(none)


def test_testnet_transaction_hashes_like_the_sdk() -> None:
    recipient = "TAMESPACEWH4MKFMBCVFERDPOOP4FK7MTDJEYP35"
    testnet = NemFacade("testnet")
    expected = testnet.hash_transaction(
        testnet.transaction_factory.create(
            {**_COMMON_SDK, "type": "transfer_transaction_v2", "recipient_address": recipient, "amount": 1, "mosaics": []}
        )
    )
    transaction = tx(257, TESTNET_V2, recipient=recipient, amount=1, mosaics=[], message={})
    assert txhash.transaction_hash(transaction, Network.TESTNET) == str(expected).lower()
    with pytest.raises(ParseError, match="network byte"):
        txhash.transaction_hash(transaction)
    with pytest.raises(ParseError):
        txhash.transaction_hash(transfer(1), Network.TESTNET)


@pytest.mark.parametrize(
    "transaction",
    [
        tx(9999),
        tx(257, 0x68000003, recipient=ADDR_NAX3, amount=1),
        multisig(multisig(transfer(1))),
        multisig(tx(4098, otherHash={"data": "cd" * 32}, otherAccount=ADDR_MULTISIG)),
        multisig(tx(12345)),
    ],
    ids=["unknown type", "transfer v3", "multisig in multisig", "cosignature wrapped", "unknown inner"],
)
def test_unsupported_types_say_so(transaction: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedTransaction):
        txhash.encode(transaction)


@pytest.mark.parametrize(
    "transaction",
    [
        transfer(1, signer="zz" * 32),
        transfer(1, signer="ab" * 31),
        transfer(True),
        transfer(-1),
        transfer(2**64),
        transfer(1, recipient="NAX3EP4EKUMLH4T3N7GJSTQDG2AMUK5T26P5EA2N"),
        transfer(1, recipient=12),
        transfer(1, message={"type": 3, "payload": "00"}),
        transfer(1, message={"type": 1, "payload": "0"}),
        transfer(1, message={"type": 1, "payload": "ab cd"}),
        transfer(1, mosaics=[("ns", "\ud800", 1)]),
        dict(transfer(1), mosaics=[{"quantity": 1, "mosaicId": {"namespaceId": "a", "name": "b"}}]),
        dict(transfer(1), signature="00"),
        dict(transfer(1), timeStamp=-5),
        tx(2049, mode=3, remoteAccount=KEY_MULTISIG),
        tx(4097, modifications=[{"modificationType": 0, "cosignatoryAccount": KEY_MULTISIG}]),
        tx(16386, mosaicId=_COIN_JSON, supplyType=7, delta=1),
        tx(4098, otherHash={}, otherAccount=ADDR_MULTISIG),
        dict(multisig(transfer(1)), signatures=[transfer(1)]),
        dict(multisig(transfer(1)), signatures=[tx(9999)]),
        {k: v for k, v in transfer(1).items() if k != "fee"},
        [transfer(1)],
        "257",
    ],
)
def test_malformed_input_raises_parse_error(transaction: Any) -> None:
    with pytest.raises(ParseError):
        txhash.encode(transaction)


def test_transaction_bytes_need_a_signature() -> None:
    with pytest.raises(ParseError, match="signature"):
        txhash.transaction_bytes(transfer(1))
    assert txhash.encode(transfer(1)).signed is None
    ms = load("multisig_3eef.json")["transaction"]
    assert txhash.encode(ms).signed is not None
    del ms["signatures"][0]["signature"]
    encoded = txhash.encode(ms)
    assert encoded.signed is None
    assert encoded.hash == "3eef4c05b4018d2d32c62b24dcfd2f98d50daf6be8622fa20c7eca4d9c58487c"


# --- block hash --------------------------------------------------------------------------------


def _signed(transaction: dict[str, Any], key: KeyPair = TEST_KEY) -> dict[str, Any]:
    out = dict(transaction, signer=str(key.public_key).lower())
    out["signature"] = str(key.sign(txhash.encode(out).unsigned)).lower()
    return out


def _block(transactions: list[dict[str, Any]], key: KeyPair = TEST_KEY) -> dict[str, Any]:
    block = {
        "timeStamp": 9232968,
        "signature": "00" * 64,
        "prevBlockHash": {"data": "58efa578aea719b644e8d7c731852bb26d8505257e03a897c8102e8c894a99d6"},
        "type": 1,
        "transactions": transactions,
        "version": MAINNET_V1,
        "signer": str(key.public_key).lower(),
        "height": 42804,
    }
    block["signature"] = str(key.sign(txhash.block_signing_bytes(block))).lower()
    return block


def test_block_signing_bytes_follow_the_nis_layout() -> None:
    transactions = [_signed(transfer(1)), load("multisig_3eef.json")["transaction"]]
    block = _block(transactions)
    expected = struct.pack("<iii", 1, MAINNET_V1, 9232968)
    expected += struct.pack("<i", 32) + bytes.fromhex(block["signer"])
    expected += struct.pack("<ii", 36, 32) + bytes.fromhex(block["prevBlockHash"]["data"])
    expected += struct.pack("<q", 42804) + struct.pack("<i", 2)
    for transaction in transactions:
        signed = txhash.transaction_bytes(transaction)
        expected += struct.pack("<i", len(signed)) + signed
    assert txhash.block_signing_bytes(block) == expected
    assert txhash.block_hash(block) == txhash.keccak256(expected).hex()
    assert len(txhash.block_signing_bytes(_block([]))) == 100


def test_block_hash_is_deterministic_and_sensitive_to_every_field() -> None:
    block = _block([_signed(transfer(1)), _signed(transfer(2, mosaics=[("nem", "xem", 5)]))])
    reference = txhash.block_hash(block)
    assert reference == txhash.block_hash(copy.deepcopy(block))
    assert len(reference) == 64 and reference == reference.lower()
    signed = [txhash.encode(t).signed for t in block["transactions"]]
    assert txhash.block_hash(block, signed_transactions=signed) == reference
    # the block signature is not part of the hash
    assert txhash.block_hash(dict(block, signature="11" * 64)) == reference
    changes = [
        {"timeStamp": block["timeStamp"] + 1},
        {"type": -1},
        {"version": MAINNET_V1 + 1},
        {"height": block["height"] + 1},
        {"signer": KEY_NAX3},
        {"prevBlockHash": {"data": "00" * 32}},
        {"transactions": block["transactions"][:1]},
        {"transactions": block["transactions"][::-1]},
        {"transactions": [block["transactions"][0], dict(block["transactions"][1], signature="22" * 64)]},
    ]
    hashes = {txhash.block_hash(dict(block, **change)) for change in changes}
    assert reference not in hashes and len(hashes) == len(changes)


def test_block_signature_checks_the_same_bytes() -> None:
    block = _block([_signed(transfer(7)), load("transfer_v2_mosaics_ef33.json")["transaction"]])
    assert txhash.verify_block_signature(block)
    assert not txhash.verify_block_signature(dict(block, height=block["height"] + 1))
    assert not txhash.verify_block_signature(dict(block, signature="00" * 64))
    assert not txhash.verify_block_signature(dict(block, signer="00" * 32))


def test_block_hash_refuses_what_it_cannot_serialize() -> None:
    block = _block([_signed(transfer(1))])
    with pytest.raises(ParseError):
        txhash.block_hash(dict(block, transactions=[transfer(1)]))  # no signature
    with pytest.raises(ParseError):
        txhash.block_hash(block, signed_transactions=[])
    with pytest.raises(ParseError):
        txhash.block_hash(dict(block, prevBlockHash={}))
    with pytest.raises(ParseError):
        txhash.block_hash(dict(block, version=TESTNET_V2))
    with pytest.raises(UnsupportedTransaction):
        txhash.block_hash(dict(block, transactions=[dict(tx(9999), signature="00" * 64)]))
