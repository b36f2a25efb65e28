"""Property tests: whatever a node sends, the codec returns a model or raises ParseError."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nis_samples import ADDR_MULTISIG, ADDR_NAX3, KEY_MULTISIG, KEY_NAX3, fixture_names, load

from nemwatch.core.models import (
    AccountInfo,
    Block,
    MosaicAmount,
    NodeInfo,
    NodeStatus,
    Transfer,
    TxBase,
)
from nemwatch.core.nem import address, codec, txhash
from nemwatch.core.nem.codec import ParseError

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEX64 = re.compile(r"[0-9a-f]{64}")

FIELD_NAMES = [
    "data", "meta", "transaction", "type", "version", "signer", "signature", "fee", "timeStamp",
    "deadline", "amount", "recipient", "mosaics", "message", "payload", "quantity", "mosaicId",
    "namespaceId", "name", "otherTrans", "signatures", "otherHash", "otherAccount", "hash",
    "innerHash", "height", "id", "account", "address", "balance", "vestedBalance", "importance",
    "publicKey", "label", "harvestedBlocks", "multisigInfo", "cosignatories", "cosignatoryOf",
    "prevBlockHash", "transactions", "code", "message", "status", "error", "metaData", "endpoint",
    "identity", "networkId", "host", "port", "public-key", "mode", "remoteAccount", "modifications",
    "modificationType", "cosignatoryAccount", "minCosignatories", "relativeChange",
]  # fmt: skip
INTERESTING = [
    257, 2049, 4097, 4098, 4100, 8193, 16385, 16386, 1, 2, -1, 0, 1744830465, 1744830466,
    -1744830463, 2**31, 2**63, -(2**63), 10**30, KEY_NAX3, KEY_MULTISIG, ADDR_NAX3, ADDR_MULTISIG,
    "fe00", "00" * 32, "00" * 64, "", "nem", "xem", "\ud800", "\x1b[2J", {}, [],
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=40).map(bytes.hex),
    st.sampled_from(INTERESTING),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)), children, max_size=6),
    ),
    max_leaves=25,
)

PARSERS = [
    (codec.parse_account, AccountInfo),
    (codec.parse_mosaics_owned, tuple),
    (codec.parse_status, NodeStatus),
    (codec.parse_node_info, NodeInfo),
    (codec.parse_height, int),
    (codec.parse_block, Block),
    (codec.parse_tx_pair, TxBase),
    (codec.parse_tx_page, tuple),
    (codec.parse_unconfirmed, tuple),
    (codec.parse_error, codec.NisError),
    (codec.parse_transaction, TxBase),
]


def _check_transaction(t: TxBase) -> None:
    assert HEX64.fullmatch(t.hash)
    assert t.inner_hash is None or HEX64.fullmatch(t.inner_hash)
    assert address.is_valid(t.sender)
    assert t.fee >= 0
    if isinstance(t, Transfer):
        assert address.is_valid(t.recipient)
        assert t.xem >= 0 and all(m.quantity >= 0 for m in t.mosaics)
        assert all(m.id != "nem:xem" for m in t.mosaics)
        if not t.mosaics and t.xem != t.amount:
            assert t.version & 0xFFFFFF == 2  # only a v2 transfer with nem:xem attached differs


def _check(result: Any, expected: type) -> None:
    assert isinstance(result, expected)
    items = result.transactions if isinstance(result, Block) else result if isinstance(result, tuple) else (result,)
    for item in items:
        if isinstance(item, TxBase):
            _check_transaction(item)
        elif isinstance(result, tuple):
            assert isinstance(item, (TxBase, MosaicAmount))


def _run_all(value: Any) -> None:
    for parse, expected in PARSERS:
        try:
            result = parse(value)
        except ParseError:
            continue
        _check(result, expected)


@FUZZ
@given(json_values)
def test_arbitrary_json_values_into_every_parser(value: Any) -> None:
    _run_all(value)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


def _mutate(data: st.DataObject, sample: Any, most: int = 3) -> Any:
    sample = copy.deepcopy(sample)
    for _ in range(data.draw(st.integers(1, most), label="mutations")):
        paths = [p for p in _paths(sample) if p]
        if not paths:
            return data.draw(json_values)
        path = data.draw(st.sampled_from(paths), label="path")
        parent = sample
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        ops = ["replace", "delete", "null", "empty", "wrap", "scalar"]
        if type(parent[key]) is int:
            ops += ["number"] * 6  # a plausible value keeps the rest valid and reaches the rules
        op = data.draw(st.sampled_from(ops), label="op")
        if op == "number":
            parent[key] = data.draw(st.integers(0, 2**63 - 1) | st.integers(-5, 5), label="number")
        elif op == "delete":
            del parent[key]
        elif op == "null":
            parent[key] = None
        elif op == "empty":
            parent[key] = {} if isinstance(parent[key], dict) else [] if isinstance(parent[key], list) else ""
        elif op == "wrap":
            parent[key] = [parent[key]]
        elif op == "scalar":
            parent[key] = data.draw(st.sampled_from(INTERESTING))
        else:
            parent[key] = data.draw(json_values, label="value")
    return sample


SAMPLES = {name: load(name) for name in fixture_names()}
TRANSACTIONS = [
    SAMPLES["transfer_v2_mosaics_ef33.json"]["transaction"],
    SAMPLES["multisig_3eef.json"]["transaction"],
    SAMPLES["unconfirmed_nax3.json"]["data"][0]["transaction"],
    *(item["transaction"] for item in SAMPLES["incoming_nax3.json"]["data"]),
]


@FUZZ
@given(st.data())
def test_mutated_real_samples_into_every_parser(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(SAMPLES)), label="sample")
    _run_all(_mutate(data, SAMPLES[name]))


@FUZZ
@given(st.data())
def test_mutated_transactions_in_blocks_and_pools(data: st.DataObject) -> None:
    transactions = list(TRANSACTIONS)
    which = data.draw(st.integers(0, len(transactions) - 1), label="which")
    transactions[which] = _mutate(data, transactions[which], most=1)
    block = dict(SAMPLES["block_42804.json"], transactions=transactions)
    for parse, expected, value in [
        (codec.parse_block, Block, block),
        (codec.parse_unconfirmed, tuple, {"data": [{"meta": {"data": None}, "transaction": t} for t in transactions]}),
        (codec.parse_tx_page, tuple, {"data": [{"meta": {"innerHash": {}, "id": 1, "hash": {"data": "ab" * 32}, "height": 9}, "transaction": t} for t in transactions]}),
    ]:
        try:
            result = parse(value)
        except ParseError:
            continue
        _check(result, expected)
    for transaction in transactions:
        try:
            encoded = txhash.encode(transaction)
        except ParseError:
            continue
        assert HEX64.fullmatch(encoded.hash)
    try:
        digest = txhash.block_hash(block)
    except ParseError:
        return
    assert HEX64.fullmatch(digest)


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_into_parse_json(raw: bytes) -> None:
    try:
        codec.parse_json(raw)
    except ParseError:
        pass


@FUZZ
@given(st.data())
def test_damaged_raw_answers(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(SAMPLES)), label="sample")
    raw = bytearray(json.dumps(SAMPLES[name]).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(raw) - 1))
        raw[where] = data.draw(st.integers(0, 255))
    try:
        value = codec.parse_json(bytes(raw))
    except ParseError:
        return
    _run_all(value)
