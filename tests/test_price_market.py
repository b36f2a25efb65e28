"""The simulator's market: a deterministic trade tape along a price path, answered in the
shapes of every price provider (each provider parses it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from price_support import FakeTime, fast_http, utc

from nemwatch.core.price.base import Listing, ProviderError
from nemwatch.core.price.feed import PriceFeed
from nemwatch.core.price.providers.coincheck import CoincheckProvider
from nemwatch.core.price.providers.coingecko import CoinGeckoProvider
from nemwatch.core.price.providers.gmo import GmoProvider
from nemwatch.core.price.providers.synthetic import SyntheticProvider
from nemwatch.core.price.providers.zaif import ZaifProvider
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.market import Market, MarketServer

D = Decimal
START = utc(2018, 1, 26, 0, 0)
PATH = [(START, D(120)), (START + timedelta(hours=24), D(80))]


def market(clock: ManualClock, **kwargs: object) -> Market:
    return Market(PATH, 6, clock, **kwargs)  # type: ignore[arg-type]


def client_for(m: Market) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        answer = m.handle(request.method, request.url.path, dict(request.url.params))
        if answer is None:
            return httpx.Response(404)
        status, headers, body = answer
        return httpx.Response(status, headers=headers, content=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def test_the_tape_is_deterministic_and_ordered() -> None:
    clock = ManualClock(START + timedelta(hours=2))
    a, b = market(clock), market(clock)
    tape = a.trades_between(START, START + timedelta(hours=2))
    assert tape == b.trades_between(START, START + timedelta(hours=2))
    assert len(tape) == 720  # 6 a minute
    assert market(clock, seed="other").trades_between(START, START + timedelta(hours=1)) != tape[:360]
    ids = [int(t.trade_id) for t in tape]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [t.at for t in tape] == sorted(t.at for t in tape)
    for t in tape:
        assert t.at.microsecond == 0 and t.side in ("bid", "ask")
        assert D(100) <= t.amount <= D(10_000)
        assert abs(t.price - a.path_price(t.at)) <= a.path_price(t.at) * D("0.0051")
    assert a.path_price(START + timedelta(hours=12)) == D(100)
    assert a.path_price(START - timedelta(days=1)) == D(120) and a.path_price(START + timedelta(days=9)) == D(80)


def test_only_the_past_is_visible() -> None:
    clock = ManualClock(START + timedelta(minutes=10))
    m = market(clock)
    seen = m.visible()
    assert 59 <= seen <= 61
    assert all(t.at <= clock.now() for t in m.trades_between(START, START + timedelta(days=1)))
    clock.advance(600)
    assert m.visible() == seen + 60 or abs(m.visible() - seen - 60) <= 1


def test_vwap_is_the_volume_weighted_mean() -> None:
    clock = ManualClock(START + timedelta(hours=3))
    m = market(clock)
    t0, t1 = START + timedelta(minutes=30), START + timedelta(hours=2)
    trades = m.trades_between(t0, t1)
    expected = sum(t.price * t.amount for t in trades) / sum(t.amount for t in trades)
    assert m.vwap(t0, t1) == expected
    with pytest.raises(ValueError):
        m.vwap(START - timedelta(hours=2), START - timedelta(hours=1))


def test_not_a_market_path() -> None:
    m = market(ManualClock(START))
    assert m.handle("GET", "/chain/height", {}) is None
    status, _, _ = m.handle("POST", "/api/1/ticker/xem_jpy", {}) or (0, {}, b"")
    assert status == 405


async def test_every_provider_parses_the_market() -> None:
    clock = ManualClock(START + timedelta(hours=6))
    m = market(clock)
    time = FakeTime(wall=clock.now())
    async with client_for(m) as client:
        http = fast_http(client, time)
        zaif = ZaifProvider(http, clock=clock.now)
        gmo = GmoProvider(http, clock=clock.now)
        cc = CoincheckProvider(http, clock=clock.now)
        cg = CoinGeckoProvider(http, clock=clock.now)
        synth = SyntheticProvider(ZaifProvider(http, pair="xem_btc"), ZaifProvider(http, pair="btc_jpy"))
        for p in (zaif, gmo, cc, cg, synth):
            assert await p.check_listed() is Listing.LISTED, p.name
        last = m.last_trade(clock.now())
        assert last is not None
        tick = await zaif.latest()
        assert tick.price == last.price and tick.bid is not None and tick.bid < tick.price < (tick.ask or 0)
        day = m.trades_between(START, clock.now() + timedelta(seconds=1))  # what has happened by now
        day_vwap = sum(t.price * t.amount for t in day) / sum(t.amount for t in day)
        assert tick.vwap_24h == day_vwap.quantize(D("0.0001"))
        assert tick.volume_24h == sum(t.amount for t in day)
        trades = await zaif.trades()
        assert len(trades) == 150 and trades[0] == last
        assert [int(t.trade_id) for t in trades] == sorted((int(t.trade_id) for t in trades), reverse=True)
        candles = await zaif.candles(300, START, START + timedelta(hours=1))
        assert len(candles) == 12 and candles[0].start == START
        in_first = m.trades_between(START, START + timedelta(minutes=5))
        assert candles[0].volume == sum(t.amount for t in in_first)
        assert candles[0].open == in_first[0].price and candles[0].close == in_first[-1].price
        assert (await gmo.latest()).price == last.price
        assert await gmo.candles(60, START, START + timedelta(hours=1)) == []  # GMO: no intraday before 2021-04-15
        gmo_2018 = GmoProvider(http, clock=clock.now, first_intraday_day=None)
        klines = await gmo_2018.candles(300, START - timedelta(hours=1), START + timedelta(hours=1))
        assert [(k.start, k.close, k.volume) for k in klines] == [(c.start, c.close, c.volume) for c in candles[:12]]
        assert (await cc.latest()).price == (last.price * D("1.01")).quantize(D("0.001"))
        assert (await cg.latest()).price == last.price
        assert len(await cg.candles(1800, clock.now() - timedelta(hours=5), clock.now())) == 10
        assert len(await cg.history(1)) == 288  # 5-minute points over a day
        assert (await synth.latest()).price == (last.price / D(1_200_000)).quantize(D("0.00000001")) * D(1_200_000)


async def test_delisting_and_outages() -> None:
    clock = ManualClock(START + timedelta(hours=1))
    m = market(clock)
    m.listed = False
    time = FakeTime(wall=clock.now())
    async with client_for(m) as client:
        http = fast_http(client, time, retries=0)
        for p in (ZaifProvider(http), GmoProvider(http), CoincheckProvider(http), CoinGeckoProvider(http)):
            assert await p.check_listed() is Listing.NOT_LISTED, p.name
        m.listed = True
        m.outages.add("zaif")
        with pytest.raises(ProviderError) as err:
            await ZaifProvider(http).latest()
        assert err.value.status == 503 and err.value.retry_after == 1.0


async def test_feed_falls_back_over_real_http_on_127_0_0_1() -> None:
    clock = ManualClock(START + timedelta(hours=1))
    m = market(clock)
    m.outages.add("zaif")
    with MarketServer(m) as server:
        assert server.url.startswith("http://127.0.0.1:")
        urls = dict.fromkeys(("zaif", "zaif_chart", "gmo", "coincheck", "coingecko"), server.url)
        feed = PriceFeed.build(("zaif", "gmo", "coincheck"), urls=urls, clock=clock.now)
        async with feed:
            tick = await feed.latest()
            assert tick is not None and tick.source == "gmo"
            assert tick.at == clock.now().astimezone(UTC).replace(tzinfo=UTC)
        assert m.requests["zaif"] >= 1 and m.requests["gmo"] == 1


def test_market_from_a_scenario_uses_its_path() -> None:
    from nemwatch.sim.scenario_toml import load_scenario

    scenario = load_scenario("coincheck-2018")
    clock = ManualClock(datetime(2018, 1, 26, 3, 9, tzinfo=UTC))
    m = Market.from_scenario(scenario, clock)
    assert m.path[0] == scenario.price_path[0]
    assert (m.trade_xem, m.slot_us) == (scenario.price_trade_xem, 60_000_000 // scenario.price_trades_per_minute)
    # the real market: 03:09 UTC is in Zaif's 03:00 candle (O 104.7499 H 104.81 L 103.8702 C 104.3499),
    # a falling one, so the path climbs from the open to the high over its first third
    assert scenario.price_candles and m.candles is not None
    assert m.path_price(datetime(2018, 1, 26, 3, 9, tzinfo=UTC)) == D("104.7499") + (D("104.81") - D("104.7499")) * D("0.9")
    for t in m.trades_between(datetime(2018, 1, 26, 3, 0, tzinfo=UTC), datetime(2018, 1, 26, 3, 30, tzinfo=UTC)):
        assert D("103.8702") <= t.price <= D("104.81")
