"""NIS JSON -> nemwatch models. The one place where node answers become typed objects.

Everything here is untrusted input: every function raises only ``ParseError`` (a
``ValueError``) whatever it is given, and returns frozen models otherwise. Text stays raw in the
models (messages, labels, node names); sanitize it with ``nemwatch.core.text`` before output.

Rules applied to transactions:

- the sender is the address of the real signer: for a multisig wrapper (4100) the inner
  ``otherTrans.signer`` (the multisig account); ``initiator`` is the outer signer's address;
- the fee is what the sender pays: for 4100 the outer, inner and all cosignature fees;
- ``nem_timestamp``, ``deadline`` and ``version`` describe the inner transaction of a wrapper,
  ``signature`` is the wrapper's;
- XEM moved by a transfer: ``amount`` when ``mosaics`` is absent or empty, else
  ``amount * q(nem:xem) // 1_000_000`` and 0 without nem:xem; every other mosaic moves
  ``amount * quantity // 1_000_000`` and nem:xem is never listed among ``mosaics``;
- messages: ``{}`` or an empty payload is no message; type 1 is plain UTF-8 (invalid bytes
  replaced) unless its payload starts with 0xfe, then it is a hex message whose text is the hex
  of the rest; type 2 is encrypted with empty text;
- the network byte of every ``version`` must be the expected network's;
- a type (or structure version) nemwatch does not know becomes ``UnknownTx``, never an error.
  When NIS gives no hash for it (blocks, unconfirmed) and it cannot be serialized, its ``hash``
  is the Keccak-256 of its canonical JSON (sorted keys, compact): stable, but not a chain hash;
- ``MosaicDefinitionTx.creator`` is the creator's address.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from nemwatch.core.models import (
    MICRO_XEM,
    TYPE_IMPORTANCE_TRANSFER,
    TYPE_MOSAIC_DEFINITION,
    TYPE_MOSAIC_SUPPLY_CHANGE,
    TYPE_MULTISIG,
    TYPE_MULTISIG_MODIFICATION,
    TYPE_PROVISION_NAMESPACE,
    TYPE_TRANSFER,
    XEM_MOSAIC_ID,
    AccountInfo,
    Block,
    CosignatoryModification,
    ImportanceTransfer,
    Message,
    MessageType,
    MosaicAmount,
    MosaicDefinitionTx,
    MosaicLevy,
    MosaicSupplyChange,
    MultisigInfo,
    MultisigModification,
    Network,
    NodeInfo,
    NodeStatus,
    ProvisionNamespace,
    Transaction,
    Transfer,
    UnknownTx,
)
from nemwatch.core.nem import nemtime
from nemwatch.core.nem import nisjson as j
from nemwatch.core.nem import txhash
from nemwatch.core.nem.nisjson import ParseError

__all__ = [
    "NisError",
    "ParseError",
    "parse_account",
    "parse_block",
    "parse_error",
    "parse_height",
    "parse_json",
    "parse_mosaics_owned",
    "parse_node_info",
    "parse_status",
    "parse_transaction",
    "parse_tx_page",
    "parse_tx_pair",
    "parse_unconfirmed",
]

MAINNET = Network.MAINNET


@dataclass(frozen=True, slots=True)
class NisError:
    """A NIS error body: ``{"timeStamp", "error", "message", "status"}``. Text is raw."""

    status: int
    error: str
    message: str
    nem_timestamp: int | None = None

    @property
    def timestamp(self) -> datetime | None:
        return None if self.nem_timestamp is None else nemtime.to_datetime(self.nem_timestamp)


def _reject_constant(name: str) -> Any:
    raise ParseError(f"JSON constant {name} is not allowed")


@j.untrusted
def parse_json(raw: bytes | bytearray | memoryview | str) -> Any:
    """Decode a node's raw answer (strict UTF-8 JSON; NaN and Infinity are refused)."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("answer is not UTF-8") from None
    if not isinstance(raw, str):
        raise ParseError("answer must be bytes or text")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise ParseError(f"answer is not JSON (line {err.lineno} column {err.colno})") from None


# --- node, chain, account --------------------------------------------------------------------


@j.untrusted
def parse_status(obj: Any) -> NodeStatus:
    """``/heartbeat`` or ``/status``: ``{"code", "type", "message"}``."""
    d = j.as_dict(obj, "status")
    message = j.optional_text(d, "message")
    return NodeStatus(
        code=j.integer(d, "code", j.INT32), type=j.integer(d, "type", j.INT32), message=message or ""
    )


