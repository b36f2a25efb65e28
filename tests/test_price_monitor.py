"""A day of the 120 -> 80 JPY fall through the price monitor: history fill, trades, rolling
VWAP, and the configured price alerts, each firing once; then every provider down."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from price_support import FakeTime, utc

from nemwatch.config import config_from_data
from nemwatch.core.alert import Stage
from nemwatch.core.price.base import Listing
from nemwatch.core.price.monitor import PriceMonitor
from nemwatch.core.price.store import PriceStore
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.market import Market

D = Decimal
START = utc(2018, 1, 26, 0, 0)
PATH = [(START - timedelta(days=2), D(120)), (START, D(120)), (START + timedelta(hours=24), D(80)),
        (START + timedelta(hours=30), D(100))]
STEP = timedelta(minutes=60)  # two trades a minute: 120 trades an hour, one answer holds 150


def client_for(m: Market) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        status, headers, body = m.handle(request.method, request.url.path, dict(request.url.params)) or (404, {}, b"")
        return httpx.Response(status, headers=headers, content=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_a_day_of_the_fall(tmp_path: Path) -> None:
    cfg = config_from_data({"price": {
        "sources": ["zaif", "coincheck"],
        "stale_after_seconds": 600,
        "alert": [
            {"kind": "below", "value": 90, "hysteresis_pct": 2},
            {"kind": "move_pct", "value": 30, "window_minutes": 1440, "hysteresis_pct": 10},
            {"kind": "cross_vwap", "window_minutes": 1440, "hysteresis_pct": 1},
            {"kind": "stale"},
        ],
    }})
    clock = ManualClock(START + timedelta(hours=1))
    market = Market(PATH, 2, clock)
    fake = FakeTime()
    with PriceStore(tmp_path / "nemwatch.sqlite3") as store:
        monitor = PriceMonitor.from_config(
            cfg.price, network="mainnet", store=store, client=client_for(market),
            clock=clock.now, monotonic=fake.monotonic, sleep=fake.sleep,
        )
        report = await monitor.start()
        assert report.listings == {"zaif": Listing.LISTED, "coincheck": Listing.LISTED}
        assert report.history.source == "zaif" and report.history.seconds == 300 and len(report.history.candles) == 288

        alerts = []
        vwaps = []
        while clock.now() < START + timedelta(hours=31):
            cycle = await monitor.poll()
            assert cycle.tick is not None and cycle.tick.source == "zaif" and not cycle.status.stale
            assert not cycle.trades.gap
            assert cycle.vwap_24h is not None and cycle.vwap_24h.coverage_ratio > D("0.99")
            vwaps.append(cycle.vwap_24h.vwap)
            alerts += [(clock.now() - START, a) for a in cycle.alerts]
            clock.advance(STEP.total_seconds())
            fake.advance(STEP.total_seconds())

        fired = [(a.rule, a.stage) for _, a in alerts]
        assert fired.count(("price_below", Stage.FIRING)) == 1
        assert fired.count(("price_move", Stage.FIRING)) == 1
        assert ("price_below", Stage.RESOLVED) in fired  # back up to 100 at the end
        # the price leaves the flat VWAP downwards (its starting side), then crosses it upwards
        crossings = [(t, a) for t, a in alerts if a.rule == "price_cross_vwap"]
        assert [dict(a.extra)["direction"] for _, a in crossings] == ["above"]
        assert crossings[0][0] > timedelta(hours=24)
        assert not any(rule == "price_stale" for rule, _ in fired)
        move_at, move = next((t, a) for t, a in alerts if a.rule == "price_move")
        assert timedelta(hours=19) < move_at < timedelta(hours=24)  # -30 % against 120 a day earlier
        assert D(dict(move.extra)["change_pct"]) <= -30
        assert vwaps[0] > vwaps[-1]  # the 24 h VWAP follows the fall
        line = move.to_json_dict()
        assert line["price_source"] == "zaif" and line["amount_jpy"] is None and line["price_jpy"]

        # every provider down: the price goes stale and says why
        market.outages.update({"zaif", "coincheck"})
        stale = []
        for _ in range(4):
            clock.advance(300)
            fake.advance(300)
            cycle = await monitor.poll()
            stale += [a for a in cycle.alerts if a.rule == "price_stale"]
        assert [a.stage for a in stale] == [Stage.FIRING]
        assert "every price provider is down" in stale[0].summary
        assert cycle.status.stale and cycle.status.all_down
        assert monitor.feed.price_for_alert() == (None, None)
        market.outages.clear()
        clock.advance(600)
        fake.advance(600)
        cycle = await monitor.poll()
        assert [a.stage for a in cycle.alerts if a.rule == "price_stale"] == [Stage.RESOLVED]
        await monitor.feed.aclose()
