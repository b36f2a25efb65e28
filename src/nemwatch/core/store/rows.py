"""The rows the store reads and writes, and how times are written to it.

Row types are plain frozen dataclasses: the engine builds them from parsed models
(``TransferRow.from_transfer``, ``BlockRow.from_block``) and the faces read them back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from nemwatch.core.alert import Alert
from nemwatch.core.models import XEM_MOSAIC_ID, Block, LevyCharge, MosaicAmount, Transfer
from nemwatch.core.text import sanitize

# A stored message holds at most this much text (a 1024-byte hex payload is 2048 characters).
MESSAGE_MAX_LEN = 4096

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db_time(when: datetime) -> str:
    """A timezone-aware datetime as fixed-width UTC text (text order is time order)."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: the store keeps UTC times only")
    return when.astimezone(UTC).strftime(_TS_FORMAT)


def from_db_time(text: str | None) -> datetime | None:
    """The aware UTC datetime of a stored time (``fromisoformat`` reads the fixed-width form
    about 20 times faster than ``strptime``: it matters when a listing decodes many rows)."""
    if text is None:
        return None
    if len(text) != 27 or text[-1] != "Z":
        raise ValueError(f"not a stored time: {text!r}")
    return datetime.fromisoformat(text)


class TransferStatus(str, Enum):
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"
    RETRACTED = "retracted"


class DeliveryState(str, Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class BlockRow:
    """One block of the recent chain window (enough to detect and rewind a rollback)."""

    height: int
    hash: str | None
    prev_hash: str
    signature: str
    timestamp: datetime

    @classmethod
    def from_block(cls, block: Block) -> BlockRow:
        return cls(block.height, block.hash, block.prev_block_hash, block.signature, block.timestamp)


@dataclass(frozen=True, slots=True)
class TransferRow:
    """A movement as stored: a transfer, or any other transaction that debits its sender
    (``kind``: a ``TxKind`` value). ``identity`` is the inner hash for multisig, else the hash.

    ``message`` is sanitized text (the raw decoded text never reaches the database).
    ``height`` is None while unconfirmed. For a kind that moves nothing but its fee,
    ``recipient`` is ``""``; a namespace rental or mosaic creation moves ``xem`` to its sink.
    ``levies`` are the mosaic levies the sender paid on top (``levy_xem`` of them in XEM);
    ``detail`` holds what the kind changed (cosigners, mode, mosaic, ...), JSON values only.
    """

    identity: str
    hash: str
    inner_hash: str | None
    height: int | None
    sender: str
    recipient: str
    xem: int
    fee: int
    tx_time: datetime
    status: TransferStatus
    first_seen: datetime
    initiator: str | None = None
    mosaics: tuple[MosaicAmount, ...] = ()
    message: str | None = None
    message_type: str | None = None
    kind: str = "transfer"
    levies: tuple[LevyCharge, ...] = ()
    detail: tuple[tuple[str, Any], ...] = ()

    @property
    def levy_xem(self) -> int:
        """Micro-XEM the sender paid in levies (beyond ``xem`` and ``fee``)."""
        return sum(levy.quantity for levy in self.levies if levy.mosaic_id == XEM_MOSAIC_ID)

    @classmethod
    def from_transfer(cls, tx: Transfer, status: TransferStatus, first_seen: datetime) -> TransferRow:
        message = tx.message
        return cls(
            identity=tx.identity,
            hash=tx.hash,
            inner_hash=tx.inner_hash,
            height=tx.height,
            sender=tx.sender,
            recipient=tx.recipient,
            initiator=tx.initiator,
            xem=tx.xem,
            fee=tx.fee,
            mosaics=tx.mosaics,
            message=sanitize(message.text, max_len=MESSAGE_MAX_LEN) if message is not None else None,
            message_type=message.type.value if message is not None else None,
            tx_time=tx.timestamp,
            status=status,
            first_seen=first_seen,
        )


def mosaics_to_json(mosaics: tuple[MosaicAmount, ...]) -> str:
    return json.dumps([{"id": m.id, "quantity": m.quantity} for m in mosaics], separators=(",", ":"))


def mosaics_from_json(text: str) -> tuple[MosaicAmount, ...]:
    out = []
    for item in json.loads(text):
        namespace, _, name = item["id"].partition(":")
        out.append(MosaicAmount(namespace, name, int(item["quantity"])))
    return tuple(out)


def levies_to_json(levies: tuple[LevyCharge, ...]) -> str:
    return json.dumps(
        [{"id": c.mosaic_id, "quantity": c.quantity, "recipient": c.recipient, "on": c.levied_on} for c in levies],
        separators=(",", ":"),
    )


def levies_from_json(text: str | None) -> tuple[LevyCharge, ...]:
    if not text:
        return ()
    return tuple(
        LevyCharge(str(item["id"]), int(item["quantity"]), str(item["recipient"]), str(item.get("on", "")))
        for item in json.loads(text)
    )


def detail_to_json(detail: tuple[tuple[str, Any], ...]) -> str | None:
    return json.dumps(dict(detail), separators=(",", ":"), sort_keys=True) if detail else None


def detail_from_json(text: str | None) -> tuple[tuple[str, Any], ...]:
    if not text:
        return ()
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(json.loads(text).items()))


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far a follower got: ``name`` is e.g. ``"chain"`` or ``"backfill:<address>"``."""

    name: str
    height: int
    hash: str | None = None


@dataclass(frozen=True, slots=True)
class AccountRow:
    """A watched account's bookkeeping.

    ``balance`` (micro-XEM) is what a node reported at ``balance_height``; ``last_activity`` is
    the time of the account's last outgoing transaction (the dormancy rule reads it);
    ``backfilled_until_hash`` is the oldest transaction hash the per-address backfill reached.
    """

    address: str
    label: str | None
    urgent: bool
    added_at: datetime
    balance: int | None = None
    balance_height: int | None = None
    last_activity: datetime | None = None
    backfilled_until_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One due outbox row: send ``alert`` to the sink named ``sink``."""

    alert: Alert
    sink: str
    attempts: int
    created_at: datetime

    @property
    def alert_id(self) -> str:
        return self.alert.alert_id


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An outbox row as stored, for inspection (``nemwatch check``, tests, the dashboard)."""

    alert_id: str
    sink: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    settled_at: datetime | None
