"""End to end on the simulator's coincheck-2018 market: trades polled through the
compensation window over HTTP on 127.0.0.1, stored, and the window's VWAP computed by
``nemwatch vwap``; then the candle path for a window the trades do not cover."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from datetime import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from price_support import FakeTime

from nemwatch.cli import main
from nemwatch.core.price.feed import PriceFeed
from nemwatch.core.price.store import PriceStore
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.market import Market, MarketServer
from nemwatch.sim.scenario_toml import load_scenario

JST = timezone(timedelta(hours=9))
WINDOW = (dt(2018, 1, 26, 12, 9, tzinfo=JST), dt(2018, 1, 27, 23, 0, tzinfo=JST))
ARGS = ["--from", "2018-01-26T12:09+09:00", "--to", "2018-01-27T23:00+09:00", "--source", "zaif"]


@pytest.fixture
def scenario_market() -> tuple[Market, ManualClock]:
    clock = ManualClock(WINDOW[0] - timedelta(minutes=10))
    return Market.from_scenario(load_scenario("coincheck-2018"), clock), clock


def feed_for(url: str, store: PriceStore, clock: ManualClock) -> PriceFeed:
    fake = FakeTime()  # Zaif's real rate limit holds, on a clock that does not make the test wait
    return PriceFeed.build(
        ("zaif",), urls={"zaif": url, "zaif_chart": url}, store=store,
        clock=clock.now, monotonic=fake.monotonic, sleep=fake.sleep,
    )


def run_vwap(state: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["vwap", *ARGS, "--state", str(state), *extra])
    return result.exit_code, result.output


async def test_compensation_window_vwap_from_polled_trades(
    tmp_path: Path, scenario_market: tuple[Market, ManualClock]
) -> None:
    market, clock = scenario_market
    with MarketServer(market) as server, PriceStore(tmp_path / "nemwatch.sqlite3") as store:
        async with feed_for(server.url, store, clock) as feed:
            assert market.trades_per_minute * 20 < 150  # 20 simulated minutes fit in one answer
            polls = 0
            while True:
                poll = await feed.poll_trades()
                polls += 1
                assert poll.source == "zaif" and not poll.gap
                if clock.now() >= WINDOW[1] + timedelta(minutes=1):
                    break
                clock.advance(20 * 60)
    truth = market.trades_between(*WINDOW)
    assert len(truth) > 10_000 and polls > 100

    code, out = run_vwap(tmp_path, "--json")
    assert code == 0, out
    data = json.loads(out)
    assert Decimal(data["vwap"]) == market.vwap(*WINDOW)  # exact, to the last Decimal digit
    assert data["basis"] == "trades" and data["complete"] is True and data["coverage_pct"] == "100.00"
    assert data["count"] == len(truth)
    assert Decimal(data["volume"]) == sum(t.amount for t in truth)
    assert data["from"] == "2018-01-26T03:09:00Z" and data["to"] == "2018-01-27T14:00:00Z"
    assert Decimal(80) < Decimal(data["vwap"]) < Decimal(95)  # the published figure is 88.549

    code, text = run_vwap(tmp_path)
    assert code == 0
    assert f"from trades: {len(truth)} trades" in text
    assert "coverage: full" in text and "(1d10h51m)" in text
    assert str(market.vwap(*WINDOW).quantize(Decimal("0.0001"))) in text


async def test_window_not_covered_by_trades_uses_candles_and_says_so(
    tmp_path: Path, scenario_market: tuple[Market, ManualClock]
) -> None:
    market, clock = scenario_market
    with MarketServer(market) as server, PriceStore(tmp_path / "nemwatch.sqlite3") as store:
        async with feed_for(server.url, store, clock) as feed:
            clock.advance_to(WINDOW[1] - timedelta(minutes=10))
            await feed.poll_trades()  # only the last 150 trades: a small part of the window
            clock.advance_to(WINDOW[1] + timedelta(hours=1))
            fill = await feed.fill_history(60, *WINDOW)
            assert fill.source == "zaif" and len(fill.candles) == 2091  # one a minute, none empty

    code, out = run_vwap(tmp_path, "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["basis"] == "candles" and data["complete"] is True
    assert data["candle_seconds"] == 60 and data["candle_price"] == "average"
    assert abs(Decimal(data["vwap"]) - market.vwap(*WINDOW)) < Decimal("0.000001")
    assert Decimal(data["volume"]) == sum(t.amount for t in market.trades_between(*WINDOW))

    code, text = run_vwap(tmp_path)
    assert "from candles, not trades (an estimate): 2091 candles of 60 s" in text and "coverage: full" in text

    code, out = run_vwap(tmp_path, "--json", "--basis", "trades")
    partial = json.loads(out)
    assert partial["basis"] == "trades" and partial["complete"] is False and partial["count"] == 150
    assert Decimal(0) < Decimal(partial["coverage_pct"]) < 5
    code, text = run_vwap(tmp_path, "--basis", "trades")
    assert "coverage: PARTIAL" in text


def test_vwap_without_data(tmp_path: Path) -> None:
    code, out = run_vwap(tmp_path / "empty")
    assert code == 1 and "run `nemwatch price` first" in out
    PriceStore(tmp_path / "nemwatch.sqlite3").close()
    code, out = run_vwap(tmp_path)
    assert code == 1 and "no stored xem_jpy trades or candles from zaif" in out
    result = CliRunner().invoke(main, ["vwap", "--from", "yesterday", "--to", "2018-01-27", "--state", str(tmp_path)])
    assert result.exit_code == 2 and "not an ISO 8601 time" in result.output
