"""Following a store another process writes: the events a read-only face (``--attach``) needs.

``StoreTail.poll()`` reads what was committed since the previous poll, by high-water marks
(the alerts' and price ticks' rowids, the block height and the signature of the block there,
the accounts' count and largest rowid, the chain cursor) and returns it as the same event
types the engine's ``EventBus`` carries, so one face serves a live engine and an attached
store alike:

- ``RollbackHandled`` when the block at the mark was rewritten (the writer rewound): the
  mark moves back to the last block that is still the same, and the blocks above it follow
  again;
- ``AlertRaised`` for every new alert row, in insertion order;
- ``BlockProcessed`` for every new block, with its stored ``rows`` (the store keeps only the
  matched transactions, so ``transactions`` equals ``matched`` and ``transfers`` is empty);
- ``WatchListChanged`` when watched accounts were added or removed;
- ``PriceTicked`` for every stored tick of the pair (the feed stores one a minute at most);
- ``HeadUpdated`` when the chain cursor moved (``head`` is None and ``verdicts`` empty: node
  health is not stored; node trouble arrives as alerts).

The store's part is read in one read transaction, so alerts and blocks are one consistent
snapshot. ``start()`` skips what is already stored (the face loads history through the read
model); ``run()`` polls on an interval and publishes into an ``EventBus``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from nemwatch.core.eventbus import EventBus
from nemwatch.core.events import (
    AlertRaised,
    BlockProcessed,
    Event,
    HeadUpdated,
    PriceTicked,
    RollbackHandled,
    WatchListChanged,
)
from nemwatch.core.price.store import PriceStore, _tick
from nemwatch.core.price.valuation import is_fresh
from nemwatch.core.store.chain import _transfer
from nemwatch.core.store.db import Store
from nemwatch.core.store.outbox import _alert
from nemwatch.core.store.rows import from_db_time

CHAIN_CURSOR = "chain"
KEEP_BLOCKS = 400  # block signatures remembered to find where a rewrite began (NIS rewrites <= 360)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class StoreTail:
    def __init__(
        self,
        store: Store,
        prices: PriceStore | None = None,
        *,
        pair: str = "xem_jpy",
        clock: Callable[[], datetime] = _utcnow,
        stale_after: timedelta = timedelta(minutes=5),
        batch: int = 1000,
    ) -> None:
        self.store = store
        self.prices = prices
        self.pair = pair
        self.clock = clock
        self.stale_after = stale_after
        self.batch = batch
        self.alert_mark = 0
        self.tick_mark = 0
        self.block_mark = 0
        self._signatures: OrderedDict[int, str] = OrderedDict()
        self._accounts_key: tuple[int, int] = (0, 0)
        self._accounts: frozenset[str] = frozenset()
        self._cursor: int | None = None

    # -- marks ----------------------------------------------------------------------------

    def start(self, *, backlog_alerts: int = 0) -> StoreTail:
        """Begin after what is stored now (plus the last ``backlog_alerts`` alerts again)."""
        with self._read() as c:
            top = c.execute("SELECT coalesce(max(rowid), 0) FROM alerts").fetchone()[0]
            self.alert_mark = max(0, int(top) - backlog_alerts)
            for height, signature in c.execute(
                "SELECT height, signature FROM blocks ORDER BY height DESC LIMIT ?", (KEEP_BLOCKS,)
            ).fetchall()[::-1]:
                self._remember(int(height), str(signature))
            self.block_mark = next(reversed(self._signatures), 0)
            self._accounts_key, self._accounts = self._account_state(c)
            cursor = c.execute("SELECT height FROM cursors WHERE name = ?", (CHAIN_CURSOR,)).fetchone()
            self._cursor = int(cursor[0]) if cursor else None
        if self.prices is not None:
            row = self.prices.db.execute("SELECT coalesce(max(rowid), 0) FROM price_ticks").fetchone()
            self.tick_mark = int(row[0])
        return self

    def _remember(self, height: int, signature: str) -> None:
        self._signatures[height] = signature
        self._signatures.move_to_end(height)
        while len(self._signatures) > KEEP_BLOCKS:
            self._signatures.popitem(last=False)

    def _read(self) -> _ReadTx:
        return _ReadTx(self.store)

    # -- one poll -------------------------------------------------------------------------

    def poll(self) -> list[Event]:
        """Everything committed since the last poll, as events, oldest first."""
        now = self.clock()
        events: list[Event] = []
        with self._read() as c:
            rollback = self._rollback(c, now)
            if rollback is not None:
                events.append(rollback)
            events += self._alerts(c)
            events += self._blocks(c, now)
            changed = self._watch_list(c, now)
            if changed is not None:
                events.append(changed)
            row = c.execute("SELECT height FROM cursors WHERE name = ?", (CHAIN_CURSOR,)).fetchone()
            cursor = int(row[0]) if row else None
        events += self._ticks(now)
        if cursor != self._cursor:
            self._cursor = cursor
            events.append(HeadUpdated(None, cursor, (), now))
        return events

    def _rollback(self, c: sqlite3.Connection, now: datetime) -> RollbackHandled | None:
        mark = self.block_mark
        if not mark or mark not in self._signatures:
            return None
        row = c.execute("SELECT signature FROM blocks WHERE height = ?", (mark,)).fetchone()
        if row is not None and row[0] == self._signatures[mark]:
            return None
        stored = dict(
            c.execute(
                "SELECT height, signature FROM blocks WHERE height BETWEEN ? AND ?",
                (next(iter(self._signatures)), mark),
            ).fetchall()
        )
        ancestor = max((h for h, sig in self._signatures.items() if stored.get(h) == sig), default=0)
        for height in [h for h in self._signatures if h > ancestor]:
            del self._signatures[height]
        retracted = tuple(
            r[0] for r in c.execute(
                "SELECT identity FROM transfers WHERE status = 'retracted' AND height > ? ORDER BY height, identity",
                (ancestor,),
            )
        )
        tip = c.execute("SELECT coalesce(max(height), 0) FROM blocks").fetchone()[0]
        self.block_mark = ancestor
        return RollbackHandled(ancestor, mark, int(tip), retracted, now)

    def _alerts(self, c: sqlite3.Connection) -> list[Event]:
        rows = c.execute(
            "SELECT rowid, json FROM alerts WHERE rowid > ? ORDER BY rowid LIMIT ?", (self.alert_mark, self.batch)
        ).fetchall()
        if rows:
            self.alert_mark = int(rows[-1]["rowid"])
        return [AlertRaised(_alert(r)) for r in rows]

    def _blocks(self, c: sqlite3.Connection, now: datetime) -> list[Event]:
        out: list[Event] = []
        blocks = c.execute(
            "SELECT height, signature, timestamp FROM blocks WHERE height > ? ORDER BY height LIMIT ?",
            (self.block_mark, self.batch),
        ).fetchall()
        for b in blocks:
            height = int(b["height"])
            rows = tuple(
                _transfer(r)
                for r in c.execute(
                    "SELECT * FROM transfers WHERE height = ? AND status = 'confirmed' ORDER BY rowid", (height,)
                )
            )
            block_time = from_db_time(b["timestamp"])
            assert block_time is not None
            out.append(BlockProcessed(height, len(rows), len(rows), block_time, now, (), rows))
            self._remember(height, str(b["signature"]))
            self.block_mark = height
        return out

    def _account_state(self, c: sqlite3.Connection) -> tuple[tuple[int, int], frozenset[str]]:
        count, top = c.execute("SELECT count(*), coalesce(max(rowid), 0) FROM accounts").fetchone()
        key = (int(count), int(top))
        if key == self._accounts_key:
            return key, self._accounts
        return key, frozenset(r[0] for r in c.execute("SELECT address FROM accounts"))

    def _watch_list(self, c: sqlite3.Connection, now: datetime) -> WatchListChanged | None:
        key, addresses = self._account_state(c)
        if key == self._accounts_key and addresses == self._accounts:
            return None
        before, self._accounts, self._accounts_key = self._accounts, addresses, key
        added, removed = tuple(sorted(addresses - before)), tuple(sorted(before - addresses))
        if not added and not removed:
            return None
        return WatchListChanged(added, removed, len(addresses), now)

    def _ticks(self, now: datetime) -> list[Event]:
        if self.prices is None:
            return []
        rows = self.prices.db.execute(
            "SELECT rowid, source, at, price, indicative, bid, ask, volume_24h, vwap_24h FROM price_ticks "
            "WHERE rowid > ? AND pair = ? ORDER BY rowid LIMIT ?",
            (self.tick_mark, self.pair, self.batch),
        ).fetchall()
        out: list[Event] = []
        for row in rows:
            self.tick_mark = int(row[0])
            tick = _tick(self.pair, tuple(row[1:]))
            out.append(PriceTicked(tick, tick, not is_fresh(tick, now, self.stale_after), tick.vwap_24h, tick.at))
        return out

    # -- following ------------------------------------------------------------------------

    async def run(
        self,
        bus: EventBus,
        stop: asyncio.Event,
        *,
        interval: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        """Poll every ``interval`` seconds and publish into ``bus`` until ``stop`` is set.
        A poll that fails (the writer is mid-checkpoint, the disk is busy) is retried next time."""
        while not stop.is_set():
            try:
                events = self.poll()
            except sqlite3.OperationalError:
                events = []
            for event in events:
                bus.publish(event)
            if sleep is not None:
                await sleep(interval)
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass


class _ReadTx:
    """One read transaction on the store's connection (a consistent snapshot)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        conn = self.store.connection
        if not conn.in_transaction:
            conn.execute("BEGIN")
            self._began = True
        else:
            self._began = False
        return conn

    def __exit__(self, *exc: object) -> None:
        try:
            if self._began and self.store.connection.in_transaction:
                self.store.connection.execute("COMMIT")
        finally:
            self.store._lock.release()


__all__ = ["StoreTail"]
