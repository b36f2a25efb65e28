"""SQLite storage for ticks, trades, candles and what the stored data covers.

It opens the same database file as the rest of nemwatch (``state_dir/nemwatch.sqlite3``) in
WAL mode and keeps to its own tables, all prefixed ``price_``, and its own row (component
``price``) in the shared ``schema_versions(component, version)`` table, migrated forward with
the same ``migrate`` as the engine's store (a newer database raises its ``SchemaError``).
Prices and amounts are stored as decimal text (exact); times as fixed-width UTC text
(``2018-01-26T00:02:13.000000Z``, ``core.store.rows.to_db_time``), the one time encoding of the
whole database (version 1 of these tables held integer microseconds; version 2 converts them).

Coverage rows record which time spans are known to be complete: for trades, spans polled
without a gap; for candles, spans fetched from a chart API. A VWAP is only called "fully
covered" when a coverage row holds its whole window.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from nemwatch.core.models import Candle, PriceTick, Trade
from nemwatch.core.price.intervals import Interval, merge
from nemwatch.core.store.migrations import migrate, schema_version
from nemwatch.core.store.rows import from_db_time, to_db_time

COMPONENT = "price"
TRADES_KIND = "trades"

_V1 = """
CREATE TABLE IF NOT EXISTS price_ticks (
    source TEXT NOT NULL, pair TEXT NOT NULL, at INTEGER NOT NULL, price TEXT NOT NULL,
    indicative INTEGER NOT NULL DEFAULT 0, bid TEXT, ask TEXT, volume_24h TEXT, vwap_24h TEXT,
    UNIQUE (source, pair, at));
CREATE INDEX IF NOT EXISTS price_ticks_at ON price_ticks (pair, at);
CREATE TABLE IF NOT EXISTS price_trades (
    source TEXT NOT NULL, pair TEXT NOT NULL, trade_id TEXT NOT NULL, at INTEGER NOT NULL,
    price TEXT NOT NULL, amount TEXT NOT NULL, side TEXT,
    UNIQUE (source, pair, trade_id));
CREATE INDEX IF NOT EXISTS price_trades_at ON price_trades (source, pair, at);
CREATE TABLE IF NOT EXISTS price_candles (
    source TEXT NOT NULL, pair TEXT NOT NULL, seconds INTEGER NOT NULL, start INTEGER NOT NULL,
    open TEXT NOT NULL, high TEXT NOT NULL, low TEXT NOT NULL, close TEXT NOT NULL,
    volume TEXT NOT NULL, average TEXT,
    UNIQUE (source, pair, seconds, start));
