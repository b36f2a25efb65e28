"""Retention: what the state database forgets, and what it never does.

A watcher runs for months; without pruning, transfers, alerts and delivered outbox rows grow
with every block. ``prune`` deletes, in small batches (the write lock is never held for long),

- transfers whose ``tx_time`` is older than ``transfers``;
- delivered outbox rows settled longer ago than ``delivered`` (the newest one of each sink
  stays: it dates the end of the last delivery episode);
- dead letters settled longer ago than ``dead_letters``;
- alerts created longer ago than ``alerts``, with their journal bookkeeping and
  acknowledgements;

and never what is still needed:

- unconfirmed transfers (they settle or expire on their own), and every transfer of the blocks
  kept for rollback (``blocks``: a rewrite re-reads and retracts them);
- a transfer whose confirmed alert still waits for its ``settled`` stage;
- a transfer above the height a watched account's balance was last read at (the reconciler
  adds them up);
- transfers from or to an account the taint reached (``taint_accounts``), so the trail stays;
- alerts with an outbox row still pending (or a dead letter younger than ``dead_letters``),
  and alerts waiting to settle;
- the last journal record (the journal's recovery scan starts at its end).

A retention of ``None`` keeps that kind forever. ``Pruner`` runs ``prune`` on an interval
(hourly by default) beside the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from nemwatch.core.store.db import Store
from nemwatch.core.store.rows import to_db_time

log = logging.getLogger("nemwatch.store")

MIN_RETENTION = timedelta(days=2)  # longer than NIS's 24 h deadlines and its 360-block rewrites
BATCH = 2000


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each kind of row is kept (None: forever); the defaults are ``[retention]``'s."""

    transfers: timedelta | None = timedelta(days=90)
    alerts: timedelta | None = timedelta(days=90)
    delivered: timedelta | None = timedelta(days=7)
    dead_letters: timedelta | None = timedelta(days=90)
    every: timedelta = timedelta(hours=1)
    batch: int = BATCH

    def __post_init__(self) -> None:
        for name in ("transfers", "alerts", "dead_letters"):
            value = getattr(self, name)
            if value is not None and value < MIN_RETENTION:
                raise ValueError(f"{name} retention must be at least {MIN_RETENTION.days} days")
        if self.delivered is not None and self.delivered <= timedelta(0):
            raise ValueError("delivered retention must be positive")
        if self.batch < 1 or self.every <= timedelta(0):
            raise ValueError("batch and every must be positive")

    @classmethod
    def from_days(
        cls,
        *,
        transfers_days: int = 90,
        alerts_days: int = 90,
        delivered_days: int = 7,
        dead_letter_days: int = 90,
        prune_every_minutes: int = 60,
    ) -> RetentionPolicy:
        """From the config's day counts; 0 keeps that kind forever."""

        def days(n: int) -> timedelta | None:
            return timedelta(days=n) if n else None

        return cls(
            transfers=days(transfers_days),
            alerts=days(alerts_days),
            delivered=days(delivered_days),
            dead_letters=days(dead_letter_days),
            every=timedelta(minutes=prune_every_minutes),
        )


@dataclass
class PruneReport:
    transfers: int = 0
    alerts: int = 0
    delivered: int = 0
    dead_letters: int = 0
    journal: int = 0

    @property
    def total(self) -> int:
        return self.transfers + self.alerts + self.delivered + self.dead_letters + self.journal

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("transfers", "alerts", "delivered", "dead_letters", "journal")}


def _has_table(store: Store, name: str) -> bool:
    return bool(store._read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))  # noqa: SLF001


def _rollback_floor(store: Store) -> int | None:
    """The lowest height a rollback may still rewrite: transfers at or above it are kept."""
    row = store._read("SELECT min(height) AS h FROM blocks")[0]  # noqa: SLF001
    if row["h"] is not None:
        return int(row["h"])
    cursor = store.get_cursor("chain")
    return cursor.height - store.block_window + 1 if cursor is not None else None


def _batched(store: Store, select_sql: str, params: tuple[object, ...], delete: Callable[[list[object]], None],
             batch: int) -> int:
    """Select up to ``batch`` keys, delete them in one short transaction, until none is left."""
    removed = 0
    while True:
        with store.transaction():
            keys = [r[0] for r in store.connection.execute(select_sql + " LIMIT ?", (*params, batch)).fetchall()]
            if keys:
                delete(keys)
        removed += len(keys)
        if len(keys) < batch:
            return removed


def _marks(keys: list[object]) -> str:
    return ",".join("?" * len(keys))


def prune_transfers(store: Store, cut: datetime, batch: int = BATCH) -> int:
    floor = _rollback_floor(store)
    tainted = (
        " AND NOT EXISTS (SELECT 1 FROM taint_accounts x WHERE x.address IN (t.sender, t.recipient))"
        if _has_table(store, "taint_accounts")
        else ""
    )
    select = (
        "SELECT t.rowid FROM transfers t WHERE t.tx_time < ? AND t.status != 'unconfirmed'"
        + (" AND t.height < ?" if floor is not None else "")
        + " AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.identity = t.identity AND a.awaiting = 1)"
        " AND NOT EXISTS (SELECT 1 FROM accounts c WHERE c.address IN (t.sender, t.recipient)"
        " AND c.balance_height IS NOT NULL AND t.height > c.balance_height)"
        + tainted
    )
    params: tuple[object, ...] = (to_db_time(cut), floor) if floor is not None else (to_db_time(cut),)

    def delete(keys: list[object]) -> None:
        store.connection.execute(f"DELETE FROM transfers WHERE rowid IN ({_marks(keys)})", keys)

    return _batched(store, select, params, delete, batch)


