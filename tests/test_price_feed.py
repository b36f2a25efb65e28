"""The price feed: fallback order, rests after failures (Retry-After), rate limits, listing
checks, staleness, trade de-duplication with coverage, and history fill."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from price_support import FakeTime, Routes, fixture, utc

from nemwatch.config import config_from_data
from nemwatch.core.price.base import Listing
from nemwatch.core.price.feed import PriceFeed
from nemwatch.core.price.http import HttpPolicy
from nemwatch.core.price.store import TRADES_KIND, PriceStore, candle_kind

ZAIF_TICKER = "/api/1/ticker/xem_jpy"
GMO_TICKER = "/public/v1/ticker"
CC_RATE = "/api/rate/xem_jpy"
CG_PRICE = "/api/v3/simple/price"


def feed_for(routes: Routes, time: FakeTime, sources: tuple[str, ...], **kwargs: object) -> PriceFeed:
    routes.time = time
    return PriceFeed.build(
        sources, client=routes.client(), clock=time.now, monotonic=time.monotonic, sleep=time.sleep, **kwargs  # type: ignore[arg-type]
    )


def trades_body(first: int, last: int, start_unix: int = 1516936000) -> bytes:
    """Trades with ids first..last (newest first), one every 10 s, price 88 + id % 7 / 10."""
    rows = [
        {"date": start_unix + 10 * (i - first), "price": float(Decimal(88) + Decimal(i % 7) / 10),
         "amount": 100.0 + i % 3, "tid": i, "currency_pair": "xem_jpy", "trade_type": "bid"}
        for i in range(last, first - 1, -1)
    ]
    return json.dumps(rows).encode()


async def test_fallback_when_the_first_provider_is_down() -> None:
    time = FakeTime()
    routes = Routes().add(ZAIF_TICKER, (503, b"down", {})).add(GMO_TICKER, fixture("gmo_ticker_xem.json"))
    async with feed_for(routes, time, ("zaif", "gmo"), backoff_base=10.0) as feed:
        tick = await feed.latest()
        assert tick is not None and tick.source == "gmo" and tick.price == Decimal("88.745")
        assert routes.count(ZAIF_TICKER) == 3  # one call, two short retries on 503
        assert feed.state["zaif"].failures == 1 and "503" in (feed.state["zaif"].last_error or "")
        # zaif rests: the next poll goes straight to gmo
        await feed.latest()
        assert routes.count(ZAIF_TICKER) == 3 and routes.count(GMO_TICKER) == 2
        routes.add(ZAIF_TICKER, fixture("zaif_ticker_xem_jpy_2018-03.json"))
        time.advance(11)
        tick = await feed.latest()
        assert tick is not None and tick.source == "zaif"
        assert feed.state["zaif"].failures == 0
        status = feed.status()
        assert status.tick is not None and status.tick.source == "zaif" and not status.stale


async def test_retry_after_is_honoured() -> None:
    time = FakeTime()
    routes = Routes().add(ZAIF_TICKER, (429, b"slow down", {"retry-after": "120"}))
    routes.add(CC_RATE, fixture("coincheck_rate_xem_jpy.json"))
    async with feed_for(routes, time, ("zaif", "coincheck")) as feed:
        tick = await feed.latest()
        assert tick is not None and tick.source == "coincheck" and tick.indicative
        assert routes.count(ZAIF_TICKER) == 1  # 120 s is too long to wait inline
        time.advance(100)
        await feed.latest()
        assert routes.count(ZAIF_TICKER) == 1  # still resting
        time.advance(21)
        routes.add(ZAIF_TICKER, fixture("zaif_ticker_xem_jpy_later.json"))
        tick = await feed.latest()
        assert tick is not None and tick.source == "zaif"


async def test_short_retry_after_is_waited_inline() -> None:
    time = FakeTime()
    routes = Routes().add(ZAIF_TICKER, (503, b"busy", {"retry-after": "3"}), fixture("zaif_ticker_xem_jpy_later.json"))
    async with feed_for(routes, time, ("zaif",)) as feed:
        tick = await feed.latest()
    assert tick is not None and tick.price == Decimal("10.4251")
    assert 3.0 in time.slept


async def test_backoff_grows_while_a_provider_keeps_failing() -> None:
    time = FakeTime()
    routes = Routes().add(ZAIF_TICKER, (500, b"", {}))
    policy = HttpPolicy(retries=0)
    async with feed_for(routes, time, ("zaif",), http_policy=policy, backoff_base=2.0, backoff_cap=8.0) as feed:
        rests = []
        for _ in range(5):
            assert await feed.latest() is None
            rests.append(feed.state["zaif"].rest_until - time.mono)
            time.advance(rests[-1])
        assert rests == [2.0, 4.0, 8.0, 8.0, 8.0]
        assert feed.status().all_down


async def test_zaif_never_gets_more_than_ten_calls_a_second() -> None:
    time = FakeTime()
    routes = Routes().add(ZAIF_TICKER, fixture("zaif_ticker_xem_jpy_later.json"))
    async with feed_for(routes, time, ("zaif",)) as feed:
        for _ in range(40):
            assert await feed.latest() is not None
    stamps = routes.stamps
    assert len(stamps) == 40
    for i, t in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s < t + 1.0]
        assert len(in_window) <= 10


async def test_keyless_coingecko_is_skipped_not_waited_for() -> None:
    time = FakeTime(wall=utc(2018, 1, 27, 14, 0))
    routes = Routes().add(CG_PRICE, fixture("coingecko_simple_price.json"))
    async with feed_for(routes, time, ("coingecko",)) as feed:
        assert await feed.latest() is not None
        time.advance(5)
        assert await feed.latest() is None  # our own limit: about one call a minute
        assert routes.count(CG_PRICE) == 1
        assert feed.state["coingecko"].failures == 0  # not the provider's fault
        assert time.slept == []
        time.advance(60)
        assert await feed.latest() is not None


async def test_listing_check_skips_delisted_providers() -> None:
    time = FakeTime()
    routes = (
        Routes()
        .add("/api/1/currency_pairs/xem_jpy", b'{"error": "unsupported currency_pair"}')
        .add("/public/v1/symbols", fixture("gmo_symbols.json"))
        .add(GMO_TICKER, fixture("gmo_ticker_xem.json"))
        .add(CC_RATE, (500, b"", {}))
    )
    async with feed_for(routes, time, ("zaif", "gmo", "coincheck"), http_policy=HttpPolicy(retries=0)) as feed:
        listings = await feed.check_listings()
        assert listings == {"zaif": Listing.NOT_LISTED, "gmo": Listing.LISTED, "coincheck": Listing.UNKNOWN}
        tick = await feed.latest()
        assert tick is not None and tick.source == "gmo"
        assert routes.count(ZAIF_TICKER) == 0
        providers = {p["name"]: p for p in feed.status().to_json_dict()["providers"]}
        assert providers["zaif"]["listing"] == "not_listed"
        assert providers["coincheck"]["listing"] == "unknown" and providers["coincheck"]["failures"] == 1


async def test_staleness_in_status_and_json() -> None:
    time = FakeTime()
    routes = Routes().add(ZAIF_TICKER, fixture("zaif_ticker_xem_jpy_later.json"))
    policy = HttpPolicy(retries=0)
    async with feed_for(routes, time, ("zaif",), stale_after=timedelta(seconds=300), http_policy=policy) as feed:
        assert feed.is_stale() and feed.price_for_alert() == (None, None)
        await feed.latest()
        at = time.wall
        routes.add(ZAIF_TICKER, (503, b"", {}))
        time.advance(299)
        assert not feed.is_stale()
        assert feed.price_for_alert() == (Decimal("10.4251"), "zaif")
        time.advance(2)
        assert await feed.latest() is None
        data = feed.status().to_json_dict()
        assert data["stale"] is True and data["age_seconds"] == 301
        assert data["price"] == "10.4251" and data["source"] == "zaif"
        assert data["at"] == at.isoformat().replace("+00:00", "Z")
        assert data["all_down"] is True
        assert feed.price_for_alert() == (None, None)


async def test_trades_are_deduplicated_and_coverage_tracks_gaps(tmp_path: Path) -> None:
    time = FakeTime(wall=utc(2018, 1, 26, 3, 30))
    store = PriceStore(tmp_path / "nemwatch.sqlite3")
    routes = Routes().add("/api/1/trades/xem_jpy", trades_body(1, 150))
    feed = feed_for(routes, time, ("zaif",), store=store)
    first = await feed.poll_trades()
    assert (first.source, first.fetched, first.new, first.gap) == ("zaif", 150, 150, False)
    # a full batch: the oldest second may be cut, so coverage starts one second later
    assert first.covered_from == utc(2018, 1, 26, 3, 6, 41)
    routes.add("/api/1/trades/xem_jpy", trades_body(51, 200, 1516936000 + 500))
    second = await feed.poll_trades()
    assert (second.new, second.gap) == (50, False)
    assert store.coverage("zaif", "xem_jpy", TRADES_KIND) == [(utc(2018, 1, 26, 3, 6, 41), utc(2018, 1, 26, 3, 30))]
    # a batch that does not reach back to the last poll: a gap
    time.advance(3 * 3600)
    routes.add("/api/1/trades/xem_jpy", trades_body(1000, 1149, 1516936000 + 9990))
    third = await feed.poll_trades()
    assert third.gap and third.new == 150
    assert len(store.coverage("zaif", "xem_jpy", TRADES_KIND)) == 2
    assert store.counts()["trades"] == 350
    await feed.aclose()
    store.close()


async def test_short_trade_batch_joins_earlier_coverage(tmp_path: Path) -> None:
    time = FakeTime(wall=utc(2018, 1, 26, 3, 30))
    store = PriceStore(tmp_path / "db.sqlite3")
    routes = Routes().add("/api/1/trades/xem_jpy", trades_body(1, 10))
    feed = feed_for(routes, time, ("zaif",), store=store)
    await feed.poll_trades()
    time.advance(600)
    routes.add("/api/1/trades/xem_jpy", trades_body(1, 12))
    poll = await feed.poll_trades()
    assert not poll.gap and poll.new == 2
    assert store.coverage("zaif", "xem_jpy", TRADES_KIND) == [(utc(2018, 1, 26, 3, 6, 40), utc(2018, 1, 26, 3, 40))]
    await feed.aclose()
    store.close()


async def test_history_fill_stores_candles_and_falls_back(tmp_path: Path) -> None:
    time = FakeTime(wall=utc(2018, 1, 26, 3, 12))
    store = PriceStore(tmp_path / "db.sqlite3")
    routes = Routes().add("/zaif_chart_api/v1/history", (500, b"", {}))
    routes.add("/public/v1/klines", fixture("gmo_klines_btc.json"))
    feed = feed_for(routes, time, ("zaif", "gmo"), store=store, http_policy=HttpPolicy(retries=0))
    fill = await feed.fill_history(60, utc(2018, 1, 26, 3, 0), time.wall)
    assert fill.source is None  # zaif failed; gmo has no intraday data before 2021-04-15
    routes.add("/zaif_chart_api/v1/history", fixture("zaif_chart_xem_jpy.json"))
    time.advance(3600)
    fill = await feed.fill_history(60, utc(2018, 1, 26, 3, 9), utc(2018, 1, 26, 3, 11))
    assert fill.source == "zaif" and len(fill.candles) == 2
    assert len(store.candles("zaif", "xem_jpy", 60, utc(2018, 1, 26), utc(2018, 1, 27))) == 2
    assert store.coverage("zaif", "xem_jpy", candle_kind(60)) == [(utc(2018, 1, 26, 3, 9), utc(2018, 1, 26, 3, 11))]
    await feed.aclose()
    store.close()


async def test_ticks_are_stored_and_reloaded(tmp_path: Path) -> None:
    time = FakeTime()
    routes = Routes().add(ZAIF_TICKER, fixture("zaif_ticker_xem_jpy_later.json"))
    with PriceStore(tmp_path / "db.sqlite3") as store:
        async with feed_for(routes, time, ("zaif",), store=store) as feed:
            await feed.latest()
            time.advance(10)
            await feed.latest()  # same price within a minute: not stored again
            time.advance(60)
            await feed.latest()
        assert store.counts()["ticks"] == 2
        again = PriceFeed.build(("zaif",), client=routes.client(), store=store, clock=time.now)
        assert again.current is not None and again.current.price == Decimal("10.4251")
        await again.aclose()


def test_build_rejects_unknown_names() -> None:
    with pytest.raises(ValueError):
        PriceFeed.build(("zaif", "kraken"))
    with pytest.raises(ValueError):
        PriceFeed.build(("zaif",), urls={"bitflyer": "http://127.0.0.1:1"})
    with pytest.raises(ValueError):
        PriceFeed.build(())


async def test_from_config_uses_urls_key_and_staleness() -> None:
    cfg = config_from_data({
        "price": {
            "sources": ["coingecko", "zaif"],
            "stale_after_seconds": 42,
            "coingecko_demo_key": "CG-demo",
            "urls": {"zaif": "http://127.0.0.1:9", "coingecko": "http://127.0.0.1:8"},
        }
    })
    time = FakeTime(wall=utc(2018, 1, 27, 14, 0))
    routes = Routes(time=time).add(CG_PRICE, fixture("coingecko_simple_price.json"))
    feed = PriceFeed.from_config(cfg.price, client=routes.client(), clock=time.now, monotonic=time.monotonic)
    assert [p.name for p in feed.providers] == ["coingecko", "zaif"]
    assert feed.stale_after == timedelta(seconds=42)
    tick = await feed.latest()
    assert tick is not None and tick.source == "coingecko"
    request = routes.seen[0]
    assert (request.url.host, request.url.port) == ("127.0.0.1", 8)
    assert request.headers["x-cg-demo-api-key"] == "CG-demo"
    await feed.aclose()


async def test_an_unsupported_candle_size_is_not_a_failure(tmp_path: Path) -> None:
    time = FakeTime(wall=utc(2018, 1, 27, 14, 0))
    routes = Routes().add("/api/v3/coins/nem/ohlc", fixture("coingecko_ohlc.json"))
    with PriceStore(tmp_path / "db.sqlite3") as store:
        async with feed_for(routes, time, ("coincheck", "coingecko"), store=store) as feed:
            fill = await feed.fill_history(300, time.wall - timedelta(hours=2), time.wall)
            assert fill.source is None and routes.seen == []
            assert feed.state["coingecko"].failures == 0 and feed.state["coincheck"].failures == 0
            fill = await feed.fill_history(1800, time.wall - timedelta(hours=2), time.wall)
            assert fill.source == "coingecko" and len(fill.candles) == 3
