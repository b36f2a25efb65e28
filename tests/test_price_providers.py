"""Each price provider against recorded answer shapes, plus malformed, empty and error answers."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from price_support import FakeTime, Routes, fast_http, fixture, utc

from nemwatch.core.price.base import Capability, Listing, ParseError, ProviderError
from nemwatch.core.price.providers import coincheck, coingecko, gmo, zaif
from nemwatch.core.price.providers.coincheck import CoincheckProvider
from nemwatch.core.price.providers.coingecko import CoinGeckoProvider
from nemwatch.core.price.providers.gmo import GmoProvider, business_day, kline_dates
from nemwatch.core.price.providers.synthetic import SyntheticProvider
from nemwatch.core.price.providers.zaif import ZaifProvider

AT = utc(2018, 3, 17, 12, 0)

# --- Zaif ---------------------------------------------------------------------------------


def test_zaif_ticker_real_xem_answers() -> None:
    tick = zaif.parse_ticker(fixture("zaif_ticker_xem_jpy_2018-03.json"), "xem_jpy", AT)
    assert (tick.source, tick.pair, tick.at) == ("zaif", "xem_jpy", AT)
    assert tick.price == Decimal("35.91") and isinstance(tick.price, Decimal)
    assert (tick.bid, tick.ask) == (Decimal("35.95"), Decimal("35.987"))
    assert tick.vwap_24h == Decimal("37.2726")
    assert tick.volume_24h == Decimal("38072152.9")
    assert not tick.indicative
    later = zaif.parse_ticker(fixture("zaif_ticker_xem_jpy_later.json"), "xem_jpy", AT)
    assert later.price == Decimal("10.4251") and later.volume_24h == Decimal("19248910.0")


def test_zaif_doc_samples() -> None:
    assert zaif.parse_ticker(fixture("zaif_ticker_btc_jpy.json"), "btc_jpy", AT).price == Decimal("135875.0")
    (trade,) = zaif.parse_trades(fixture("zaif_trades_btc_jpy.json"), "btc_jpy")
    assert trade.trade_id == "43054307"
    assert trade.price == Decimal("135340.0") and trade.amount == Decimal("0.02")
    assert trade.at == utc(2017, 4, 9, 16, 49, 52) and trade.side == "ask"


def test_zaif_trades_xem_newest_first() -> None:
    trades = zaif.parse_trades(fixture("zaif_trades_xem_jpy.json"), "xem_jpy")
    assert [t.trade_id for t in trades] == ["80512003", "80512002", "80512001"]
    assert trades[1].amount == Decimal("200.5") and trades[1].side == "ask"


def test_zaif_chart_double_encoded() -> None:
    candles = zaif.parse_chart(fixture("zaif_chart_xem_jpy.json"), "xem_jpy", 60)
    assert [c.start for c in candles] == [utc(2018, 1, 26, 3, 9), utc(2018, 1, 26, 3, 10)]
    assert candles[0].average == Decimal("88.7553") and candles[0].volume == Decimal("2700.5")
    assert candles[1].seconds == 60
    single = json.loads(fixture("zaif_chart_xem_jpy.json"))  # the inner document, encoded once
    assert zaif.parse_chart(single, "xem_jpy", 60) == candles


def test_zaif_currency_pairs() -> None:
    assert zaif.parse_currency_pairs(fixture("zaif_currency_pairs_xem_jpy.json"), "xem_jpy")
    assert not zaif.parse_currency_pairs(b"[]", "xem_jpy")
    assert not zaif.parse_currency_pairs(b'{"error": "unsupported currency_pair"}', "xem_jpy")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b'{"last": "abc"}',
        b'{"last": -1}',
        b'{"last": 0}',
        b'{"last": NaN}',
        b'{"last": Infinity}',
        b'{"last": 1e999999}',
        b'{"last": true}',
        b'{"high": 1}',
        b'{"last": "99999999999999999999999999999999999999999999"}',
        b"\xff\xfe",
        b"[" * 100_000,
    ],
)
def test_zaif_ticker_malformed(body: bytes) -> None:
    with pytest.raises(ParseError):
        zaif.parse_ticker(body, "xem_jpy", AT)


def test_zaif_error_document_is_a_provider_error() -> None:
    with pytest.raises(ProviderError) as err:
        zaif.parse_ticker(b'{"error": "unsupported currency_pair \\u001b[31m"}', "xem_jpy", AT)
    assert "\x1b" not in str(err.value)
    assert not isinstance(err.value, ParseError)


@pytest.mark.parametrize(
    "body",
    [
        b'[{"date": 1, "price": 1, "amount": 1, "tid": 1, "currency_pair": "xem_jpy"}]',  # 1970
        b'[{"date": 1516936141, "price": 1, "amount": 0, "tid": 1}]',
        b'[{"date": 1516936141, "price": 1, "amount": 1}]',
        b'[{"date": 1516936141, "price": 1, "amount": 1, "tid": 1, "currency_pair": "btc_jpy"}]',
        b'[{"date": 1516936141, "price": 1, "amount": 1, "tid": 1, "trade_type": "buy"}]',
        b'[{"date": 1516936141, "price": 1, "amount": 1, "tid": "a\\nb"}]',
        b'[1, 2]',
        b'{"trades": []}',
    ],
)
def test_zaif_trades_malformed(body: bytes) -> None:
    with pytest.raises(ParseError):
        zaif.parse_trades(body, "xem_jpy")


def test_zaif_empty_trades_is_empty() -> None:
    assert zaif.parse_trades(b"[]", "xem_jpy") == []


@pytest.mark.parametrize(
    "body",
    [b'"not json inside"', b'"{\\"data_count\\": 0}"', b'{"ohlc_data": [{"time": 1516936140000}]}', b'"[1]"'],
)
def test_zaif_chart_malformed(body: bytes) -> None:
    with pytest.raises(ParseError):
        zaif.parse_chart(body, "xem_jpy", 60)


async def test_zaif_provider_over_http() -> None:
    time = FakeTime()
    routes = (
        Routes()
        .add("/api/1/ticker/xem_jpy", fixture("zaif_ticker_xem_jpy_2018-03.json"))
        .add("/api/1/trades/xem_jpy", fixture("zaif_trades_xem_jpy.json"))
        .add("/api/1/currency_pairs/xem_jpy", fixture("zaif_currency_pairs_xem_jpy.json"))
        .add("/zaif_chart_api/v1/history", fixture("zaif_chart_xem_jpy.json"))
    )
    async with routes.client() as client:
        p = ZaifProvider(fast_http(client, time), api_url="http://127.0.0.1:1", chart_url="http://127.0.0.1:2", clock=time.now)
        assert p.capabilities == {Capability.LATEST, Capability.TRADES, Capability.CANDLES}
        assert await p.check_listed() is Listing.LISTED
        tick = await p.latest()
        assert tick.at == time.wall and tick.price == Decimal("35.91")
        assert len(await p.trades()) == 3
        candles = await p.candles(60, utc(2018, 1, 26, 3, 9), utc(2018, 1, 26, 3, 11))
        assert len(candles) == 2
    chart = [r for r in routes.seen if r.url.path.endswith("/history")][0]
    assert chart.url.host == "127.0.0.1" and chart.url.port == 2
    assert dict(chart.url.params) == {"symbol": "XEM_JPY", "resolution": "1", "from": "1516936140", "to": "1516936260"}


async def test_zaif_candles_are_fetched_in_chunks_and_filtered() -> None:
    time = FakeTime()
    routes = Routes().add("/zaif_chart_api/v1/history", fixture("zaif_chart_xem_jpy.json"))
    async with routes.client() as client:
        p = ZaifProvider(fast_http(client, time), clock=time.now, max_candles_per_request=1)
        candles = await p.candles(60, utc(2018, 1, 26, 3, 9), utc(2018, 1, 26, 3, 10))
        assert [c.start for c in candles] == [utc(2018, 1, 26, 3, 9)]
        with pytest.raises(ProviderError):
            await p.candles(7, utc(2018, 1, 26), utc(2018, 1, 27))
    assert routes.count("/zaif_chart_api/v1/history") == 1


# --- GMO Coin -----------------------------------------------------------------------------


def test_gmo_ticker_doc_sample_and_xem() -> None:
    btc = gmo.parse_ticker(fixture("gmo_ticker_btc.json"), "BTC", "btc_jpy")
    assert btc.price == Decimal("756662") and btc.at == utc(2018, 3, 30, 12, 34, 56, 789000)
    xem = gmo.parse_ticker(fixture("gmo_ticker_xem.json"), "XEM", "xem_jpy")
    assert (xem.source, xem.price, xem.bid, xem.ask) == ("gmo", Decimal("88.745"), Decimal("88.601"), Decimal("88.912"))
    with pytest.raises(ParseError):
        gmo.parse_ticker(fixture("gmo_ticker_btc.json"), "XEM", "xem_jpy")


def test_gmo_klines_doc_sample() -> None:
    candles = gmo.parse_klines(fixture("gmo_klines_btc.json"), "btc_jpy", 60)
    assert [c.start for c in candles] == [utc(2021, 4, 16, 16, 0), utc(2021, 4, 16, 16, 1)]
    assert candles[0].high == Decimal("6518250") and candles[0].average is None


def test_gmo_symbols_and_errors() -> None:
    assert gmo.parse_symbols(fixture("gmo_symbols.json"), "XEM")
    assert not gmo.parse_symbols(fixture("gmo_symbols.json"), "XYM")
    with pytest.raises(ProviderError) as err:
        gmo.parse_ticker(fixture("gmo_maintenance.json"), "XEM", "xem_jpy")
    assert "status 5" in str(err.value)
    for body in (b"{}", b'{"status": 0}', b'{"status": 0, "data": {}}', b'{"status": 0, "data": [{"symbol": "XEM"}]}'):
        with pytest.raises(ParseError):
            gmo.parse_ticker(body, "XEM", "xem_jpy")
    with pytest.raises(ParseError):
        gmo.parse_ticker(b'{"status":0,"data":[{"symbol":"XEM","last":"1","timestamp":"yesterday"}]}', "XEM", "xem_jpy")


def test_gmo_business_days_roll_at_six_jst() -> None:
    assert business_day(utc(2021, 4, 20, 20, 59)) == utc(2021, 4, 20).date()
    assert business_day(utc(2021, 4, 20, 21, 0)) == utc(2021, 4, 21).date()
    assert kline_dates(60, utc(2021, 4, 20, 20, 0), utc(2021, 4, 20, 22, 0)) == ["20210420", "20210421"]
    assert kline_dates(14400, utc(2021, 12, 31, 12), utc(2022, 1, 2)) == ["2021", "2022"]
    assert kline_dates(60, utc(2018, 1, 26), utc(2018, 1, 27)) == []  # intraday starts 2021-04-15


async def test_gmo_provider_over_http() -> None:
    time = FakeTime()
    routes = (
        Routes()
        .add("/public/v1/ticker", fixture("gmo_ticker_xem.json"))
        .add("/public/v1/symbols", fixture("gmo_symbols.json"))
        .add("/public/v1/klines", fixture("gmo_klines_btc.json"))
    )
    async with routes.client() as client:
        p = GmoProvider(fast_http(client, time), clock=time.now)
        assert await p.check_listed() is Listing.LISTED
        assert (await p.latest()).price == Decimal("88.745")
        candles = await p.candles(60, utc(2021, 4, 16, 16, 0), utc(2021, 4, 16, 16, 1))
        assert len(candles) == 1
        with pytest.raises(ProviderError):
            await p.trades()
    klines = [r for r in routes.seen if r.url.path == "/public/v1/klines"][0]
    assert dict(klines.url.params) == {"symbol": "XEM", "interval": "1min", "date": "20210416"}


# --- Coincheck ----------------------------------------------------------------------------


def test_coincheck_rate_is_indicative() -> None:
    tick = coincheck.parse_rate(fixture("coincheck_rate_xem_jpy.json"), "xem_jpy", AT)
    assert tick.price == Decimal("88.549") and tick.indicative and tick.at == AT
    for body in (b"{}", b'{"rate": ""}', b'{"rate": "-3"}', b'{"rate": [1]}', b"[]"):
        with pytest.raises(ParseError):
            coincheck.parse_rate(body, "xem_jpy", AT)
    with pytest.raises(ProviderError):
        coincheck.parse_rate(b'{"success": false, "error": "invalid pair"}', "xem_jpy", AT)


async def test_coincheck_listing() -> None:
    time = FakeTime()
    routes = Routes().add("/api/rate/xem_jpy", fixture("coincheck_rate_xem_jpy.json"))
    routes.add("/api/rate/foo_jpy", (404, b'{"success": false, "error": "not found"}', {}))
    async with routes.client() as client:
        assert await CoincheckProvider(fast_http(client, time)).check_listed() is Listing.LISTED
        gone = CoincheckProvider(fast_http(client, time), pair="foo_jpy")
        assert await gone.check_listed() is Listing.NOT_LISTED


# --- CoinGecko ----------------------------------------------------------------------------


def test_coingecko_shapes() -> None:
    tick = coingecko.parse_simple_price(fixture("coingecko_simple_price.json"), "nem", "jpy", "xem_jpy")
    assert (tick.price, tick.at, tick.source) == (Decimal("88.12"), utc(2018, 1, 27, 14, 0), "coingecko")
    assert coingecko.parse_simple_price(fixture("coingecko_simple_price.json"), "nem", "btc", "xem_btc").price == Decimal(
        "0.0000731"
    )
    points = coingecko.parse_market_chart(fixture("coingecko_market_chart.json"), "xem_jpy")
    assert [p.price for p in points] == [Decimal("90.1"), Decimal("89.4"), Decimal("88.12")]
    candles = coingecko.parse_ohlc(fixture("coingecko_ohlc.json"), "xem_jpy", 1800)
    assert candles[-1].start == utc(2018, 1, 27, 13, 30)  # the timestamp is the close
    assert all(c.volume == 0 for c in candles)


def test_coingecko_errors() -> None:
    with pytest.raises(ProviderError) as err:
        coingecko.parse_simple_price(fixture("coingecko_rate_limited.json"), "nem", "jpy", "xem_jpy")
    assert "429" in str(err.value)
    for body in (b"{}", b'{"nem": {}}', b'{"nem": {"jpy": 1}}', b'{"nem": {"jpy": "x", "last_updated_at": 1517061600}}'):
        with pytest.raises(ParseError):
            coingecko.parse_simple_price(body, "nem", "jpy", "xem_jpy")
    for body in (b'{"prices": [[1]]}', b'{"prices": {}}', b"[]"):
        with pytest.raises(ParseError):
            coingecko.parse_market_chart(body, "xem_jpy")
    with pytest.raises(ParseError):
        coingecko.parse_ohlc(b"[[1517061600000, 1, 2]]", "xem_jpy", 1800)


async def test_coingecko_demo_key_goes_in_a_header_only() -> None:
    time = FakeTime(wall=utc(2018, 1, 27, 14, 0))
    routes = (
        Routes()
        .add("/api/v3/simple/price", fixture("coingecko_simple_price.json"))
        .add("/api/v3/coins/nem/ohlc", fixture("coingecko_ohlc.json"))
        .add("/api/v3/coins/nem/market_chart", fixture("coingecko_market_chart.json"))
    )
    async with routes.client() as client:
        p = CoinGeckoProvider(fast_http(client, time), demo_key="CG-secret", clock=time.now)
        assert await p.check_listed() is Listing.LISTED
        assert (await p.latest()).price == Decimal("88.12")
        candles = await p.candles(1800, time.wall - timedelta(hours=2), time.wall)
        assert len(candles) == 3
        assert len(await p.history(1)) == 3
        with pytest.raises(ProviderError):
            await p.candles(60, time.wall - timedelta(hours=2), time.wall)
    for request in routes.seen:
        assert request.headers["x-cg-demo-api-key"] == "CG-secret"
        assert "CG-secret" not in str(request.url)
    ohlc = [r for r in routes.seen if r.url.path.endswith("/ohlc")][0]
    assert dict(ohlc.url.params) == {"vs_currency": "jpy", "days": "1"}


# --- synthetic ----------------------------------------------------------------------------


async def test_synthetic_cross_rate() -> None:
    time = FakeTime()
    routes = (
        Routes()
        .add("/api/1/ticker/xem_btc", b'{"last": 0.00007379, "bid": 0.0000737, "ask": 0.0000739}')
        .add("/api/1/ticker/btc_jpy", b'{"last": 1200000.0}')
        .add("/api/1/currency_pairs/xem_btc", b'[{"currency_pair": "xem_btc"}]')
        .add("/api/1/currency_pairs/btc_jpy", b"[]")
    )
    async with routes.client() as client:
        http = fast_http(client, time)
        p = SyntheticProvider(ZaifProvider(http, pair="xem_btc", clock=time.now), ZaifProvider(http, pair="btc_jpy", clock=time.now))
        assert p.pair == "xem_jpy"
        tick = await p.latest()
        assert tick.price == Decimal("88.5480") and tick.indicative and tick.source == "synthetic"
        assert await p.check_listed() is Listing.NOT_LISTED
    with pytest.raises(ValueError):
        SyntheticProvider(ZaifProvider(http, pair="xem_btc"), ZaifProvider(http, pair="eth_jpy"))


# --- HTTP errors through a provider -------------------------------------------------------


async def test_http_errors_become_provider_errors_without_the_query() -> None:
    time = FakeTime()
    routes = Routes().add("/api/1/ticker/xem_jpy", (500, b"oops", {}), (500, b"oops", {}), (500, b"oops", {}))
    routes.add("/api/v3/simple/price", (401, b'{"error": "bad key"}', {}))
    async with routes.client() as client:
        with pytest.raises(ProviderError) as err:
            await ZaifProvider(fast_http(client, time), clock=time.now).latest()
        assert err.value.status == 500
        assert routes.count("/api/1/ticker/xem_jpy") == 3  # first try and two retries
        with pytest.raises(ProviderError) as err:
            await CoinGeckoProvider(fast_http(client, time), demo_key="CG-x", clock=time.now).latest()
        assert err.value.status == 401 and "CG-x" not in str(err.value) and "vs_currencies" not in str(err.value)
        assert routes.count("/api/v3/simple/price") == 1  # a 4xx is not retried


async def test_answer_size_is_capped() -> None:
    time = FakeTime()
    routes = Routes().add("/api/1/trades/xem_jpy", b"[" + b"1," * 5000 + b"1]")
    async with routes.client() as client:
        with pytest.raises(ProviderError):
            await ZaifProvider(fast_http(client, time, max_bytes=1000), clock=time.now).trades()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
field_names = st.sampled_from(["last", "price", "amount", "tid", "date", "rate", "status", "data", "nem", "jpy",
                               "ohlc_data", "time", "symbol", "timestamp", "openTime", "prices", "error"])
keyed = st.dictionaries(field_names, json_values, max_size=8)


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(json_values, keyed, st.lists(keyed, max_size=3)))
def test_parsers_raise_only_their_own_errors(value: object) -> None:
    body = json.dumps(value).encode()
    parsers = [
        lambda b: zaif.parse_ticker(b, "xem_jpy", AT),
        lambda b: zaif.parse_trades(b, "xem_jpy"),
        lambda b: zaif.parse_chart(b, "xem_jpy", 60),
        lambda b: zaif.parse_currency_pairs(b, "xem_jpy"),
        lambda b: gmo.parse_ticker(b, "XEM", "xem_jpy"),
        lambda b: gmo.parse_klines(b, "xem_jpy", 60),
        lambda b: gmo.parse_symbols(b, "XEM"),
        lambda b: coincheck.parse_rate(b, "xem_jpy", AT),
        lambda b: coingecko.parse_simple_price(b, "nem", "jpy", "xem_jpy"),
        lambda b: coingecko.parse_market_chart(b, "xem_jpy"),
        lambda b: coingecko.parse_ohlc(b, "xem_jpy", 1800),
    ]
    for parse in parsers:
        try:
            parse(body)
        except ProviderError:
            pass