def prune_outbox(store: Store, state: str, cut: datetime, batch: int = BATCH) -> int:
    """Delivered (or dead) rows settled before ``cut``; the newest delivered row per sink stays."""
    newest = (
        " AND o.settled_at < (SELECT max(n.settled_at) FROM outbox n WHERE n.state = 'delivered' AND n.sink = o.sink)"
        if state == "delivered"
        else ""
    )
    select = f"SELECT o.rowid FROM outbox o WHERE o.state = ? AND o.settled_at < ?{newest}"

    def delete(keys: list[object]) -> None:
        store.connection.execute(f"DELETE FROM outbox WHERE rowid IN ({_marks(keys)})", keys)

    return _batched(store, select, (state, to_db_time(cut)), delete, batch)


def prune_alerts(store: Store, cut: datetime, dead_cut: datetime | None, batch: int = BATCH) -> tuple[int, int]:
    """Alerts created before ``cut`` that nothing still needs; returns (alerts, journal rows)."""
    keep_dead = (
        " AND NOT EXISTS (SELECT 1 FROM outbox d WHERE d.alert_id = a.alert_id AND d.state = 'dead')"
        if dead_cut is None
        else " AND NOT EXISTS (SELECT 1 FROM outbox d WHERE d.alert_id = a.alert_id AND d.state = 'dead'"
        " AND d.settled_at >= ?)"
    )
    select = (
        "SELECT a.alert_id FROM alerts a WHERE a.created_at < ? AND a.awaiting IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.alert_id = a.alert_id AND p.state = 'pending')" + keep_dead
    )
    params: tuple[object, ...] = (to_db_time(cut),) if dead_cut is None else (to_db_time(cut), to_db_time(dead_cut))
    acks = _has_table(store, "alert_acks")
    journal = [0]

    def delete(keys: list[object]) -> None:
        conn, marks = store.connection, _marks(keys)
        top = conn.execute("SELECT max(rowid) FROM journal").fetchone()[0]
        journal[0] += conn.execute(
            f"DELETE FROM journal WHERE alert_id IN ({marks}) AND rowid != ?", (*keys, top if top is not None else -1)
        ).rowcount
        if acks:
            conn.execute(f"DELETE FROM alert_acks WHERE alert_id IN ({marks})", keys)
        conn.execute(f"DELETE FROM alerts WHERE alert_id IN ({marks})", keys)  # outbox rows follow (cascade)

    return _batched(store, select, params, delete, batch), journal[0]


def prune(store: Store, policy: RetentionPolicy, now: datetime) -> PruneReport:
    """One retention pass at ``now``; see the module docstring for what stays."""
    if store.read_only:
        return PruneReport()
    report = PruneReport()
    if policy.delivered is not None:
        report.delivered = prune_outbox(store, "delivered", now - policy.delivered, policy.batch)
    if policy.dead_letters is not None:
        report.dead_letters = prune_outbox(store, "dead", now - policy.dead_letters, policy.batch)
    if policy.alerts is not None:
        dead_cut = now - policy.dead_letters if policy.dead_letters is not None else None
        report.alerts, report.journal = prune_alerts(store, now - policy.alerts, dead_cut, policy.batch)
    if policy.transfers is not None:
        report.transfers = prune_transfers(store, now - policy.transfers, policy.batch)
    return report


def prune_once(store: Store, now: datetime) -> dict[str, int]:
    """One pass with the default policy (the benchmark's entry point)."""
    return prune(store, RetentionPolicy(), now).as_dict()


@dataclass
class Pruner:
    """Runs ``prune`` every ``policy.every`` (the first pass at once), beside the engine."""

    store: Store
    policy: RetentionPolicy
    clock: Callable[[], datetime]
    last: datetime | None = None
    totals: PruneReport = field(default_factory=PruneReport)

    def due(self) -> bool:
        return self.last is None or self.clock() - self.last >= self.policy.every

    def maybe_prune(self) -> PruneReport | None:
        """A pass when one is due (None otherwise); a failed pass is logged and retried next time."""
        if not self.due():
            return None
        now = self.clock()
        self.last = now
        try:
            report = prune(self.store, self.policy, now)
        except Exception as err:  # a busy or full disk must not stop the watcher
            log.warning("retention prune failed, retried in %s: %s", self.policy.every, err)
            return None
        for key, value in report.as_dict().items():
            setattr(self.totals, key, getattr(self.totals, key) + value)
        if report.total:
            log.info("retention: removed %s", ", ".join(f"{v} {k}" for k, v in report.as_dict().items() if v))
        return report

    async def run(self, stop: asyncio.Event, *, sleep: Callable[[float], Awaitable[None]] | None = None,
                  check_seconds: float = 60.0) -> None:
        """Prune when due until ``stop`` is set; each pass runs in a worker thread."""
        while not stop.is_set():
            if self.due():
                await asyncio.to_thread(self.maybe_prune)
            if sleep is not None:
                await sleep(check_seconds)
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=check_seconds)
            except TimeoutError:
                pass


__all__ = ["MIN_RETENTION", "PruneReport", "Pruner", "RetentionPolicy", "prune", "prune_once"]
