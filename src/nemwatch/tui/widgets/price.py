"""Price pane: XEM/JPY over a range (``[``/``]``: 1h 24h 7d 30d all), the range's VWAP as a
line, and a mark at each alert's time. Prices are Decimal in the core; floats only here, to draw."""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static
from textual_plotext import PlotextPlot

from nemwatch.core.query import PriceSeries
from nemwatch.tui import format as fmt
from nemwatch.tui.widgets.pane import Pane

RANGES: tuple[tuple[str, timedelta | None], ...] = (
    ("1h", timedelta(hours=1)),
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
    ("30d", timedelta(days=30)),
    ("all", None),
)
_FORM = "%d/%m/%Y %H:%M"


class PriceChart(PlotextPlot):
    def on_mount(self) -> None:
        self.plt.date_form("d/m/Y H:M")

    def draw(self, series: PriceSeries, tz: tzinfo) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.date_form("d/m/Y H:M")
        if not series.points:
            plt.title("no price data yet")
            self.refresh()
            return
        xs = [p.at.astimezone(tz).strftime(_FORM) for p in series.points]
        ys = [float(p.price) for p in series.points]
        plt.plot(xs, ys, marker="braille", color="cyan", label="XEM/JPY")
        if series.vwap is not None:
            plt.hline(float(series.vwap), "orange")
        if series.alert_times:
            times = [p.at for p in series.points]
            marks_x, marks_y = [], []
            for at in series.alert_times:
                i = min(bisect.bisect_left(times, at), len(times) - 1)
                marks_x.append(at.astimezone(tz).strftime(_FORM))
                marks_y.append(ys[i])
            plt.scatter(marks_x, marks_y, marker="x", color="red", label="alert")
        plt.ylabel("JPY")
        self.refresh()


class PricePane(Pane):
    TITLE = "Price"

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.range_index = 1

    def compose(self) -> ComposeResult:
        yield Static(id="price-line")
        yield PriceChart(id="price-chart")

    @property
    def span(self) -> tuple[str, timedelta | None]:
        return RANGES[self.range_index]

    def shift_range(self, step: int) -> str:
        self.range_index = (self.range_index + step) % len(RANGES)
        return RANGES[self.range_index][0]

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        span = self.span[1]
        start = now - span if span is not None else datetime(2015, 3, 29, tzinfo=now.tzinfo)
        return start, now + timedelta(seconds=1)

    def show(self, series: PriceSeries, tz: tzinfo, *, stale: bool) -> None:
        name = self.span[0]
        last = series.last
        if last is None:
            line = "no price data yet"
        else:
            change = series.change_pct
            arrow = "" if change is None else (f" ▲ +{change}%" if change > 0 else f" ▼ {change}%" if change < 0 else " = 0.0%")
            vwap = f"  VWAP {series.vwap:.3f}" if series.vwap is not None else ""
            line = f"{last.price:.3f} JPY{arrow}{vwap}  ({series.source or '?'}, {fmt.when(last.at, tz)})"
            if stale:
                line += "  STALE"
        self.query_one("#price-line", Static).update(Text(line, no_wrap=True, overflow="ellipsis"))
        self.query_one(PriceChart).draw(series, tz)
        self.set_title(f"XEM/JPY {name}  [ ] range", key=4)