CREATE TABLE IF NOT EXISTS price_coverage (
    source TEXT NOT NULL, pair TEXT NOT NULL, kind TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS price_coverage_key ON price_coverage (source, pair, kind);
"""


def _us_to_text(column: str) -> str:
    """SQL turning integer epoch microseconds (version 1) into ``to_db_time`` text."""
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', {column} / 1000000, 'unixepoch') || printf('.%06dZ', {column} % 1000000)"
    )


def _rebuild(table: str, create: str, columns: str, times: tuple[str, ...]) -> list[str]:
    """Statements that copy ``table`` into a new one whose ``times`` columns hold text."""
    select = ", ".join(_us_to_text(c) if c in times else c for c in columns.split(", "))
    return [
        create.replace(f"CREATE TABLE {table} ", f"CREATE TABLE {table}_v2 "),
        f"INSERT INTO {table}_v2 (rowid, {columns}) SELECT rowid, {select} FROM {table} ORDER BY rowid",
        f"DROP TABLE {table}",
        f"ALTER TABLE {table}_v2 RENAME TO {table}",
    ]


_TICKS = """CREATE TABLE price_ticks (
    source TEXT NOT NULL, pair TEXT NOT NULL, at TEXT NOT NULL, price TEXT NOT NULL,
    indicative INTEGER NOT NULL DEFAULT 0, bid TEXT, ask TEXT, volume_24h TEXT, vwap_24h TEXT,
    UNIQUE (source, pair, at))"""
_TRADES = """CREATE TABLE price_trades (
    source TEXT NOT NULL, pair TEXT NOT NULL, trade_id TEXT NOT NULL, at TEXT NOT NULL,
    price TEXT NOT NULL, amount TEXT NOT NULL, side TEXT,
    UNIQUE (source, pair, trade_id))"""
_CANDLES = """CREATE TABLE price_candles (
    source TEXT NOT NULL, pair TEXT NOT NULL, seconds INTEGER NOT NULL, start TEXT NOT NULL,
    open TEXT NOT NULL, high TEXT NOT NULL, low TEXT NOT NULL, close TEXT NOT NULL,
    volume TEXT NOT NULL, average TEXT,
    UNIQUE (source, pair, seconds, start))"""
_COVERAGE = """CREATE TABLE price_coverage (
    source TEXT NOT NULL, pair TEXT NOT NULL, kind TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL)"""

# v2: times as ``to_db_time`` text, like every other table of the file; existing rows converted.
_V2 = [
    *_rebuild("price_ticks", _TICKS, "source, pair, at, price, indicative, bid, ask, volume_24h, vwap_24h", ("at",)),
    "CREATE INDEX price_ticks_at ON price_ticks (pair, at)",
    *_rebuild("price_trades", _TRADES, "source, pair, trade_id, at, price, amount, side", ("at",)),
    "CREATE INDEX price_trades_at ON price_trades (source, pair, at)",
    *_rebuild(
        "price_candles", _CANDLES, "source, pair, seconds, start, open, high, low, close, volume, average", ("start",)
    ),
    "CREATE INDEX price_candles_start ON price_candles (source, pair, start)",
    *_rebuild("price_coverage", _COVERAGE, "source, pair, kind, start, end", ("start", "end")),
    "CREATE INDEX price_coverage_key ON price_coverage (source, pair, kind)",
]


def candle_kind(seconds: int) -> str:
    return f"candles:{seconds}"


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each kind of row is kept; None keeps it forever.

    Counted back from the newest stored row of the same source and pair (or from now when that
    is older): a store holding only past data, such as the simulator's 2018 market, keeps it.
    """

    ticks: timedelta | None = timedelta(days=30)
    trades: timedelta | None = timedelta(days=400)
    candles: timedelta | None = None


class PriceStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=30000")
        migrate(self.db, COMPONENT, MIGRATIONS)

    @classmethod
    def open_readonly(cls, path: str | Path) -> PriceStore:
        """The price tables of an existing database, read-only (``nemwatch --attach``): no
        migration; ``SchemaError`` when the price schema is missing, older or newer."""
        from nemwatch.core.store.readonly import connect_readonly

        store = cls.__new__(cls)
        store.path = Path(path)
        store.db, _ = connect_readonly(store.path, component=COMPONENT, expected=len(MIGRATIONS), busy_timeout_ms=30000)
        store.db.row_factory = None  # this store reads plain tuples
        return store

    # -- plumbing ------------------------------------------------------------------------
    def _tx(self) -> _Tx:
        return _Tx(self.db)

    def schema_version(self) -> int:
        return schema_version(self.db, COMPONENT)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> PriceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes --------------------------------------------------------------------------
    def add_tick(self, tick: PriceTick) -> bool:
        with self._tx():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO price_ticks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tick.source, tick.pair, to_db_time(tick.at), str(tick.price), int(tick.indicative),
                    _opt(tick.bid), _opt(tick.ask), _opt(tick.volume_24h), _opt(tick.vwap_24h),
                ),
            )
        return cur.rowcount == 1

    def add_trades(self, trades: Iterable[Trade]) -> int:
        """Store trades, ignoring ids already stored; return how many were new."""
        new = 0
        with self._tx():
            for t in trades:
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO price_trades VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (t.source, t.pair, t.trade_id, to_db_time(t.at), str(t.price), str(t.amount), t.side),
                )
                new += cur.rowcount
        return new

    def add_candles(self, candles: Iterable[Candle]) -> int:
        """Store candles; a candle already stored is replaced (the last one may have grown)."""
        count = 0
        with self._tx():
            for c in candles:
                self.db.execute(
                    "INSERT OR REPLACE INTO price_candles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        c.source, c.pair, c.seconds, to_db_time(c.start), str(c.open), str(c.high), str(c.low),
                        str(c.close), str(c.volume), _opt(c.average),
                    ),
                )
                count += 1
        return count

    def add_coverage(self, source: str, pair: str, kind: str, start: datetime, end: datetime) -> None:
        if start >= end:
            return
        with self._tx():
            merged = merge([*self._coverage(source, pair, kind), (start, end)])
            self._write_coverage(source, pair, kind, merged)

    def _write_coverage(self, source: str, pair: str, kind: str, intervals: list[Interval]) -> None:
        self.db.execute("DELETE FROM price_coverage WHERE source = ? AND pair = ? AND kind = ?", (source, pair, kind))
        self.db.executemany(
            "INSERT INTO price_coverage VALUES (?, ?, ?, ?, ?)",
            [(source, pair, kind, to_db_time(a), to_db_time(b)) for a, b in intervals],
        )

    # -- reads ---------------------------------------------------------------------------
    def _coverage(self, source: str, pair: str, kind: str) -> list[Interval]:
        rows = self.db.execute(
            "SELECT start, end FROM price_coverage WHERE source = ? AND pair = ? AND kind = ? ORDER BY start",
            (source, pair, kind),
        ).fetchall()
        return [(from_db_time(a), from_db_time(b)) for a, b in rows]

    def coverage(self, source: str, pair: str, kind: str) -> list[Interval]:
        return self._coverage(source, pair, kind)

    def trades(self, source: str, pair: str, start: datetime, end: datetime) -> list[Trade]:
        rows = self.db.execute(
            "SELECT trade_id, at, price, amount, side FROM price_trades"
            " WHERE source = ? AND pair = ? AND at >= ? AND at < ? ORDER BY at, trade_id",
            (source, pair, to_db_time(start), to_db_time(end)),
        ).fetchall()
        return [Trade(source, pair, tid, Decimal(p), Decimal(a), from_db_time(at), side) for tid, at, p, a, side in rows]

    def newest_trade(self, source: str, pair: str) -> Trade | None:
        row = self.db.execute(
            "SELECT trade_id, at, price, amount, side FROM price_trades WHERE source = ? AND pair = ?"
            " ORDER BY at DESC, length(trade_id) DESC, trade_id DESC LIMIT 1",
            (source, pair),
        ).fetchone()
        if row is None:
            return None
        tid, at, p, a, side = row
        return Trade(source, pair, tid, Decimal(p), Decimal(a), from_db_time(at), side)

    def candles(self, source: str, pair: str, seconds: int, start: datetime, end: datetime) -> list[Candle]:
        rows = self.db.execute(
            "SELECT start, open, high, low, close, volume, average FROM price_candles"
            " WHERE source = ? AND pair = ? AND seconds = ? AND start >= ? AND start < ? ORDER BY start",
            (source, pair, seconds, to_db_time(start), to_db_time(end)),
        ).fetchall()
        return [
            Candle(source, pair, from_db_time(s), seconds, Decimal(o), Decimal(h), Decimal(lo), Decimal(c), Decimal(v), _dec(av))
            for s, o, h, lo, c, v, av in rows
        ]

    def candle_sizes(self, source: str, pair: str) -> list[int]:
        rows = self.db.execute(
            "SELECT DISTINCT seconds FROM price_candles WHERE source = ? AND pair = ? ORDER BY seconds", (source, pair)
        ).fetchall()
        return [r[0] for r in rows]

    def ticks(self, pair: str, start: datetime, end: datetime, source: str | None = None) -> list[PriceTick]:
        sql = "SELECT source, at, price, indicative, bid, ask, volume_24h, vwap_24h FROM price_ticks WHERE pair = ? AND at >= ? AND at < ?"
        args: list[object] = [pair, to_db_time(start), to_db_time(end)]
        if source is not None:
            sql += " AND source = ?"
            args.append(source)
        rows = self.db.execute(sql + " ORDER BY at", args).fetchall()
        return [_tick(pair, row) for row in rows]

    def latest_tick(self, pair: str, source: str | None = None) -> PriceTick | None:
        sql = "SELECT source, at, price, indicative, bid, ask, volume_24h, vwap_24h FROM price_ticks WHERE pair = ?"
        args: list[object] = [pair]
        if source is not None:
            sql += " AND source = ?"
            args.append(source)
        row = self.db.execute(sql + " ORDER BY at DESC LIMIT 1", args).fetchone()
        return None if row is None else _tick(pair, row)

    def counts(self) -> dict[str, int]:
        return {
            name: int(self.db.execute(f"SELECT count(*) FROM price_{name}").fetchone()[0])
            for name in ("ticks", "trades", "candles")
        }

    # -- retention -----------------------------------------------------------------------
    def prune(self, now: datetime, retention: Retention) -> dict[str, int]:
        """Delete rows older than their retention, counted back from the newest row of their
        source and pair (or from ``now`` when that is older); coverage is trimmed to what is left."""
        removed = {"ticks": 0, "trades": 0, "candles": 0}
        with self._tx():
            for name, table, column, kinds in (
                ("ticks", "price_ticks", "at", None),
                ("trades", "price_trades", "at", "kind = ?"),
                ("candles", "price_candles", "start", "kind LIKE 'candles:%'"),
            ):
                keep: timedelta | None = getattr(retention, name)
                if keep is None:
                    continue
                newest = self.db.execute(
                    f"SELECT source, pair, max({column}) FROM {table} GROUP BY source, pair"
                ).fetchall()
                for source, pair, top in newest:
                    top_time = from_db_time(top)
                    assert top_time is not None
                    cut = to_db_time(min(now, top_time) - keep)
                    removed[name] += self.db.execute(
                        f"DELETE FROM {table} WHERE source = ? AND pair = ? AND {column} < ?", (source, pair, cut)
                    ).rowcount
                    if kinds is not None:
                        args = (TRADES_KIND,) if name == "trades" else ()
                        self._trim_coverage(f"source = ? AND pair = ? AND {kinds}", (source, pair, *args), cut)
        return removed

    def _trim_coverage(self, where: str, args: tuple[object, ...], cut: str) -> None:
        self.db.execute(f"DELETE FROM price_coverage WHERE {where} AND end <= ?", (*args, cut))
        self.db.execute(f"UPDATE price_coverage SET start = ? WHERE {where} AND start < ?", (cut, *args, cut))


def _tick(pair: str, row: tuple[Any, ...]) -> PriceTick:
    source, at, price, indicative, bid, ask, vol, vwap = row
    return PriceTick(
        source=source, pair=pair, price=Decimal(price), at=from_db_time(at), indicative=bool(indicative),
        bid=_dec(bid), ask=_dec(ask), volume_24h=_dec(vol), vwap_24h=_dec(vwap),
    )


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


# forward-only steps, one list of statements per version (see nemwatch.core.store.migrations)
MIGRATIONS: list[list[str]] = [_split(_V1), _V2]
SCHEMA_VERSION = len(MIGRATIONS)


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error (autocommit connection)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
