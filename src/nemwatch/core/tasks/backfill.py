"""Backfill: page a newly watched address's history into the store.

A few addresses a pass (``backfill_per_cycle``), at most ``backfill_max_pages`` pages of 100
each; the old transfers are recorded silently (alerts only for ``backfill_alerts`` addresses).
Run as its own task, a backfill never delays the next block; and it keeps to its rate share:
with ``backfill_page_seconds`` > 0 it waits that long after each page (a history of 2,000
pages at 0.5 s a page takes about 17 minutes and leaves the nodes' other tokens to the
follower), so it never crowds out the block reads on the nodes' request budget.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nemwatch.core import rules
from nemwatch.core.alert import Alert, Stage
from nemwatch.core.events import BackfillDone
from nemwatch.core.models import Transaction
from nemwatch.core.store import TransferRow, TransferStatus
from nemwatch.core.store.settling import cursors_with_prefix

if TYPE_CHECKING:
    from nemwatch.core.engine import Engine

log = logging.getLogger("nemwatch.engine")
PAGE = 100  # transfers per page asked


class Backfill:
    def __init__(self) -> None:
        self.todo: list[str] | None = None
        self._size = 0

    def reset(self) -> None:
        """The watch list changed: work out again which addresses still need a backfill."""
        self.todo = None

    def pending(self, engine: Engine) -> list[str]:
        if self.todo is None or self._size != len(engine.watch):
            # one query for all, not one per watched address per pass
            done = {c.name[len("backfill:") :] for c in cursors_with_prefix(engine.store, "backfill:")}
            self.todo = [a for a in engine.watch if a not in done]
            self._size = len(engine.watch)
        return self.todo

    async def run_pass(self, engine: Engine, head: int) -> None:
        if engine.settings.backfill_per_cycle <= 0:
            return
        todo = self.pending(engine)
        for address in todo[: engine.settings.backfill_per_cycle]:
            if address in engine.watch and await self.backfill(engine, address, head):
                if address in todo:
                    todo.remove(address)

    async def read(self, engine: Engine, address: str) -> Sequence[Transaction]:
        """The address's history, newest first, paced to ``backfill_page_seconds`` a page."""
        pace = engine.settings.backfill_page_seconds
        walk = getattr(engine.source, "iter_transfers", None)
        if pace <= 0 or walk is None:
            return await engine.source.transfers(
                address, "all", page_size=PAGE, max_pages=engine.settings.backfill_max_pages
            )
        history: list[Transaction] = []
        async for tx in walk(address, "all", page_size=PAGE, max_pages=engine.settings.backfill_max_pages):
            history.append(tx)
            if len(history) % PAGE == 0:
                await engine.task_sleep(pace)  # one page read: leave the node to the follower a while
        await engine.task_sleep(pace)
        return history

    async def backfill(self, engine: Engine, address: str, head: int) -> bool:
        """Page an address's history into the store (no alerts unless configured).

        Returns False when the node could not give it (it is tried again next pass)."""
        from nemwatch.core.engine import CycleStats

        try:
            history = await self.read(engine, address)
        except Exception as err:
            log.warning("backfill of %s failed, will retry: %s", address, err)
            return False
        now = engine.clock()
        rows: list[TransferRow] = []
        last_out = None
        for tx in history:
            if tx.height is not None and engine.store.get_transfer(tx.identity) is None:
                rows.append(engine._movement(tx, TransferStatus.CONFIRMED, now)[0])
            if tx.sender == address and (last_out is None or tx.timestamp > last_out):
                last_out = tx.timestamp
        alerts: list[Alert] = []
        if address in engine.watch.backfill_alerts:
            ctx = engine.context
            for tx in history:
                confs = rules.confirmations(tx.height, head)
                for make in (rules.outflow_alert, rules.inflow_alert):
                    alert = make(tx, ctx, stage=Stage.CONFIRMED, confs=confs, now=now)
                    if alert is not None and (alert.address == address):
                        alerts.append(alert)
        stats = CycleStats()
        with engine._tx():
            for row in rows:
                engine.store.upsert_transfer(row)
            account = engine.store.account(address)
            if last_out is not None and (account is None or account.last_activity is None or last_out > account.last_activity):
                engine.store.set_last_activity(address, last_out)
            engine.store.set_backfilled(address, history[-1].hash if history else None)
            engine.store.set_cursor(f"backfill:{address}", head, history[0].hash if history else None)
            engine._queue(alerts, stats)
        if engine.taint is not None:  # a whole history gives a tainted account's opening balance
            engine.taint.on_history(address, list(history), len(history) < PAGE * engine.settings.backfill_max_pages)
        engine._emit(BackfillDone(address, len(rows), now))
        return True


__all__ = ["Backfill"]
