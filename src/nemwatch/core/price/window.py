"""The best VWAP the stored data gives for a window: from trades when they cover it, else candles.

``auto`` takes the trades when their coverage is complete; otherwise the smallest candle size
whose coverage is complete; otherwise whichever basis covers more of the window (trades on a
tie). The result says which basis it used and how much of the window that basis covers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Literal

from nemwatch.core.price.store import TRADES_KIND, PriceStore, candle_kind
from nemwatch.core.price.vwap import VwapResult, vwap_of_candles, vwap_of_trades

Basis = Literal["auto", "trades", "candles"]


def trades_vwap(store: PriceStore, source: str, pair: str, start: datetime, end: datetime) -> VwapResult:
    result = vwap_of_trades(
        store.trades(source, pair, start, end), start, end, store.coverage(source, pair, TRADES_KIND)
    )
    return replace(result, source=source)


def candles_vwaps(store: PriceStore, source: str, pair: str, start: datetime, end: datetime) -> list[VwapResult]:
    """One result per stored candle size that has any volume in the window, smallest first."""
    out = []
    for seconds in store.candle_sizes(source, pair):
        candles = store.candles(source, pair, seconds, start, end)
        result = vwap_of_candles(candles, start, end, store.coverage(source, pair, candle_kind(seconds)))
        if result.count:
            out.append(replace(result, source=source))
    return out


def window_vwap(
    store: PriceStore, source: str, pair: str, start: datetime, end: datetime, basis: Basis = "auto"
) -> VwapResult | None:
    """The VWAP of [start, end) from the store, or None when no basis has any volume there."""
    by_trades = trades_vwap(store, source, pair, start, end) if basis != "candles" else None
    if basis == "trades":
        return by_trades if by_trades is not None and by_trades.count else None
    if by_trades is not None and by_trades.count and by_trades.complete:
        return by_trades
    by_candles = candles_vwaps(store, source, pair, start, end)
    complete = [r for r in by_candles if r.complete]
    if complete:
        return complete[0]
    options = ([by_trades] if by_trades is not None and by_trades.count else []) + by_candles
    if not options:
        return None
    return max(options, key=lambda r: (r.covered, r.basis == "trades"))
