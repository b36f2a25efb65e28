"""The price tables: shared database file, own schema version, de-duplication, retention."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from price_support import utc

from nemwatch.core.models import Candle, PriceTick, Trade
from nemwatch.core.price.store import TRADES_KIND, PriceStore, Retention, candle_kind
from nemwatch.core.store import SchemaError, Store, from_db_time, to_db_time


def trade(tid: int, at_minute: int, price: str = "88.5", amount: str = "10") -> Trade:
    return Trade("zaif", "xem_jpy", str(tid), Decimal(price), Decimal(amount), utc(2018, 1, 26, 3, at_minute), "bid")


def candle(minute: int, close: str = "88", volume: str = "5") -> Candle:
    d = Decimal(close)
    return Candle("zaif", "xem_jpy", utc(2018, 1, 26, 3, minute), 60, d, d, d, d, Decimal(volume), d)


def test_coexists_with_the_engine_store(tmp_path: Path) -> None:
    path = tmp_path / "nemwatch.sqlite3"
    engine = Store.open(path)
    with PriceStore(path) as prices:
        assert prices.schema_version() == 2
        prices.add_trades([trade(1, 9)])
    engine.close()
    with sqlite3.connect(path) as db:
        versions = dict(db.execute("SELECT component, version FROM schema_versions"))
        assert versions["price"] == 2 and len(versions) >= 2
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with PriceStore(path) as again:  # reopening migrates nothing and keeps the data
        assert again.schema_version() == 2 and again.counts()["trades"] == 1


def test_a_newer_price_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    PriceStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_versions SET version = 99 WHERE component = 'price'")
    with pytest.raises(SchemaError):
        PriceStore(path)


def test_trades_unique_by_source_pair_and_id(tmp_path: Path) -> None:
    with PriceStore(tmp_path / "db.sqlite3") as store:
        assert store.add_trades([trade(1, 9), trade(2, 10), trade(1, 9)]) == 2
        assert store.add_trades([trade(2, 10), trade(3, 11)]) == 1
        other = Trade("gmo", "xem_jpy", "1", Decimal(1), Decimal(1), utc(2018, 1, 26, 3, 9))
        assert store.add_trades([other]) == 1
        got = store.trades("zaif", "xem_jpy", utc(2018, 1, 26, 3, 9), utc(2018, 1, 26, 3, 11))
        assert [t.trade_id for t in got] == ["1", "2"]  # end excluded
        assert got[0] == trade(1, 9)  # exact Decimals and times round-trip
        newest = store.newest_trade("zaif", "xem_jpy")
        assert newest is not None and newest.trade_id == "3"


def test_candles_replace_and_ticks_ignore_duplicates(tmp_path: Path) -> None:
    with PriceStore(tmp_path / "db.sqlite3") as store:
        store.add_candles([candle(9, "88", "5")])
        store.add_candles([candle(9, "89", "7"), candle(10)])  # the open candle grew
        got = store.candles("zaif", "xem_jpy", 60, utc(2018, 1, 26), utc(2018, 1, 27))
        assert [(c.close, c.volume) for c in got] == [(Decimal(89), Decimal(7)), (Decimal(88), Decimal(5))]
        assert store.candle_sizes("zaif", "xem_jpy") == [60]
        tick = PriceTick("zaif", "xem_jpy", Decimal("88.1"), utc(2018, 1, 26, 3), vwap_24h=Decimal("90.2"))
        assert store.add_tick(tick) and not store.add_tick(tick)
        assert store.latest_tick("xem_jpy") == tick
        assert store.ticks("xem_jpy", utc(2018, 1, 26), utc(2018, 1, 27), source="gmo") == []


def test_coverage_merges(tmp_path: Path) -> None:
    with PriceStore(tmp_path / "db.sqlite3") as store:
        store.add_coverage("zaif", "xem_jpy", TRADES_KIND, utc(2018, 1, 26, 1), utc(2018, 1, 26, 2))
        store.add_coverage("zaif", "xem_jpy", TRADES_KIND, utc(2018, 1, 26, 3), utc(2018, 1, 26, 4))
        store.add_coverage("zaif", "xem_jpy", TRADES_KIND, utc(2018, 1, 26, 2), utc(2018, 1, 26, 3))
        store.add_coverage("zaif", "xem_jpy", candle_kind(60), utc(2018, 1, 26, 5), utc(2018, 1, 26, 6))
        assert store.coverage("zaif", "xem_jpy", TRADES_KIND) == [(utc(2018, 1, 26, 1), utc(2018, 1, 26, 4))]
        assert store.coverage("zaif", "xem_jpy", candle_kind(60)) == [(utc(2018, 1, 26, 5), utc(2018, 1, 26, 6))]


def test_retention_prunes_rows_and_trims_coverage(tmp_path: Path) -> None:
    with PriceStore(tmp_path / "db.sqlite3") as store:
        store.add_trades([trade(1, 0), trade(2, 30), trade(3, 59)])
        store.add_candles([candle(0), candle(59)])
        store.add_tick(PriceTick("zaif", "xem_jpy", Decimal(1), utc(2018, 1, 26, 3, 0)))
        store.add_tick(PriceTick("zaif", "xem_jpy", Decimal(1), utc(2018, 1, 26, 3, 59)))
        store.add_coverage("zaif", "xem_jpy", TRADES_KIND, utc(2018, 1, 26, 3, 0), utc(2018, 1, 26, 4, 0))
        now = utc(2018, 1, 26, 4, 0)
        removed = store.prune(now, Retention(ticks=timedelta(minutes=10), trades=timedelta(minutes=45), candles=None))
        assert removed == {"ticks": 1, "trades": 1, "candles": 0}
        assert store.counts() == {"ticks": 1, "trades": 2, "candles": 2}
        # counted back from the newest trade (03:59), not from now: cut at 03:14
        assert store.coverage("zaif", "xem_jpy", TRADES_KIND) == [(utc(2018, 1, 26, 3, 14), utc(2018, 1, 26, 4, 0))]


def test_time_encoding_is_exact() -> None:
    when = utc(2018, 1, 26, 3, 9, 0, 123456)
    assert from_db_time(to_db_time(when)) == when
    assert to_db_time(utc(1970, 1, 1)) == "1970-01-01T00:00:00.000000Z"
    with pytest.raises(ValueError):
        to_db_time(when.replace(tzinfo=None))


def test_retention_counts_from_the_newest_data_so_past_markets_stay(tmp_path: Path) -> None:
    """The simulator's 2018 tape, pruned with the default 400 days by a 2026 clock: kept whole."""
    keep = timedelta(days=400)
    with PriceStore(tmp_path / "db.sqlite3") as store:
        store.add_trades([trade(i, i) for i in range(1, 50)])
        store.add_coverage("zaif", "xem_jpy", TRADES_KIND, utc(2018, 1, 26, 3, 0), utc(2018, 1, 26, 4, 0))
        old = Trade("zaif", "xem_jpy", "0", Decimal(1), Decimal(1), utc(2016, 1, 1), "bid")
        store.add_trades([old])  # more than 400 days before the newest trade: it goes
        removed = store.prune(utc(2026, 11, 28), Retention(ticks=keep, trades=keep, candles=keep))
        assert removed["trades"] == 1
        assert store.counts()["trades"] == 49
        assert store.coverage("zaif", "xem_jpy", TRADES_KIND) == [(utc(2018, 1, 26, 3, 0), utc(2018, 1, 26, 4, 0))]
        # a source whose data runs ahead of the clock is cut from now, not from its future rows
        ahead = Trade("gmo", "xem_jpy", "1", Decimal(1), Decimal(1), utc(2026, 1, 1), "bid")
        stale = Trade("gmo", "xem_jpy", "2", Decimal(1), Decimal(1), utc(2016, 6, 1), "bid")
        store.add_trades([ahead, stale])
        removed = store.prune(utc(2018, 1, 27), Retention(ticks=keep, trades=keep, candles=keep))
        assert removed["trades"] == 1 and store.newest_trade("gmo", "xem_jpy") == ahead