@j.untrusted
def parse_node_info(obj: Any) -> NodeInfo:
    """``/node/info`` (a Node: metaData, endpoint, identity)."""
    d = j.as_dict(obj, "node")
    meta = j.as_dict(j.required(d, "metaData"), "metaData")
    endpoint = j.as_dict(j.required(d, "endpoint"), "endpoint")
    identity = j.as_dict(j.required(d, "identity"), "identity")
    return NodeInfo(
        network_id=j.integer(meta, "networkId", (-128, 127)),
        version=j.optional_text(meta, "version") or "",
        features=j.optional_int(meta, "features", j.INT32) or 0,
        application=j.optional_text(meta, "application"),
        host=j.text(endpoint, "host"),
        port=j.integer(endpoint, "port", (0, 65535)),
        name=j.optional_text(identity, "name") or "",
        public_key=j.public_key(identity, "public-key"),
    )


@j.untrusted
def parse_height(obj: Any) -> int:
    """``/chain/height`` or ``/node/active-peers/max-chain-height``: ``{"height": N}``."""
    return j.integer(j.as_dict(obj, "height"), "height", (1, 2**63 - 1))


def _account_addresses(items: list[Any], what: str, network: Network) -> tuple[str, ...]:
    return tuple(j.address(j.as_dict(item, what), "address", network) for item in items)


@j.untrusted
def parse_account(obj: Any, network: Network = MAINNET) -> AccountInfo:
    """``/account/get*``: an AccountMetaDataPair ``{"meta", "account"}`` or a bare AccountInfo."""
    d = j.as_dict(obj, "account")
    if "account" in d:
        info = j.as_dict(d["account"], "account")
        meta = j.optional_object(d, "meta") or {}
    else:
        info, meta = d, {}
    multisig_json = j.optional_object(info, "multisigInfo")
    multisig = None
    if multisig_json is not None:
        multisig = MultisigInfo(
            cosignatories_count=j.integer(multisig_json, "cosignatoriesCount", j.UINT31),
            min_cosignatories=j.integer(multisig_json, "minCosignatories", j.UINT31),
        )
    importance = j.required(info, "importance")
    if type(importance) not in (int, float) or importance != importance or abs(importance) == float("inf"):
        raise ParseError("importance: expected a finite number")
    return AccountInfo(
        address=j.address(info, "address", network),
        balance=j.integer(info, "balance"),
        vested_balance=j.integer(info, "vestedBalance"),
        importance=float(importance),
        public_key=j.optional_public_key(info, "publicKey"),
        label=j.optional_text(info, "label"),
        harvested_blocks=j.integer(info, "harvestedBlocks"),
        multisig=multisig,
        status=j.optional_text(meta, "status"),
        remote_status=j.optional_text(meta, "remoteStatus"),
        cosignatories=_account_addresses(j.array(meta, "cosignatories", optional=True), "cosignatories[]", network),
        cosignatory_of=_account_addresses(j.array(meta, "cosignatoryOf", optional=True), "cosignatoryOf[]", network),
    )


@j.untrusted
def parse_mosaics_owned(obj: Any) -> tuple[MosaicAmount, ...]:
    """``/account/mosaic/owned``: ``{"data": [{"mosaicId", "quantity"}]}``, nem:xem included."""
    items = j.array(j.as_dict(obj, "mosaics"), "data")
    out = []
    for item in items:
        item = j.as_dict(item, "data[]")
        namespace, name = j.mosaic_id(j.required(item, "mosaicId"), "mosaicId")
        out.append(MosaicAmount(namespace, name, j.integer(item, "quantity")))
    return tuple(out)


@j.untrusted
def parse_error(obj: Any) -> NisError:
    """A NIS error body (HTTP 4xx/5xx)."""
    d = j.as_dict(obj, "error")
    return NisError(
        status=j.integer(d, "status", (0, 999)),
        error=j.optional_text(d, "error") or "",
        message=j.optional_text(d, "message") or "",
        nem_timestamp=j.optional_int(d, "timeStamp", j.INT32),
    )


# --- transactions ----------------------------------------------------------------------------


def _message(tx: dict[str, Any]) -> Message | None:
    msg = j.optional_object(tx, "message")
    if msg is None:
        return None
    payload = j.hex_field(msg, "payload")
    kind = j.integer(msg, "type", j.UINT31)
    if kind == 2:
        return Message(MessageType.ENCRYPTED, payload, "") if payload else None
    if kind != 1:
        raise ParseError("message.type: expected 1 (plain) or 2 (encrypted)")
    if not payload:
        return None
    if payload[0] == 0xFE:
        return Message(MessageType.HEX, payload, payload[1:].hex())
    return Message(MessageType.PLAIN, payload, payload.decode("utf-8", errors="replace"))


