"""Movements: every transaction that debits an account, as the store keeps it.

A transfer moves XEM and mosaics; a namespace rental or a mosaic creation moves XEM to a sink;
every transaction (supply changes, multisig modifications, importance transfers, types this
version does not parse) debits its fee; a transfer of a mosaic whose definition carries a levy
also pays the levy to the levy's recipient. Pure functions: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from nemwatch.core.models import (
    XEM_MOSAIC_ID,
    ImportanceTransfer,
    LevyCharge,
    MosaicAmount,
    MosaicDefinitionTx,
    MosaicLevy,
    MosaicSupplyChange,
    MultisigModification,
    Network,
    ProvisionNamespace,
    Transaction,
    Transfer,
    TxKind,
    UnknownTx,
)
from nemwatch.core.nem import address as nem_address
from nemwatch.core.store.rows import TransferRow, TransferStatus
from nemwatch.core.text import sanitize

LEVY_ABSOLUTE, LEVY_PERCENTILE = 1, 2
PERCENTILE_DIVISOR = 10_000  # NIS: levy = moved quantity * fee / 10_000

# kinds with an alert rule of their own instead of ``outflow``
CONTROL_KINDS = frozenset({TxKind.MULTISIG_MODIFICATION.value, TxKind.IMPORTANCE_TRANSFER.value})

LevyLookup = Callable[[str], "tuple[bool, MosaicLevy | None]"]
"""mosaic id -> (definition known, its levy or None)."""


def levy_charges(tx: Transaction, lookup: LevyLookup) -> tuple[tuple[LevyCharge, ...], tuple[str, ...]]:
    """The levies a transfer pays, as NIS charges them (``DefaultMosaicTransferFeeCalculator``):
    per transferred mosaic whose definition has a levy, the absolute fee, or for a percentile
    levy ``moved quantity * fee // 10_000``; a zero levy is none. Also returns the transferred
    mosaics whose definition is unknown (their levy could not be priced)."""
    if not isinstance(tx, Transfer):
        return (), ()
    charges: list[LevyCharge] = []
    unknown: list[str] = []
    for mosaic in tx.mosaics:
        known, levy = lookup(mosaic.id)
        if not known:
            unknown.append(mosaic.id)
            continue
        if levy is None:
            continue
        if levy.type == LEVY_PERCENTILE:
            quantity = mosaic.quantity * levy.fee // PERCENTILE_DIVISOR
        else:
            quantity = levy.fee
        if quantity > 0:
            charges.append(LevyCharge(levy.mosaic_id, quantity, levy.recipient, mosaic.id))
    return tuple(charges), tuple(unknown)


def levy_mosaics(levies: Iterable[LevyCharge]) -> tuple[MosaicAmount, ...]:
    """The non-XEM levies as mosaic amounts (summed per mosaic)."""
    totals: dict[str, int] = {}
    for levy in levies:
        if levy.mosaic_id != XEM_MOSAIC_ID:
            totals[levy.mosaic_id] = totals.get(levy.mosaic_id, 0) + levy.quantity
    return tuple(MosaicAmount(*mosaic_id.split(":", 1), quantity=q) for mosaic_id, q in totals.items())


def leaving_mosaics(mosaics: tuple[MosaicAmount, ...], levies: Iterable[LevyCharge]) -> tuple[MosaicAmount, ...]:
    """Every mosaic that leaves the sender: what the transfer moves plus the non-XEM levies."""
    totals: dict[str, int] = {}
    for m in (*mosaics, *levy_mosaics(levies)):
        totals[m.id] = totals.get(m.id, 0) + m.quantity
    return tuple(MosaicAmount(*mosaic_id.split(":", 1), quantity=q) for mosaic_id, q in totals.items())


def _key_address(public_key: str, network: Network) -> str:
    try:
        return nem_address.from_public_key(public_key, network)
    except nem_address.AddressError:
        return public_key


def movement_detail(tx: Transaction, network: Network) -> tuple[tuple[str, Any], ...]:
    """What a transaction of a kind other than transfer changed, as JSON-ready pairs."""
    if isinstance(tx, MultisigModification):
        added = tuple(_key_address(m.cosignatory_public_key, network) for m in tx.modifications if m.modification_type == 1)
        removed = tuple(_key_address(m.cosignatory_public_key, network) for m in tx.modifications if m.modification_type == 2)
        return (
            ("cosigners_added", added),
            ("cosigners_removed", removed),
            ("min_cosignatories_change", tx.min_cosignatories_change),
        )
    if isinstance(tx, ImportanceTransfer):
        return (
            ("mode", "activate" if tx.mode == 1 else "deactivate"),
            ("remote", _key_address(tx.remote_public_key, network)),
        )
    if isinstance(tx, ProvisionNamespace):
        name = sanitize(f"{tx.parent}.{tx.new_part}" if tx.parent else tx.new_part, max_len=200)
        return (("namespace", name),)
    if isinstance(tx, MosaicDefinitionTx):
        out: list[tuple[str, Any]] = [("mosaic", sanitize(tx.mosaic_id, max_len=200))]
        if tx.levy is not None:
            out.append(("levy", f"{tx.levy.fee} {sanitize(tx.levy.mosaic_id, max_len=200)} "
                        f"{'per transfer' if tx.levy.type == LEVY_ABSOLUTE else 'per 10,000'} to {tx.levy.recipient}"))
        return tuple(out)
    if isinstance(tx, MosaicSupplyChange):
        return (
            ("mosaic", sanitize(tx.mosaic_id, max_len=200)),
            ("supply_change", tx.delta if tx.supply_type == 1 else -tx.delta),
        )
    if isinstance(tx, UnknownTx):
        return (("type", tx.type_code),)
    return ()


def movement_row(
    tx: Transaction,
    status: TransferStatus,
    first_seen: datetime,
    *,
    network: Network = Network.MAINNET,
    levies: tuple[LevyCharge, ...] = (),
) -> TransferRow:
    """The stored form of any transaction: what moves, to whom, and what it changed."""
    if isinstance(tx, Transfer):
        base = TransferRow.from_transfer(tx, status, first_seen)
        return TransferRow(**{**_fields(base), "levies": levies})
    recipient, xem = "", 0
    if isinstance(tx, ProvisionNamespace):
        recipient, xem = tx.rental_fee_sink, tx.rental_fee
    elif isinstance(tx, MosaicDefinitionTx):
        recipient, xem = tx.creation_fee_sink, tx.creation_fee
    return TransferRow(
        identity=tx.identity,
        hash=tx.hash,
        inner_hash=tx.inner_hash,
        height=tx.height,
        sender=tx.sender,
        recipient=recipient,
        initiator=tx.initiator,
        xem=xem,
        fee=tx.fee,
        tx_time=tx.timestamp,
        status=status,
        first_seen=first_seen,
        kind=tx.kind.value,
        detail=movement_detail(tx, network),
    )


def _fields(row: TransferRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in TransferRow.__dataclass_fields__}


__all__ = [
    "CONTROL_KINDS",
    "LevyLookup",
    "leaving_mosaics",
    "levy_charges",
    "levy_mosaics",
    "movement_detail",
    "movement_row",
]
