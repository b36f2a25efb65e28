"""A price path made of real candles: the simulator's market replays a recorded market.

``load_bars(name)`` reads a candle file shipped in ``nemwatch/sim/data`` (``date,open,high,low,
close``, the date a candle's start in Unix milliseconds, oldest first; see the README there).
``CandlePath`` turns the bars into what ``sim.market.Market`` needs:

- ``price(when)``: inside each candle a path from the open through both extremes to the close
  (low first in a rising candle, high first in a falling one; at a third and two thirds of the
  candle), so trades drawn along it, kept inside the candle's range by ``clamp``, rebuild the
  candle's open, high, low and close closely;
- ``size_weight(when)``: the candles carry no volume, so trade sizes are synthetic; they are
  scaled by the candle's range relative to its open (over the median of the file), because
  busy half-hours are the volatile ones (volume and volatility move together). This is a
  model, not data: a window's VWAP from it lands near the real one but cannot equal it.

Before the first candle the path is flat at its open, after the last at its close.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from statistics import median

REAL_2018 = "xem_jpy_zaif_30m_2018-01-19_2018-02-09.csv"
MIN_WEIGHT = Decimal("0.2")  # a flat candle still trades, at a fifth of the usual size


class CandleError(ValueError):
    """A candle file that cannot drive a market."""


@dataclass(frozen=True, slots=True)
class Bar:
    start: datetime
    seconds: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)


def parse_bars(text: str, seconds: int) -> tuple[Bar, ...]:
    """Bars from ``date,open,high,low,close`` text; ``CandleError`` on anything inconsistent."""
    bars: list[Bar] = []
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != ["date", "open", "high", "low", "close"]:
        raise CandleError(f"expected the columns date,open,high,low,close, got {reader.fieldnames}")
    for n, row in enumerate(reader, start=2):
        try:
            start = datetime.fromtimestamp(int(row["date"]) / 1000, UTC)
            o, h, lo, c = (Decimal(row[k]) for k in ("open", "high", "low", "close"))
        except (ValueError, ArithmeticError) as err:
            raise CandleError(f"line {n}: {err}") from None
        if not (0 < lo <= min(o, c) and max(o, c) <= h):
            raise CandleError(f"line {n}: low <= open, close <= high does not hold")
        if bars and start != bars[-1].end:
            raise CandleError(f"line {n}: not {seconds} s after the previous candle (gap or disorder)")
        bars.append(Bar(start, seconds, o, h, lo, c))
    if not bars:
        raise CandleError("no candles")
    return tuple(bars)


@lru_cache(maxsize=4)
def load_bars(name: str = REAL_2018, seconds: int = 1800) -> tuple[Bar, ...]:
    """The bars of a candle file shipped with the simulator (``nemwatch/sim/data/<name>``)."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise CandleError(f"{name!r}: give the file name of a shipped candle file")
    path = resources.files("nemwatch.sim").joinpath("data", name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CandleError(f"no candle file {name!r} in the simulator's data") from None
    return parse_bars(text, seconds)


class CandlePath:
    def __init__(self, bars: tuple[Bar, ...]) -> None:
        if not bars:
            raise CandleError("a candle path needs candles")
        self.bars = bars
        self._starts = [b.start for b in bars]
        ranges = [(b.high - b.low) / b.open for b in bars]
        self._typical_range = Decimal(median(ranges)) or Decimal(1)

    @classmethod
    def shipped(cls, name: str = REAL_2018) -> CandlePath:
        return cls(load_bars(name))

    @property
    def start(self) -> datetime:
        return self.bars[0].start

    @property
    def end(self) -> datetime:
        return self.bars[-1].end

    def bar_at(self, when: datetime) -> Bar | None:
        i = bisect_right(self._starts, when) - 1
        if i < 0 or when >= self.bars[i].end:
            return None
        return self.bars[i]

    def points(self) -> list[tuple[datetime, Decimal]]:
        """Each candle's open at its start, and the last close: a coarse line for summaries."""
        return [(b.start, b.open) for b in self.bars] + [(self.end, self.bars[-1].close)]

    def price(self, when: datetime) -> Decimal:
        bar = self.bar_at(when)
        if bar is None:
            return self.bars[0].open if when < self.start else self.bars[-1].close
        first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
        share = Decimal((when - bar.start) // timedelta(microseconds=1)) / Decimal(bar.seconds * 1_000_000)
        third = Decimal(1) / 3
        if share <= third:
            return bar.open + (first - bar.open) * share * 3
        if share <= 2 * third:
            return first + (second - first) * (share - third) * 3
        return second + (bar.close - second) * (share - 2 * third) * 3

    def clamp(self, when: datetime, price: Decimal) -> Decimal:
        """``price`` kept inside the range of the candle at ``when``."""
        bar = self.bar_at(when)
        if bar is None:
            return price
        return min(bar.high, max(bar.low, price))

    def size_weight(self, when: datetime) -> Decimal:
        """How much larger than usual trades are in the candle at ``when`` (its relative range
        over the file's median; 1 outside the candles)."""
        bar = self.bar_at(when)
        if bar is None:
            return Decimal(1)
        return max(MIN_WEIGHT, (bar.high - bar.low) / bar.open / self._typical_range)


__all__ = ["REAL_2018", "Bar", "CandleError", "CandlePath", "load_bars", "parse_bars"]
