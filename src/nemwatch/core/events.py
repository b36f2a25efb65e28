"""Typed events the engine emits; any face (headless runner, dashboard) may consume them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from nemwatch.core.alert import Alert
from nemwatch.core.head import NodeVerdict
from nemwatch.core.models import PriceTick, Transaction
from nemwatch.core.store.rows import TransferRow


@dataclass(frozen=True, slots=True)
class HeadUpdated:
    head: int | None
    cursor: int | None
    verdicts: tuple[NodeVerdict, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class BlockProcessed:
    height: int
    matched: int
    transactions: int
    block_time: datetime
    at: datetime
    transfers: tuple[Transaction, ...] = ()  # the matched transactions themselves, in block order
    # the rows the block stored (sanitized text): the same whether the event comes from a running
    # engine or from tailing its store read-only (``core.store.tail``), which has no parsed transactions
    rows: tuple[TransferRow, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertRaised:
    alert: Alert


@dataclass(frozen=True, slots=True)
class RollbackHandled:
    ancestor: int
    old_tip: int
    new_tip: int
    retracted: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class BackfillDone:
    address: str
    transfers: int
    at: datetime


@dataclass(frozen=True, slots=True)
class CycleFailed:
    error: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PriceTicked:
    """One price poll: the tick it got (None when every provider failed) and how fresh the
    current price is."""

    tick: PriceTick | None
    current: PriceTick | None
    stale: bool
    vwap_24h: Decimal | None
    at: datetime


@dataclass(frozen=True, slots=True)
class WatchListChanged:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    watched: int  # size of the watch set after the change
    at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What happened to one alert on one sink: ``delivered``, ``retry`` (another attempt at
    ``next_attempt_at``) or ``dead``. ``error`` is already scrubbed of the sink's secrets."""

    alert_id: str
    sink: str
    outcome: str
    error: str | None
    next_attempt_at: datetime | None
    at: datetime


@dataclass(frozen=True, slots=True)
class EventsDropped:
    """A subscriber fell behind: this many events (and alerts) were dropped from its queue
    since the previous item it read. Alerts stay in the store: re-read the alert log."""

    events: int
    alerts: int
    at: datetime


@dataclass(frozen=True, slots=True)
class TaintChanged:
    """The taint picture changed: a block carried taint (``new_accounts`` joined the tainted
    set, ``moves`` transfers carried taint) or a rollback un-tainted (``retracted``). Read the
    picture from ``engine.taint`` or the read model."""

    height: int
    new_accounts: tuple[str, ...]
    moves: int
    retracted: bool
    at: datetime


Event = (
    HeadUpdated
    | BlockProcessed
    | AlertRaised
    | RollbackHandled
    | BackfillDone
    | CycleFailed
    | PriceTicked
    | WatchListChanged
    | DeliveryOutcome
    | EventsDropped
    | TaintChanged
)