def _mosaic_key(value: Any, what: str) -> tuple[str, str]:
    namespace, name = j.mosaic_id(value, what)
    return namespace, name


def _transfer_fields(tx: dict[str, Any], network: Network, version: int) -> dict[str, Any]:
    amount = j.integer(tx, "amount")
    attached: dict[tuple[str, str], int] = {}
    for entry in j.array(tx, "mosaics", optional=True):
        entry = j.as_dict(entry, "mosaics[]")
        key = _mosaic_key(j.required(entry, "mosaicId"), "mosaicId")
        attached[key] = attached.get(key, 0) + j.integer(entry, "quantity")
    if version == 1 and attached:
        raise ParseError("mosaics: a version 1 transfer cannot carry mosaics")
    if not attached:
        xem = amount
        mosaics: tuple[MosaicAmount, ...] = ()
    else:
        xem_namespace, xem_name = XEM_MOSAIC_ID.split(":")
        xem = amount * attached.pop((xem_namespace, xem_name), 0) // MICRO_XEM
        mosaics = tuple(
            MosaicAmount(namespace, name, amount * quantity // MICRO_XEM)
            for (namespace, name), quantity in attached.items()
        )
    return {
        "recipient": j.address(tx, "recipient", network),
        "amount": amount,
        "xem": xem,
        "mosaics": mosaics,
        "message": _message(tx),
    }


def _importance_fields(tx: dict[str, Any], network: Network, version: int) -> dict[str, Any]:
    mode = j.integer(tx, "mode", j.UINT31)
    if mode not in (1, 2):
        raise ParseError("mode: expected 1 (activate) or 2 (deactivate)")
    return {"mode": mode, "remote_public_key": j.public_key(tx, "remoteAccount")}


def _modification_fields(tx: dict[str, Any], network: Network, version: int) -> dict[str, Any]:
    modifications = []
    for entry in j.array(tx, "modifications"):
        entry = j.as_dict(entry, "modifications[]")
        kind = j.integer(entry, "modificationType", j.UINT31)
        if kind not in (1, 2):
            raise ParseError("modificationType: expected 1 (add) or 2 (delete)")
        modifications.append(CosignatoryModification(kind, j.public_key(entry, "cosignatoryAccount")))
    change = 0
    if version >= 2:
        minimum = j.optional_object(tx, "minCosignatories")
        change = 0 if minimum is None else j.integer(minimum, "relativeChange", j.INT32)
    return {"modifications": tuple(modifications), "min_cosignatories_change": change}


def _namespace_fields(tx: dict[str, Any], network: Network, version: int) -> dict[str, Any]:
    return {
        "rental_fee_sink": j.address(tx, "rentalFeeSink", network),
        "rental_fee": j.integer(tx, "rentalFee"),
        "new_part": j.text(tx, "newPart"),
        "parent": j.optional_text(tx, "parent"),
    }


def _mosaic_definition_fields(tx: dict[str, Any], network: Network, version: int) -> dict[str, Any]:
    definition = j.as_dict(j.required(tx, "mosaicDefinition"), "mosaicDefinition")
    namespace, name = _mosaic_key(j.required(definition, "id"), "id")
    properties = []
    for entry in j.array(definition, "properties"):
        entry = j.as_dict(entry, "properties[]")
        properties.append((j.text(entry, "name"), j.text(entry, "value")))
    levy = None
    levy_json = j.optional_object(definition, "levy")
    if levy_json is not None:
        kind = j.integer(levy_json, "type", j.UINT31)
        if kind not in (1, 2):
            raise ParseError("levy.type: expected 1 (absolute) or 2 (percentile)")
        levy_namespace, levy_name = _mosaic_key(j.required(levy_json, "mosaicId"), "levy.mosaicId")
        levy = MosaicLevy(
            type=kind,
            recipient=j.address(levy_json, "recipient", network),
            mosaic_id=f"{levy_namespace}:{levy_name}",
            fee=j.integer(levy_json, "fee"),
        )
    return {
        "creator": j.address_of_key(j.public_key(definition, "creator"), network),
        "mosaic_id": f"{namespace}:{name}",
        "description": j.text(definition, "description"),
        "properties": tuple(properties),
        "levy": levy,
        "creation_fee_sink": j.address(tx, "creationFeeSink", network),
        "creation_fee": j.integer(tx, "creationFee"),
    }


def _supply_fields(tx: dict[str, Any], network: Network, version: int) -> dict[str, Any]:
    namespace, name = _mosaic_key(j.required(tx, "mosaicId"), "mosaicId")
    kind = j.integer(tx, "supplyType", j.UINT31)
    if kind not in (1, 2):
        raise ParseError("supplyType: expected 1 (increase) or 2 (decrease)")
    return {"mosaic_id": f"{namespace}:{name}", "supply_type": kind, "delta": j.integer(tx, "delta")}


_MODELS: dict[int, tuple[type, Callable[[dict[str, Any], Network, int], dict[str, Any]]]] = {
    TYPE_TRANSFER: (Transfer, _transfer_fields),
    TYPE_IMPORTANCE_TRANSFER: (ImportanceTransfer, _importance_fields),
    TYPE_MULTISIG_MODIFICATION: (MultisigModification, _modification_fields),
    TYPE_PROVISION_NAMESPACE: (ProvisionNamespace, _namespace_fields),
    TYPE_MOSAIC_DEFINITION: (MosaicDefinitionTx, _mosaic_definition_fields),
    TYPE_MOSAIC_SUPPLY_CHANGE: (MosaicSupplyChange, _supply_fields),
}


def _json_hash(tx: dict[str, Any]) -> str:
    canonical = json.dumps(tx, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return txhash.keccak256(canonical.encode("ascii")).hex()


def _identity(
    tx: dict[str, Any], network: Network, hash: str | None, inner_hash: str | None
) -> tuple[str, str | None, bytes | None]:
    """Hash, inner hash and signed bytes; computed when not given (and possible)."""
    is_multisig = tx.get("type") == TYPE_MULTISIG
    if hash is not None and (inner_hash is not None or not is_multisig):
        return hash, inner_hash if is_multisig else None, None
    try:
        encoded = txhash.encode(tx, network)
    except txhash.UnsupportedTransaction:
        return hash or _json_hash(tx), inner_hash if is_multisig else None, None
    return hash or encoded.hash, inner_hash or encoded.inner_hash, encoded.signed


def _build(
    tx: Any,
    network: Network,
    hash: str | None,
    inner_hash: str | None,
    height: int | None,
    meta_id: int | None,
) -> tuple[Transaction, bytes | None]:
    tx = j.as_dict(tx, "transaction")
    outer_type, outer_version = txhash.type_and_version(tx, network)
    signature = tx.get("signature")
    signature_hex = None if signature is None else j.hex_value(signature, "signature", 64).hex()
    outer_key = j.public_key(tx, "signer")
    fee = j.integer(tx, "fee")
    if outer_type == TYPE_MULTISIG and outer_version == 1:
        inner = j.as_dict(j.required(tx, "otherTrans"), "otherTrans")
        kind, version = txhash.type_and_version(inner, network)
        initiator: str | None = j.address_of_key(outer_key, network)
        sender_key = j.public_key(inner, "signer")
        fee += j.integer(inner, "fee")
        for cosignature in j.array(tx, "signatures", optional=True):
            fee += j.integer(j.as_dict(cosignature, "signatures[]"), "fee")
    else:
        inner, kind, version = tx, outer_type, outer_version
        initiator, sender_key = None, outer_key
    the_hash, the_inner_hash, signed = _identity(tx, network, hash, inner_hash)
    nem_timestamp = j.integer(inner, "timeStamp", j.UINT31)
    base: dict[str, Any] = {
        "hash": the_hash,
        "inner_hash": the_inner_hash,
        "height": height,
        "meta_id": meta_id,
        "sender": j.address_of_key(sender_key, network),
        "sender_public_key": sender_key,
        "initiator": initiator,
        "fee": fee,
        "nem_timestamp": nem_timestamp,
        "timestamp": nemtime.to_datetime(nem_timestamp),
        "deadline": j.integer(inner, "deadline", j.UINT31),
        "version": j.integer(inner, "version", j.INT32),
        "signature": signature_hex,
        "signed_form": signed,
    }
    model = _MODELS.get(kind)
    if model is None or (kind, version) not in txhash.SUPPORTED:
        return UnknownTx(**base, type_code=kind), signed
    cls, fields = model
    return cls(**base, **fields(inner, network, version)), signed


def _optional_hash(value: str | None, what: str) -> str | None:
    return None if value is None else j.hex_value(value, what, 32).hex()


@j.untrusted
def parse_transaction(
    tx: Any,
    *,
    hash: str | None = None,
    inner_hash: str | None = None,
    height: int | None = None,
    meta_id: int | None = None,
    network: Network = MAINNET,
) -> Transaction:
    """One NIS transaction object; hashes not given are computed from the JSON."""
    transaction, _ = _build(
        tx,
        network,
        _optional_hash(hash, "hash"),
        _optional_hash(inner_hash, "inner_hash"),
        None if height is None else j.int_value(height, "height", (1, 2**63 - 1)),
        None if meta_id is None else j.int_value(meta_id, "meta_id"),
    )
    return transaction


@j.untrusted
def parse_tx_pair(obj: Any, network: Network = MAINNET) -> Transaction:
    """A TransactionMetaDataPair (``/account/transfers/*``, ``/transaction/get``).

    ``meta.hash`` is trusted as the hash; ``meta.innerHash`` as the inner hash of a multisig
    wrapper (computed when a node leaves it out, ignored on any other type).
    """
    d = j.as_dict(obj, "pair")
    meta = j.as_dict(j.required(d, "meta"), "meta")
    the_hash = j.wrapped_hash(meta, "hash")
    if the_hash is None:
        raise ParseError("meta.hash: missing")
    transaction, _ = _build(
        j.required(d, "transaction"),
        network,
        the_hash,
        j.wrapped_hash(meta, "innerHash"),
        j.integer(meta, "height", (1, 2**63 - 1)),
        j.integer(meta, "id"),
    )
    return transaction


@j.untrusted
def parse_tx_page(obj: Any, network: Network = MAINNET) -> tuple[Transaction, ...]:
    """A page of TransactionMetaDataPairs: ``{"data": [...]}``, newest first as NIS sends it."""
    return tuple(parse_tx_pair(item, network) for item in j.array(j.as_dict(obj, "page"), "data"))


@j.untrusted
def parse_unconfirmed(obj: Any, network: Network = MAINNET) -> tuple[Transaction, ...]:
    """``/account/unconfirmedTransactions``: pairs whose meta is ``{"data": innerHash|null}``.

    Hashes are computed; for a multisig wrapper NIS's ``meta.data`` is used only when the inner
    transaction cannot be serialized. ``height`` and ``meta_id`` are None.
    """
    out = []
    for item in j.array(j.as_dict(obj, "unconfirmed"), "data"):
        item = j.as_dict(item, "data[]")
        meta = j.optional_object(item, "meta") or {}
        given_inner = _optional_hash(meta.get("data"), "meta.data")
        tx = j.as_dict(j.required(item, "transaction"), "transaction")
        transaction, _ = _build(tx, network, None, None, None, None)
        if transaction.inner_hash is None and given_inner is not None and tx.get("type") == TYPE_MULTISIG:
            transaction = replace(transaction, inner_hash=given_inner)
        if not isinstance(transaction, UnknownTx):
            # a node can invent a pool entry, but not sign it with someone else's key
            transaction = replace(transaction, signature_valid=txhash.verify_signature(tx, network))
        out.append(transaction)
    return tuple(out)


@j.untrusted
def parse_block(obj: Any, height: int | None = None, network: Network = MAINNET) -> Block:
    """A Block (``/block/at/public``, ``/chain/last-block``); ``height`` is the one asked for.

    Transactions in a block carry no meta: their hashes are computed, their height is the
    block's. ``Block.hash`` is ``txhash.block_hash`` (None when a transaction cannot be
    serialized); see there for why it needs calibration.
    """
    d = j.as_dict(obj, "block")
    block_height = j.integer(d, "height", (1, 2**63 - 1))
    if height is not None and block_height != height:
        raise ParseError("height: the node answered with another block")
    j.entity_version(d, network)
    signer = j.public_key(d, "signer")
    prev = j.wrapped_hash(d, "prevBlockHash")
    if prev is None:
        raise ParseError("prevBlockHash: missing")
    signature = j.hex_field(d, "signature", 64).hex()
    transactions = []
    signed_forms: list[bytes] = []
    complete = True
    for tx in j.array(d, "transactions"):
        transaction, signed = _build(tx, network, None, None, block_height, None)
        transactions.append(transaction)
        if signed is None:
            complete = False
        else:
            signed_forms.append(signed)
    nem_timestamp = j.integer(d, "timeStamp", j.UINT31)
    block_hash = txhash.block_hash(d, network, signed_transactions=signed_forms) if complete else None
    signed = txhash.verify_block_signature(d, network, signed_transactions=signed_forms) if complete else None
    return Block(
        height=block_height,
        nem_timestamp=nem_timestamp,
        timestamp=nemtime.to_datetime(nem_timestamp),
        signer_public_key=signer,
        harvester=j.address_of_key(signer, network),
        prev_block_hash=prev,
        signature=signature,
        version=j.integer(d, "version", j.INT32),
        type=j.integer(d, "type", j.INT32),
        transactions=tuple(transactions),
        hash=block_hash,
        signed=signed,
    )