def test_upgrade_from_integer_times_converts_every_row(tmp_path: Path) -> None:
    """Version 1 stored epoch microseconds; version 2 holds the same instants as text."""
    from nemwatch.core.price.store import MIGRATIONS
    from nemwatch.core.store.migrations import migrate

    path = tmp_path / "db.sqlite3"
    when = utc(2018, 1, 26, 3, 9, 0, 123456)
    us = 1516936140123456
    with sqlite3.connect(path, isolation_level=None) as db:
        migrate(db, "price", MIGRATIONS, target=1)
        db.execute("INSERT INTO price_ticks VALUES ('zaif', 'xem_jpy', ?, '88.1', 0, NULL, NULL, NULL, NULL)", (us,))
        db.execute("INSERT INTO price_trades VALUES ('zaif', 'xem_jpy', '7', ?, '88.5', '10', 'bid')", (us,))
        db.execute(
            "INSERT INTO price_candles VALUES ('zaif', 'xem_jpy', 60, ?, '1', '2', '0.5', '1.5', '9', NULL)", (us,)
        )
        db.execute("INSERT INTO price_coverage VALUES ('zaif', 'xem_jpy', 'trades', ?, ?)", (us, us + 60_000_000))
    db.close()
    with PriceStore(path) as store:
        assert store.schema_version() == 2
        assert store.latest_tick("xem_jpy").at == when  # type: ignore[union-attr]
        assert store.trades("zaif", "xem_jpy", when, when + timedelta(seconds=1))[0].at == when
        assert store.candles("zaif", "xem_jpy", 60, when, when + timedelta(seconds=1))[0].start == when
        assert store.coverage("zaif", "xem_jpy", TRADES_KIND) == [(when, when + timedelta(minutes=1))]
        stored = {r[0] for r in store.db.execute(
            "SELECT typeof(at) FROM price_ticks UNION SELECT typeof(at) FROM price_trades "
            "UNION SELECT typeof(start) FROM price_candles UNION SELECT typeof(end) FROM price_coverage"
        )}
        assert stored == {"text"}
        assert store.db.execute("SELECT at FROM price_trades").fetchone()[0] == to_db_time(when)
