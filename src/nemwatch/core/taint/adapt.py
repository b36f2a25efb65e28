"""From the domain objects (``core/models.py``) and the config to the taint models' inputs.

Every transaction debits its sender's fee; a transfer also moves its XEM (``Transfer.xem``, the
micro-XEM a v2 mosaic transfer really moves); a namespace provision and a mosaic definition pay
their rental or creation fee to the network's sink account. A multisig transfer is debited from
the multisig account (``Transfer.sender``) with every fee of the wrapper (``Transfer.fee``) and
takes the wrapper's position in the block; its identity is the inner hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from nemwatch.core.models import Block, MosaicDefinitionTx, ProvisionNamespace, Transaction, Transfer
from nemwatch.core.taint.inputs import PPM, Movement, TaintSource, Thresholds


def movement_of(tx: Transaction, index: int, height: int | None = None) -> Movement:
    """One transaction as a movement; ``index`` is its position in the block."""
    at = tx.height if height is None else height
    if at is None:
        raise ValueError("an unconfirmed transaction has no place in the chain order yet")
    recipient, amount = "", 0
    if isinstance(tx, Transfer):
        recipient, amount = tx.recipient, tx.xem
    elif isinstance(tx, ProvisionNamespace):
        recipient, amount = tx.rental_fee_sink, tx.rental_fee
    elif isinstance(tx, MosaicDefinitionTx):
        recipient, amount = tx.creation_fee_sink, tx.creation_fee
    return Movement(at, index, tx.identity, tx.sender, recipient, amount, tx.fee, tx.timestamp)


def movements_of_block(block: Block) -> list[Movement]:
    """A block's transactions as movements, in block order."""
    return [movement_of(tx, i, block.height) for i, tx in enumerate(block.transactions)]


def movements_of(transactions: Iterable[Transaction]) -> list[Movement]:
    """Confirmed transactions from anywhere (a store, an account's history), in chain order.

    The position inside a block is not known outside the block, so the order inside one height
    is that of the input (stable); duplicates (same identity) are dropped.
    """
    seen: set[str] = set()
    out = []
    for n, tx in enumerate(transactions):
        if tx.identity in seen:
            continue
        seen.add(tx.identity)
        out.append(movement_of(tx, n))
    out.sort(key=lambda m: (m.height, m.index))
    return out


class SourceLike(Protocol):
    """What ``[[taint.source]]`` holds (``nemwatch.config.accounts.TaintSource``)."""

    @property
    def address(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def since(self) -> datetime: ...
    @property
    def victim(self) -> str | None: ...


class TaintConfigLike(Protocol):
    """What ``[taint]`` holds (``nemwatch.config.accounts.TaintConfig``)."""

    @property
    def min_micro(self) -> int: ...
    @property
    def min_percent(self) -> Decimal: ...
    @property
    def max_hops(self) -> int: ...
    @property
    def ignore(self) -> tuple[str, ...]: ...
    @property
    def sources(self) -> tuple[SourceLike, ...]: ...


def source_of(src: SourceLike) -> TaintSource:
    return TaintSource(src.address, src.since, src.label, src.victim)


def sources_of(cfg: TaintConfigLike) -> tuple[TaintSource, ...]:
    return tuple(source_of(s) for s in cfg.sources)


def thresholds_of(cfg: TaintConfigLike) -> Thresholds:
    """``min_xem``, ``min_percent``, ``max_hops`` and ``ignore`` of ``[taint]``."""
    ppm = int(cfg.min_percent * PPM / 100)
    return Thresholds(cfg.min_micro, ppm, cfg.max_hops, frozenset(cfg.ignore))
