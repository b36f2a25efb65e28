"""Volume-weighted average price over a window, from trades or from candles (pure, Decimal).

VWAP = sum(price * amount) / sum(amount) over the trades with ``start <= at < end``, as Zaif
defines its 24 h ticker vwap and as Coincheck computed the 2018 compensation price (88.549 JPY
over 2018-01-26 12:09 to 01-27 23:00 JST). From candles the estimate weights each candle's
``average`` (its own VWAP, when the source gives one) or else its ``close`` by its volume, over
the candles lying wholly inside the window; the result says which.

Coverage says how much of the window the stored data is known to hold completely (see
``store``): a VWAP over a window with holes is still computed, but never called complete.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from nemwatch.core.models import Candle, Trade
from nemwatch.core.price.intervals import Interval, covered

CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)
ZERO = Decimal(0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class VwapResult:
    basis: str  # "trades" or "candles"
    start: datetime
    end: datetime
    vwap: Decimal | None  # None when the window holds no volume
    count: int  # trades, or candles with volume, that were used
    volume: Decimal
    notional: Decimal  # sum(price * amount), in the quote currency
    first_at: datetime | None
    last_at: datetime | None
    covered: timedelta
    candle_seconds: int | None = None
    candle_price: str | None = None  # "average", "close" or "average/close"
    source: str | None = None  # the price source whose data it was computed from, when known

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @property
    def complete(self) -> bool:
        return self.covered >= self.span

    @property
    def coverage_ratio(self) -> Decimal:
        if self.span <= timedelta(0):
            return Decimal(1)
        ratio = Decimal(int(self.covered.total_seconds() * 1_000_000)) / Decimal(
            int(self.span.total_seconds() * 1_000_000)
        )
        return min(Decimal(1), ratio)


def _divide(notional: Decimal, volume: Decimal) -> Decimal | None:
    return CONTEXT.divide(notional, volume) if volume > 0 else None


def _result(
    basis: str,
    start: datetime,
    end: datetime,
    notional: Decimal,
    volume: Decimal,
    count: int,
    first: datetime | None,
    last: datetime | None,
    span_covered: timedelta,
    *,
    candle_seconds: int | None = None,
    candle_price: str | None = None,
) -> VwapResult:
    """The result of a window from its sums: the VWAP is ``notional / volume`` (None without volume)."""
    return VwapResult(
        basis=basis,
        start=start,
        end=end,
        vwap=_divide(notional, volume),
        count=count,
        volume=volume,
        notional=notional,
        first_at=first,
        last_at=last,
        covered=span_covered,
        candle_seconds=candle_seconds,
        candle_price=candle_price,
    )


def vwap_of_trades(
    trades: Iterable[Trade], start: datetime, end: datetime, coverage: Iterable[Interval] = ()
) -> VwapResult:
    """VWAP of the trades with ``start <= at < end``; duplicates (same source, id) count once."""
    seen: set[tuple[str, str, str]] = set()
    notional = volume = ZERO
    count = 0
    first: datetime | None = None
    last: datetime | None = None
    for t in trades:
        key = (t.source, t.pair, t.trade_id)
        if not start <= t.at < end or key in seen:
            continue
        seen.add(key)
        notional = CONTEXT.add(notional, CONTEXT.multiply(t.price, t.amount))
        volume = CONTEXT.add(volume, t.amount)
        count += 1
        first = t.at if first is None or t.at < first else first
        last = t.at if last is None or t.at > last else last
    return _result("trades", start, end, notional, volume, count, first, last, covered(coverage, start, end))


def _align_up(when: datetime, seconds: int) -> datetime:
    offset = (when - EPOCH) % timedelta(seconds=seconds)
    return when if offset == timedelta(0) else when - offset + timedelta(seconds=seconds)


def _align_down(when: datetime, seconds: int) -> datetime:
    return when - (when - EPOCH) % timedelta(seconds=seconds)


def vwap_of_candles(
    candles: Iterable[Candle], start: datetime, end: datetime, coverage: Iterable[Interval] = ()
) -> VwapResult:
    """VWAP estimate from the candles wholly inside [start, end), all of one size."""
    notional = volume = ZERO
    count = 0
    used_average = used_close = False
    first: datetime | None = None
    last: datetime | None = None
    seconds: int | None = None
    by_start: dict[datetime, Candle] = {}
    for c in candles:
        if seconds is None:
            seconds = c.seconds
        elif c.seconds != seconds:
            raise ValueError("candles of different sizes in one VWAP")
        if start <= c.start and c.start + timedelta(seconds=c.seconds) <= end:
            by_start[c.start] = c
    for c in (by_start[k] for k in sorted(by_start)):
        if c.volume <= 0:
            continue
        price = c.average if c.average is not None else c.close
        used_average |= c.average is not None
        used_close |= c.average is None
        notional = CONTEXT.add(notional, CONTEXT.multiply(price, c.volume))
        volume = CONTEXT.add(volume, c.volume)
        count += 1
        first = first or c.start
        last = c.start + timedelta(seconds=c.seconds)
    if seconds is None:
        span_covered = timedelta(0)
    else:
        # only the whole candles inside the window can be counted as covered
        lo, hi = _align_up(start, seconds), _align_down(end, seconds)
        span_covered = covered(coverage, lo, hi) if lo < hi else timedelta(0)
    label = "average/close" if used_average and used_close else ("average" if used_average else "close")
    return _result(
        "candles", start, end, notional, volume, count, first, last, span_covered,
        candle_seconds=seconds, candle_price=label if count else None,
    )


def rolling_vwap(
    trades: Sequence[Trade], window: timedelta, points: Iterable[datetime]
) -> list[tuple[datetime, Decimal | None]]:
    """At each point p (ascending), the VWAP of the trades with ``p - window < at <= p``."""
    ordered = sorted(trades, key=lambda t: t.at)
    return _rolling([(t.at, t.price, t.amount) for t in ordered], window, points)


def rolling_vwap_candles(
    candles: Sequence[Candle], window: timedelta, points: Iterable[datetime]
) -> list[tuple[datetime, Decimal | None]]:
    """The same from candles, each counted at its end time with its average (or close)."""
    rows = sorted(
        (c.start + timedelta(seconds=c.seconds), c.average if c.average is not None else c.close, c.volume)
        for c in candles
    )
    return _rolling(rows, window, points)


def _rolling(
    rows: Sequence[tuple[datetime, Decimal, Decimal]], window: timedelta, points: Iterable[datetime]
) -> list[tuple[datetime, Decimal | None]]:
    out: list[tuple[datetime, Decimal | None]] = []
    head = tail = 0  # rows[tail:head] are inside the window
    notional = volume = ZERO
    for p in points:
        while head < len(rows) and rows[head][0] <= p:
            notional = CONTEXT.add(notional, CONTEXT.multiply(rows[head][1], rows[head][2]))
            volume = CONTEXT.add(volume, rows[head][2])
            head += 1
        while tail < head and rows[tail][0] <= p - window:
            notional = CONTEXT.subtract(notional, CONTEXT.multiply(rows[tail][1], rows[tail][2]))
            volume = CONTEXT.subtract(volume, rows[tail][2])
            tail += 1
        out.append((p, _divide(notional, volume)))
    return out
