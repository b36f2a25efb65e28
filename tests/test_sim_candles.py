"""The simulator's market on Zaif's real 2018 XEM/JPY candles: the shipped file, trades inside
each candle's range, candles rebuilt from the tape, and the compensation-window VWAP near
(never exactly on) the published 88.549 JPY."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from nemwatch.sim.candles import REAL_2018, CandleError, CandlePath, load_bars, parse_bars
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.market import Market
from nemwatch.sim.scenario_toml import load_scenario, parse_scenario

D = Decimal
WINDOW = (datetime(2018, 1, 26, 3, 9, tzinfo=UTC), datetime(2018, 1, 27, 14, 0, tzinfo=UTC))
PUBLISHED = D("88.549")


def real_market(seed: str = "coincheck-2018-market") -> Market:
    clock = ManualClock(datetime(2018, 2, 10, tzinfo=UTC))
    return Market([], 6, clock, candles=CandlePath.shipped(), trade_xem=(D(100), D(20_000)), seed=seed)


def test_the_shipped_file_is_the_real_2018_market() -> None:
    bars = load_bars(REAL_2018)
    assert bars[0].start == datetime(2018, 1, 19, 15, 0, tzinfo=UTC) and bars[0].open == D("122.0")
    assert bars[-1].start == datetime(2018, 2, 9, 15, 0, tzinfo=UTC)
    assert all(b.end == n.start for b, n in zip(bars, bars[1:], strict=False))  # no gaps
    overlap = [b for b in bars if b.end > WINDOW[0] and b.start < WINDOW[1]]
    assert len(overlap) == 70
    assert min(b.low for b in overlap) == D("70.0") and max(b.high for b in overlap) == D("112.9875")
    typical = sum((b.high + b.low + b.close) / 3 for b in overlap) / len(overlap)
    assert typical.quantize(D("0.001")) == D("89.285")  # the data README's unweighted figure


def test_bad_candle_files_are_refused() -> None:
    with pytest.raises(CandleError, match="columns"):
        parse_bars("time,o,h,l,c\n", 1800)
    with pytest.raises(CandleError, match="low <= open"):
        parse_bars("date,open,high,low,close\n1516374000000,122,121,120,121\n", 1800)
    with pytest.raises(CandleError, match="gap"):
        parse_bars("date,open,high,low,close\n1516374000000,1,2,1,2\n1516379400000,1,2,1,2\n", 1800)
    with pytest.raises(CandleError, match="line 2"):
        parse_bars("date,open,high,low,close\nsoon,1,2,1,2\n", 1800)
    with pytest.raises(CandleError, match="no candle file"):
        load_bars("missing.csv")
    with pytest.raises(CandleError, match="file name"):
        load_bars("../scenarios/coincheck-2018.toml")


def test_the_path_runs_open_extremes_close_and_is_flat_outside() -> None:
    path = CandlePath.shipped()
    rising = next(b for b in path.bars if b.close > b.open and b.low < b.open)
    falling = next(b for b in path.bars if b.close < b.open and b.high > b.open)
    for bar, first, second in ((rising, rising.low, rising.high), (falling, falling.high, falling.low)):
        third = timedelta(seconds=bar.seconds / 3)
        assert path.price(bar.start) == bar.open
        assert path.price(bar.start + third) == first
        assert path.price(bar.start + 2 * third) == second
        assert abs(path.price(bar.end - timedelta(microseconds=1)) - bar.close) < D("0.0001")
    assert path.price(path.start - timedelta(days=1)) == path.bars[0].open
    assert path.price(path.end + timedelta(days=1)) == path.bars[-1].close
    assert path.size_weight(path.end + timedelta(days=1)) == 1


def test_every_trade_stays_inside_its_candle_and_the_tape_rebuilds_the_candles() -> None:
    market = real_market()
    path = market.candles
    assert path is not None
    start, end = datetime(2018, 1, 26, 0, 0, tzinfo=UTC), datetime(2018, 1, 27, 0, 0, tzinfo=UTC)
    trades = market.trades_between(start, end)
    assert len(trades) == 6 * 60 * 24
    for t in trades:
        bar = path.bar_at(t.at)
        assert bar is not None and bar.low <= t.price <= bar.high, (t, bar)
    by_bar: dict[datetime, list[Decimal]] = {}
    for t in trades:
        by_bar.setdefault(path.bar_at(t.at).start, []).append(t.price)  # type: ignore[union-attr]
    for bar in (b for b in path.bars if start <= b.start < end):
        prices = by_bar[bar.start]
        span = bar.high - bar.low
        tolerance = span * D("0.25") + bar.open * D("0.006")  # 180 trades, 0.5% noise
        assert abs(prices[0] - bar.open) <= tolerance and abs(prices[-1] - bar.close) <= tolerance
        assert max(prices) >= bar.high - tolerance and min(prices) <= bar.low + tolerance


def test_busy_candles_trade_larger_sizes() -> None:
    market = real_market()
    path = market.candles
    assert path is not None
    calm = min(path.bars, key=lambda b: (b.high - b.low) / b.open)
    wild = max(path.bars, key=lambda b: (b.high - b.low) / b.open)
    size = lambda bar: sum(t.amount for t in market.trades_between(bar.start, bar.end))  # noqa: E731
    assert size(wild) > 5 * size(calm)
    assert all(t.amount >= D("0.1") for t in market.trades_between(calm.start, calm.end))


def test_the_compensation_vwap_lands_near_88_549_and_is_deterministic() -> None:
    market = real_market()
    vwap = market.vwap(*WINDOW)
    assert vwap == real_market().vwap(*WINDOW)  # a pure function of the seed
    assert vwap.quantize(D("0.001")) == D("87.859")  # measured; the published figure is 88.549
    assert abs(vwap - PUBLISHED) / PUBLISHED < D("0.01")
    others = [real_market(seed).vwap(*WINDOW) for seed in ("a", "b")]
    assert all(abs(v - PUBLISHED) / PUBLISHED < D("0.01") for v in others) and others[0] != others[1]


def test_the_coincheck_scenario_replays_the_real_candles() -> None:
    scenario = load_scenario("coincheck-2018")
    market = Market.from_scenario(scenario, ManualClock(WINDOW[1]))
    assert market.candles is not None and market.candles.bars == load_bars(REAL_2018)
    assert market.vwap(*WINDOW) == real_market(f"{scenario.seed}-market").vwap(*WINDOW)


def test_a_scenario_names_candles_instead_of_points() -> None:
    head = {"scenario": {"start": "2018-01-26T00:00:00+09:00"}}
    parsed = parse_scenario({**head, "price": {"trades_per_minute": 2, "candles": REAL_2018}})
    assert parsed.price_candles == REAL_2018 and parsed.price_path[0] == (load_bars()[0].start, D("122.0"))
    from nemwatch.sim.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="candles"):
        parse_scenario({**head, "price": {"candles": "nope.csv"}})
    with pytest.raises(ScenarioError, match="instead of points"):
        parse_scenario({**head, "price": {"candles": REAL_2018, "points": [["2018-01-26T00:00:00Z", "1"]]}})
