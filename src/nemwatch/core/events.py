"""Typed events the engine emits; any face (headless runner, dashboard) may consume them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nemwatch.core.alert import Alert
from nemwatch.core.head import NodeVerdict


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


Event = HeadUpdated | BlockProcessed | AlertRaised | RollbackHandled | BackfillDone | CycleFailed
