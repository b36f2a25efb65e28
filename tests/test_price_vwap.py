"""VWAP on hand-computed trade and candle sets, coverage, and the rolling VWAP."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from price_support import utc

from nemwatch.core.models import Candle, Trade
from nemwatch.core.price.vwap import rolling_vwap, rolling_vwap_candles, vwap_of_candles, vwap_of_trades

D = Decimal
T0 = utc(2018, 1, 26, 3, 9)
T1 = utc(2018, 1, 26, 3, 12)


def tr(tid: str, second: int, price: str, amount: str) -> Trade:
    return Trade("zaif", "xem_jpy", tid, D(price), D(amount), T0 + timedelta(seconds=second))


def test_hand_computed_trades() -> None:
    trades = [
        tr("1", 0, "100", "1"),  # at the window start: counted
        tr("2", 30, "90", "3"),
        tr("3", 90, "80.5", "0.5"),
        tr("2", 30, "90", "3"),  # a duplicate id: counted once
        tr("4", 180, "1", "1000"),  # at the window end: excluded
        tr("5", -1, "1", "1000"),  # before the window
    ]
    result = vwap_of_trades(trades, T0, T1)
    # (100*1 + 90*3 + 80.5*0.5) / (1 + 3 + 0.5) = 410.25 / 4.5
    assert result.notional == D("410.25") and result.volume == D("4.5")
    assert result.vwap == D("410.25") / D("4.5")
    assert str(result.vwap) == "91.16666666666666666666666667"
    assert result.count == 3 and result.basis == "trades"
    assert (result.first_at, result.last_at) == (T0, T0 + timedelta(seconds=90))
    assert not result.complete and result.coverage_ratio == 0


def test_zaif_style_exact_decimals_and_coverage() -> None:
    trades = [tr("1", 5, "88.549", "1000"), tr("2", 6, "88.551", "1000")]
    result = vwap_of_trades(trades, T0, T1, coverage=[(T0 - timedelta(hours=1), T1)])
    assert result.vwap == D("88.55") and result.complete and result.coverage_ratio == 1
    half = vwap_of_trades(trades, T0, T1, coverage=[(T0, T0 + timedelta(seconds=90))])
    assert not half.complete and half.coverage_ratio == D("0.5")


def test_empty_window_has_no_vwap() -> None:
    result = vwap_of_trades([], T0, T1)
    assert result.vwap is None and result.count == 0 and result.volume == 0


def c(minute: int, close: str, volume: str, average: str | None = None, seconds: int = 60) -> Candle:
    p = D(close)
    return Candle("zaif", "xem_jpy", T0 + timedelta(minutes=minute), seconds, p, p, p, p, D(volume),
                  D(average) if average else None)


def test_hand_computed_candles() -> None:
    candles = [c(0, "90", "10", "89"), c(1, "80", "30", "81"), c(2, "70", "0", "70"), c(3, "1", "99", "1")]
    result = vwap_of_candles(candles, T0, T1, coverage=[(T0, T1)])
    # (89*10 + 81*30) / 40; the empty candle adds nothing; the one at 03:12 is outside
    assert result.vwap == D(3320) / D(40) == D("83")
    assert result.count == 2 and result.candle_price == "average" and result.candle_seconds == 60
    assert result.complete and result.basis == "candles"
    closes = vwap_of_candles([c(0, "90", "10"), c(1, "80", "30")], T0, T1)
    assert closes.vwap == D("82.5") and closes.candle_price == "close" and not closes.complete
    mixed = vwap_of_candles([c(0, "90", "10", "89"), c(1, "80", "30")], T0, T1)
    assert mixed.candle_price == "average/close"


def test_candles_partly_outside_do_not_count_and_unaligned_windows_are_not_complete() -> None:
    start = T0 + timedelta(seconds=30)
    result = vwap_of_candles([c(0, "90", "10"), c(1, "80", "30")], start, T1, coverage=[(T0, T1)])
    assert result.count == 1 and result.vwap == D(80)
    assert not result.complete  # the first half-minute is in no whole candle
    with pytest.raises(ValueError):
        vwap_of_candles([c(0, "1", "1"), c(0, "1", "1", seconds=300)], T0, T1)


def test_rolling_vwap() -> None:
    trades = [tr("1", 0, "100", "1"), tr("2", 60, "50", "1"), tr("3", 120, "80", "2")]
    points = [T0 - timedelta(seconds=1), T0, T0 + timedelta(seconds=60), T0 + timedelta(seconds=120),
              T0 + timedelta(seconds=200)]
    series = rolling_vwap(trades, timedelta(seconds=90), points)
    assert series == [
        (points[0], None),
        (points[1], D(100)),
        (points[2], D(75)),  # (100 + 50) / 2
        (points[3], D(210) / D(3)),  # the first trade left the window: (50 + 160) / 3
        (points[4], D(80)),
    ]
    candles = [c(0, "90", "10", "89"), c(1, "80", "30", "81")]
    line = rolling_vwap_candles(candles, timedelta(minutes=1), [T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)])
    assert line == [(T0 + timedelta(minutes=1), D(89)), (T0 + timedelta(minutes=2), D(81))]
