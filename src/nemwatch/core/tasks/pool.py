"""The unconfirmed-pool watcher: early warning for the addresses marked ``urgent``.

Every ``unconfirmed_poll_seconds`` it reads the pool of urgent addresses
(``/account/unconfirmedTransactions``, paged past the node's cap of 25 when the source can:
``core.nem.poolpages``) and alerts at stage ``unconfirmed`` on what a watched address sends or
receives there. Bounded: at most ``pool_checks_per_pass`` addresses a pass, taken round-robin,
so any number of urgent addresses costs the same requests per pass (a long list is covered
over several passes; with one or a few urgent addresses each is read every pass).
A pool transaction whose own signature fails is ignored; one already confirmed is skipped.

While the websocket push is live on a node (``core.tasks.pushwake``), a transaction it pushes
for an urgent address goes through the same path at once (``consider``; its signature must
verify), and the periodic look stretches to ``safety_every`` seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from nemwatch.core.alert import Alert, Stage
from nemwatch.core.movement_alerts import movement_alerts
from nemwatch.core.models import Transaction
from nemwatch.core.store import TransferRow, TransferStatus

if TYPE_CHECKING:
    from nemwatch.core.engine import CycleStats, Engine

log = logging.getLogger("nemwatch.engine")


class PoolWatch:
    def __init__(self) -> None:
        self.last_pass: datetime | None = None
        self._next = 0  # round-robin position in the urgent list
        self.requests = 0  # pool reads asked, for the benchmark's accounting
        self.push_live: Callable[[], bool] = lambda: False  # set by the push task
        self.safety_every = 60.0  # seconds between two looks while the push is live

    def interval(self, engine: Engine) -> float:
        """Seconds between two looks: ``unconfirmed_poll_seconds``, stretched while push is live."""
        poll = engine.settings.unconfirmed_poll_seconds
        return max(poll, self.safety_every) if self.push_live() else poll

    def due(self, engine: Engine, now: datetime) -> bool:
        if self.last_pass is None:
            return True
        return (now - self.last_pass).total_seconds() >= self.interval(engine) - 1e-6

    def batch(self, urgent: list[str], size: int) -> list[str]:
        """The next ``size`` urgent addresses, round-robin (all of them when fewer)."""
        if size <= 0 or len(urgent) <= size:
            return list(urgent)
        start = self._next % len(urgent)
        chosen = [urgent[(start + i) % len(urgent)] for i in range(size)]
        self._next = (start + size) % len(urgent)
        return chosen

    async def run_pass(self, engine: Engine, stats: CycleStats, *, force: bool = False) -> None:
        urgent = list(engine.watch.urgent)
        now = engine.clock()
        if not urgent or not (force or self.due(engine, now)):
            return
        self.last_pass = now
        for address in self.batch(urgent, engine.settings.pool_checks_per_pass):
            await self.check(engine, address, now, stats)

    async def check(self, engine: Engine, address: str, now: datetime, stats: CycleStats) -> None:
        # past the node's cap of 25 per answer when the source can page the pool
        read_pool = getattr(engine.source, "unconfirmed_pool", None) or engine.source.unconfirmed
        try:
            self.requests += 1
            pool = await read_pool(address)
        except Exception as err:
            log.warning("unconfirmed pool of %s unavailable: %s", address, err)
            return
        await self.consider(engine, pool, now, stats)

    async def consider(self, engine: Engine, pool: Sequence[Transaction], now: datetime, stats: CycleStats) -> None:
        """Store and alert (stage ``unconfirmed``) what a watched address sends or receives in
        ``pool`` (one REST answer, or one pushed transaction)."""
        await engine.mosaics.prefetch(engine.source, pool, engine.watch)
        ctx = engine.context
        rows: list[TransferRow] = []
        alerts: list[Alert] = []
        for tx in pool:
            if not engine.watch.involves(tx):
                continue
            if tx.signature_valid is False:
                log.warning("unconfirmed %s from a node does not verify against its signer; ignored", tx.hash)
                continue
            stored = engine.store.get_transfer(tx.identity)
            if stored is not None and stored.status is not TransferStatus.UNCONFIRMED:
                continue
            row, unknown = engine._movement(tx, TransferStatus.UNCONFIRMED, now)
            if stored is None:
                rows.append(row)
            alerts += movement_alerts(row, ctx, stage=Stage.UNCONFIRMED, confs=None, now=now, levy_unknown=unknown)
        if rows or alerts:
            with engine._tx():
                for row in rows:
                    engine.store.upsert_transfer(row)
                engine._queue(alerts, stats)


__all__ = ["PoolWatch"]
