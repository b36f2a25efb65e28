"""Build, sign and hash simulated NEM transactions with the official SDK, and write them as NIS JSON.

Every transaction the simulator serves is a real ``symbolchain`` object: it is serialized,
hashed (``NemFacade.hash_transaction``) and signed (``NemFacade.sign_transaction``) by the SDK,
and its NIS JSON is written from that object's fields, so a client that rebuilds the
transaction from the JSON gets the same bytes and the same hash, and the signature verifies.

Fees are the NIS1 minimum fees from the SDK's ``FeeCalculator``: a XEM transfer pays 0.05 XEM
per 10,000 XEM (at least 0.05, at most 1.25) plus 0.05 x (message bytes // 32 + 1) for a
message; a mosaic transfer pays the NIS1 mosaic fee computed from the mosaic's supply and
divisibility (0.05 for a small indivisible mosaic such as the 2018 marker); the multisig
wrapper and each cosignature pay 0.15. The funds account of a multisig spend pays all of it.

Construction goes through ``facade.transaction_factory.create`` (descriptors). Generated
benchmark variants may use ``fast=True``, which builds the same ``symbolchain.nc`` objects
directly (about five times faster; a test checks both give identical bytes), and
``signing="unsigned_fast"``, which skips signing and fills each signature with
``keccak512(b"nemwatch-sim-unsigned" + hash)``: the hashes stay genuine, the signatures do not
verify. Scenario files always sign.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sha3
from symbolchain import nc
from symbolchain.facade.NemFacade import NemFacade
from symbolchain.nem.FeeCalculator import calculate_transaction_fee
from symbolchain.nem.TransactionFactory import TransactionFactory

from nemwatch.core.models import (
    TYPE_MULTISIG,
    TYPE_MULTISIG_COSIGNATURE,
    TYPE_TRANSFER,
    XEM_MOSAIC_ID,
    Network,
)
from nemwatch.sim.keys import SimKey

Signing = Literal["signed", "unsigned_fast"]

XEM_SUPPLY = 8_999_999_999
MULTIPLIER_ONE = 1_000_000
DEFAULT_DEADLINE = 3600
FEE_UNIT = 50_000  # 0.05 XEM
_SIGNATURE_START, _SIGNATURE_END = 48, 116  # NIS binary header: type, version, time, signer | signature

_NC_NETWORK = {Network.MAINNET: nc.NetworkType.MAINNET, Network.TESTNET: nc.NetworkType.TESTNET}


def entity_version(network: Network, structure: int) -> int:
    """The signed int32 NIS ``version``: network byte in the top 8 bits."""
    raw = (network.address_byte << 24) | structure
    return raw - (1 << 32) if raw >= (1 << 31) else raw


@dataclass(frozen=True, slots=True)
class MosaicInfo:
    """What the fee rule needs to know of a mosaic: whole-unit supply and divisibility."""

    supply: int
    divisibility: int


@dataclass(frozen=True, slots=True)
class BuiltTx:
    """One signed transaction, ready to be queued on the simulated chain.

    ``json`` is the NIS JSON as a block or a confirmed listing shows it; ``pool_json`` is the
    multisig wrapper as the unconfirmed pool shows it before its cosignatures arrive (else
    None). ``signed_bytes`` is the full binary form (what a block hash covers). ``xem`` and
    ``mosaics`` are what actually moves; ``fee`` is everything the funds account pays.
    """

    json: dict[str, Any]
    pool_json: dict[str, Any] | None
    hash: str
    inner_hash: str | None
    signed_bytes: bytes
    fee: int
    xem: int
    mosaics: tuple[tuple[str, int], ...]
    created: int
    ready: int
    deadline: int


def xem_transfer_fee(amount: int, message_length: int | None) -> int:
    """NIS1 minimum fee of a XEM-only transfer, micro-XEM (message_length None: no message)."""
    units = min(25, max(1, amount // 1_000_000 // 10_000))
    if message_length is not None:
        units += message_length // 32 + 1
    return units * FEE_UNIT


def split_mosaic_id(mosaic_id: str) -> tuple[str, str]:
    namespace, sep, name = mosaic_id.partition(":")
    if not sep or not namespace or not name:
        raise ValueError(f"mosaic id must be namespace:name, got {mosaic_id!r}")
    return namespace, name


class TxBuilder:
    """Builds transfers (v1, v2) and multisig-wrapped transfers for one network."""

    def __init__(
        self,
        network: Network = Network.MAINNET,
        mosaics: Mapping[str, MosaicInfo] | None = None,
        *,
        signing: Signing = "signed",
        fast: bool = False,
    ) -> None:
        self.network = network
        self.facade = NemFacade(network.value)
        self.signing: Signing = signing
        self.fast = fast
        self._fee_info: dict[str, dict[str, int]] = {
            XEM_MOSAIC_ID: {"supply": XEM_SUPPLY, "divisibility": 6}
        }
        for mosaic_id, info in (mosaics or {}).items():
            self._fee_info[mosaic_id] = {"supply": info.supply, "divisibility": info.divisibility}

    # --- public ---------------------------------------------------------------------------

    def transfer(
        self,
        signer: SimKey,
        recipient: str,
        *,
        timestamp: int,
        xem: int,
        mosaics: Sequence[tuple[str, int]] = (),
        message: bytes | None = None,
        message_type: int = 1,
        version: int | None = None,
        multiplier: int = MULTIPLIER_ONE,
        deadline: int | None = None,
    ) -> BuiltTx:
        """A signed transfer of ``xem`` micro-XEM (and ``mosaics``) from ``signer``.

        With mosaics the transfer is v2 and ``nem:xem`` is attached for the XEM part, with
        ``multiplier`` as ``amount``; without, it is v1 unless ``version=2`` is asked for
        (then ``mosaics: []``).
        """
        tx, moved = self._transfer_object(
            signer.public_key, recipient, timestamp, xem, mosaics, message, message_type,
            version, multiplier, deadline,
        )
        tx_hash, signed = self._seal(signer, tx)
        body = self._transfer_json(tx, with_signature=True)
        return BuiltTx(
            json=body,
            pool_json=None,
            hash=tx_hash,
            inner_hash=None,
            signed_bytes=signed,
            fee=tx.fee.value,
            xem=moved[0],
            mosaics=moved[1],
            created=timestamp,
            ready=timestamp,
            deadline=tx.deadline.value,
        )

    def multisig_transfer(
        self,
        account: SimKey,
        initiator: SimKey,
        cosigners: Sequence[SimKey],
        recipient: str,
        *,
        timestamp: int,
        xem: int,
        mosaics: Sequence[tuple[str, int]] = (),
        message: bytes | None = None,
        message_type: int = 1,
        version: int | None = None,
        multiplier: int = MULTIPLIER_ONE,
        deadline: int | None = None,
        cosign_delay: int = 30,
    ) -> BuiltTx:
        """A 4100 wrapper signed by ``initiator`` around a transfer from multisig ``account``.

        Each of ``cosigners`` adds a signed 4098 cosignature ``cosign_delay`` seconds after the
        previous one; the transaction is complete (``ready``) at the last cosignature.
        """
        inner, moved = self._transfer_object(
            account.public_key, recipient, timestamp, xem, mosaics, message, message_type,
            version, multiplier, deadline,
        )
        inner_hash = str(self.facade.hash_transaction(inner)).lower()
        outer = self._multisig_object(initiator.public_key, timestamp, inner.deadline.value, inner)
        outer_hash, _ = self._seal(initiator, outer)

        cosignatures = []
        signature_json = []
        when = timestamp
        for cosigner in cosigners:
            when += cosign_delay
            cosig = self._cosignature_object(cosigner.public_key, when, inner_hash, account.address)
            self._seal(cosigner, cosig)
            prefixed = nc.SizePrefixedCosignatureV1()
            prefixed.cosignature = cosig
            cosignatures.append(prefixed)
            signature_json.append(self._cosignature_json(cosig, inner_hash, account.address))
        outer.cosignatures = cosignatures

        inner_json = self._transfer_json(inner, with_signature=False)
        total_fee = inner.fee.value + outer.fee.value + sum(c.cosignature.fee.value for c in cosignatures)
        return BuiltTx(
            json=self._multisig_json(outer, signature_json, inner_json),
            pool_json=self._multisig_json(outer, [], inner_json) if cosignatures else None,
            hash=outer_hash,
            inner_hash=inner_hash,
            signed_bytes=bytes(outer.serialize()),
            fee=total_fee,
            xem=moved[0],
            mosaics=moved[1],
            created=timestamp,
            ready=when,
            deadline=outer.deadline.value,
        )

    # --- SDK objects (each built with its minimum fee) ------------------------------------

    def _transfer_object(
        self,
        signer_public_key: str,
        recipient: str,
        timestamp: int,
        xem: int,
        mosaics: Sequence[tuple[str, int]],
        message: bytes | None,
        message_type: int,
        version: int | None,
        multiplier: int,
        deadline: int | None,
    ) -> tuple[Any, tuple[int, tuple[tuple[str, int], ...]]]:
        if xem < 0 or any(q <= 0 for _, q in mosaics):
            raise ValueError("amounts must be non-negative and mosaic quantities positive")
        if mosaics and version == 1:
            raise ValueError("a version 1 transfer cannot carry mosaics")
        v2 = bool(mosaics) or version == 2
        attached: list[tuple[str, int]] = []
        if mosaics:
            if any(m == XEM_MOSAIC_ID for m, _ in mosaics):
                raise ValueError("give XEM as xem=, not as a nem:xem mosaic")
            if xem:
                attached.append((XEM_MOSAIC_ID, xem * MULTIPLIER_ONE // multiplier))
            attached.extend(mosaics)
            # NIS sorts the attachment by mosaic id before it serializes (JSON and binary alike)
            attached.sort(key=lambda item: split_mosaic_id(item[0]))
            amount = multiplier
            moved_xem = sum(amount * q // MULTIPLIER_ONE for m, q in attached if m == XEM_MOSAIC_ID)
            moved_other = tuple((m, amount * q // MULTIPLIER_ONE) for m, q in attached if m != XEM_MOSAIC_ID)
        else:
            amount = xem
            moved_xem, moved_other = xem, ()
        payload = message if message else None  # NIS drops an empty payload: no message
        end = deadline if deadline is not None else timestamp + DEFAULT_DEADLINE
        if self.fast:
            tx = self._transfer_direct(
                signer_public_key, recipient, timestamp, end, amount, payload, message_type, v2, attached
            )
        else:
            descriptor: dict[str, Any] = {
                "type": "transfer_transaction_v2" if v2 else "transfer_transaction_v1",
                "signer_public_key": signer_public_key,
                "fee": 0,
                "timestamp": timestamp,
                "deadline": end,
                "recipient_address": recipient,
                "amount": amount,
            }
            if payload is not None:
                descriptor["message"] = {
                    "message_type": "plain" if message_type == 1 else "encrypted",
                    "message": payload,
                }
            if v2:
                descriptor["mosaics"] = [
                    {"mosaic": {"mosaic_id": _mosaic_id_descriptor(m), "amount": q}} for m, q in attached
                ]
            tx = self.facade.transaction_factory.create(descriptor)
        return self._priced(tx), (moved_xem, moved_other)

    def _transfer_direct(
        self,
        signer_public_key: str,
        recipient: str,
        timestamp: int,
        deadline: int,
        amount: int,
        payload: bytes | None,
        message_type: int,
        v2: bool,
        attached: Sequence[tuple[str, int]],
    ) -> Any:
        tx = nc.TransferTransactionV2() if v2 else nc.TransferTransactionV1()
        tx.network = _NC_NETWORK[self.network]
        tx.signer_public_key = nc.PublicKey(bytes.fromhex(signer_public_key))
        tx.timestamp = nc.Timestamp(timestamp)
        tx.deadline = nc.Timestamp(deadline)
        tx.recipient_address = nc.Address(recipient.encode("ascii"))
        tx.amount = nc.Amount(amount)
        if payload is not None:
            msg = nc.Message()
            msg.message_type = nc.MessageType(message_type)
            msg.message = payload
            tx.message = msg
        if v2:
            items = []
            for mosaic_id, quantity in attached:
                mosaic = nc.Mosaic()
                mosaic.mosaic_id = _nc_mosaic_id(mosaic_id)
                mosaic.amount = nc.Amount(quantity)
                prefixed = nc.SizePrefixedMosaic()
                prefixed.mosaic = mosaic
                items.append(prefixed)
            tx.mosaics = items
        return tx

    def _multisig_object(self, initiator_public_key: str, timestamp: int, deadline: int, inner: Any) -> Any:
        return self._create_priced(
            {
                "type": "multisig_transaction_v1",
                "signer_public_key": initiator_public_key,
                "fee": 0,
                "timestamp": timestamp,
                "deadline": deadline,
                "inner_transaction": TransactionFactory.to_non_verifiable_transaction(inner),
            }
        )

    def _cosignature_object(self, signer_public_key: str, timestamp: int, inner_hash: str, account: str) -> Any:
        return self._create_priced(
            {
                "type": "cosignature_v1",
                "signer_public_key": signer_public_key,
                "fee": 0,
                "timestamp": timestamp,
                "deadline": timestamp + DEFAULT_DEADLINE,
                "other_transaction_hash": inner_hash,
                "multisig_account_address": account,
            }
        )

    def _create_priced(self, descriptor: dict[str, Any]) -> Any:
        return self._priced(self.facade.transaction_factory.create(descriptor))

    def _priced(self, tx: Any) -> Any:
        """``tx`` with its NIS1 minimum fee set (in place)."""
        tx.fee = nc.Amount(self._fee(tx))
        return tx

    def _fee(self, tx: Any) -> int:
        if isinstance(tx, nc.TransferTransactionV1):
            # the SDK's calculator reads ``mosaics``, which a v1 object lacks; same rule here
            return xem_transfer_fee(tx.amount.value, len(tx.message.message) if tx.message else None)
        return int(calculate_transaction_fee(tx, self._fee_info))

    def _seal(self, key: SimKey, tx: Any) -> tuple[str, bytes]:
        """Sign (or fill the signature of) ``tx`` in place; return its hash (lowercase hex) and
        its signed binary form.

        The fast path cuts the unsigned form out of the signed serialization (a single-entity
        transaction's signature sits at a fixed offset) instead of copying the object into its
        non-verifiable twin; a test checks that both give the same bytes.
        """
        full = None
        if self.fast and not isinstance(tx, nc.MultisigTransactionV1):
            full = bytes(tx.serialize())
            payload = full[:_SIGNATURE_START] + full[_SIGNATURE_END:]
            digest = sha3.keccak_256(payload).digest()
            signature = key.key_pair.sign(payload).bytes if self.signing == "signed" else None
        else:
            digest = self.facade.hash_transaction(tx).bytes
            signature = self.facade.sign_transaction(key.key_pair, tx).bytes if self.signing == "signed" else None
        if signature is None:
            signature = sha3.keccak_512(b"nemwatch-sim-unsigned" + digest).digest()
        tx.signature = nc.Signature(signature)
        if full is not None:
            signed = full[: _SIGNATURE_START + 4] + signature + full[_SIGNATURE_END:]
        else:
            signed = bytes(tx.serialize())
        return digest.hex(), signed

    # --- NIS JSON ---------------------------------------------------------------------------

    def _transfer_json(self, tx: Any, *, with_signature: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"timeStamp": tx.timestamp.value, "amount": tx.amount.value}
        if with_signature:
            body["signature"] = tx.signature.bytes.hex()
        body["fee"] = tx.fee.value
        body["recipient"] = bytes(tx.recipient_address.bytes).decode("ascii")
        if tx.version == 2:
            body["mosaics"] = [
                {
                    "quantity": item.mosaic.amount.value,
                    "mosaicId": {
                        "namespaceId": bytes(item.mosaic.mosaic_id.namespace_id.name).decode("utf-8"),
                        "name": bytes(item.mosaic.mosaic_id.name).decode("utf-8"),
                    },
                }
                for item in tx.mosaics
            ]
        body["type"] = TYPE_TRANSFER
        body["deadline"] = tx.deadline.value
        if tx.message:
            body["message"] = {"payload": bytes(tx.message.message).hex(), "type": tx.message.message_type.value}
        else:
            body["message"] = {}
        body["version"] = entity_version(self.network, tx.version)
        body["signer"] = tx.signer_public_key.bytes.hex()
        return body

    def _cosignature_json(self, tx: Any, inner_hash: str, account: str) -> dict[str, Any]:
        return {
            "timeStamp": tx.timestamp.value,
            "otherHash": {"data": inner_hash},
            "otherAccount": account,
            "signature": tx.signature.bytes.hex(),
            "fee": tx.fee.value,
            "type": TYPE_MULTISIG_COSIGNATURE,
            "deadline": tx.deadline.value,
            "version": entity_version(self.network, 1),
            "signer": tx.signer_public_key.bytes.hex(),
        }

    def _multisig_json(
        self, outer: Any, signatures: list[dict[str, Any]], inner_json: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "timeStamp": outer.timestamp.value,
            "signature": outer.signature.bytes.hex(),
            "fee": outer.fee.value,
            "type": TYPE_MULTISIG,
            "deadline": outer.deadline.value,
            "version": entity_version(self.network, 1),
            "signatures": signatures,
            "signer": outer.signer_public_key.bytes.hex(),
            "otherTrans": inner_json,
        }


def _mosaic_id_descriptor(mosaic_id: str) -> dict[str, Any]:
    namespace, name = split_mosaic_id(mosaic_id)
    return {"namespace_id": {"name": namespace.encode("utf-8")}, "name": name.encode("utf-8")}


def _nc_mosaic_id(mosaic_id: str) -> Any:
    namespace, name = split_mosaic_id(mosaic_id)
    namespace_id = nc.NamespaceId()
    namespace_id.name = namespace.encode("utf-8")
    result = nc.MosaicId()
    result.namespace_id = namespace_id
    result.name = name.encode("utf-8")
    return result
