"""The balance reconciler: XEM that left a watched address without a transfer the follower saw.

Every ``balance_check_seconds`` a round starts over the whole watch list; a pass reads the
balances of up to ``balance_checks_per_cycle`` addresses (in ONE ``/account/get/batch`` request
when the source can) from one node, at a height that node did not move across (its height
before, known from the head poll when it is the polled node, and one ``/chain/height`` after),
and compares each with the last one minus what the stored transfers explain. Passes are at
least ``balance_pass_seconds`` apart, so the cost is bounded per minute whatever the size of
the watch list: with 100 addresses a pass and one pass a minute (the service's defaults) a
pass costs 2 requests, and a round over 100,000 addresses takes about 17 hours. Addresses the
watch list gains meanwhile (the taint watch's, the dashboard's) are read in the next pass, and
the round goes on.

Every debit type NIS1 has (transfers, levies, fees, namespace and mosaic rentals, multisig and
importance transactions) is parsed from the blocks the follower reads, so a balance drop found
here is a consistency check: it means a block was misread or a node lies, not a kind of debit
nemwatch does not know.

Nothing is read while the follower is behind the head: the node's balance would include blocks
not yet read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from nemwatch.core import rules
from nemwatch.core.alert import Alert
from nemwatch.core.models import AccountInfo

if TYPE_CHECKING:
    from nemwatch.core.engine import CycleStats, Engine

log = logging.getLogger("nemwatch.engine")


class Reconciler:
    def __init__(self) -> None:
        self.queue: list[str] = []  # the round's addresses still to read; the next at the end
        self.queued: set[str] = set()  # every address this round has taken in
        self.last_round: datetime | None = None
        self.last_pass: datetime | None = None
        self.rounds = 0  # rounds completed
        self._changed = False

    def reset(self) -> None:
        """The watch list changed: the addresses it gained are read next, before the rest of
        the round (a new account's balance is known within a pass, not a round later); the round
        goes on (at 100,000 addresses a round takes hours, and the taint watch adds accounts far
        more often: starting over at each change would never reach the end of the list).
        Removed addresses are skipped when their turn comes."""
        self._changed = True

    def _take_in_new(self, engine: Engine) -> None:
        if not self._changed:
            return
        self._changed = False
        if self.last_round is None:
            return  # the first round takes in the whole list anyway
        new = [a for a in engine.watch if a not in self.queued]
        self.queue.extend(reversed(new))  # popped from the end: the first new address first
        self.queued.update(new)

    def next_batch(self, engine: Engine, now: datetime) -> list[str]:
        s = engine.settings
        if self.last_pass is not None and (now - self.last_pass).total_seconds() < s.balance_pass_seconds:
            return []
        self._take_in_new(engine)
        if not self.queue:
            if self.last_round is not None and (now - self.last_round).total_seconds() < s.balance_check_seconds:
                return []
            if self.last_round is not None:
                self.rounds += 1
            self.last_round = now
            self.queue = list(engine.watch)
            self.queued = set(self.queue)
        self.last_pass = now
        batch: list[str] = []
        while self.queue and len(batch) < s.balance_checks_per_cycle:
            address = self.queue.pop()
            if address in engine.watch:
                batch.append(address)
        return batch

    async def run_pass(self, engine: Engine, head: int, stats: CycleStats) -> None:
        from nemwatch.core.engine import CHAIN_CURSOR

        if engine.settings.balance_checks_per_cycle <= 0 or not engine.watch:
            return
        cursor = engine.store.get_cursor(CHAIN_CURSOR)
        if cursor is None or cursor.height < head:
            return  # not caught up: the node's balance includes blocks we have not read
        now = engine.clock()
        batch = self.next_batch(engine, now)
        if not batch:
            return
        node = engine.heightpoll.primary or (engine._healthy[0] if engine._healthy else None)
        try:
            # the balances belong to a known height only if the node did not move meanwhile
            claim = engine._claims.get(node) if node is not None and node == engine.heightpoll.primary else None
            before = claim if claim == head else await engine.source.chain_height(node=node)
            infos = await self._read(engine, batch, node)
            after = await engine.source.chain_height(node=node)
        except Exception as err:
            log.warning("balances of %d address(es) unavailable: %s", len(batch), err)
            self.queue.extend(batch)
            return
        if before != after or before > head:
            self.queue.extend(batch)  # try again next pass
            return
        by_address = {info.address: info for info in infos}
        missing = [a for a in batch if a not in by_address]
        if missing:  # a node that leaves some out: they wait for the next pass
            self.queue.extend(missing)
        read = [(a, by_address[a]) for a in batch if a in by_address]
        alerts: list[Alert] = []
        rows = {}
        ctx = engine.context
        for address, info in read:
            row = engine.store.account(address)
            rows[address] = row
            if row is not None and row.balance is not None and row.balance_height is not None:
                moved = engine.store.transfers_of(address, above=row.balance_height, upto=before)
                explained = rules.explained_change(address, moved)
                alert = rules.balance_drop_alert(
                    address, ctx, previous_balance=row.balance, explained=explained,
                    node_balance=info.balance, node_height=before, now=now, node=node,
                )
                if alert is not None:
                    alerts.append(alert)
            if engine.taint is not None:  # taint conservation against the node's balance
                alerts += engine.taint.on_balance(address, info.balance, before, now)
        with engine._tx():
            for address, info in read:
                if rows[address] is None:
                    rule = engine.watch[address]
                    engine.store.upsert_account(address, label=rule.label, urgent=rule.urgent, now=now)
                engine.store.set_balance(address, info.balance, before)
            engine._queue(alerts, stats)

    async def _read(self, engine: Engine, batch: Sequence[str], node: str | None) -> Sequence[AccountInfo]:
        many = getattr(engine.source, "accounts", None)
        if many is not None and len(batch) > 1:
            return await many(batch, node=node)
        return [await engine.source.account(address, node=node) for address in batch]


__all__ = ["Reconciler"]
