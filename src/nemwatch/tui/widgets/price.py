"""Price pane: XEM/JPY over a range (``[``/``]``: 1h 24h 7d 30d all), the range's VWAP as a
line, and a mark at each alert's time. Prices are Decimal in the core; floats only here, to draw."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from nemwatch.core.query import PriceSeries
from nemwatch.tui import format as fmt
from nemwatch.tui.widgets.pane import Pane, update_line
from nemwatch.tui.widgets.price_chart import chart_class

RANGES: tuple[tuple[str, timedelta | None], ...] = (
    ("1h", timedelta(hours=1)),
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
    ("30d", timedelta(days=30)),
    ("all", None),
)


class PricePane(Pane):
    TITLE = "Price"

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.range_index = 1
        self._chart: Any = None
        self._drawn: tuple[PriceSeries, tzinfo] | None = None  # the latest series, for the chart
        self._chart_wanted = False

    def compose(self) -> ComposeResult:
        yield Static(id="price-line")
        yield Static(id="price-chart-wait")  # the chart takes its place after the first frame

    async def _mount_chart(self) -> None:
        """Mount the chart after the first frame was drawn: importing textual-plotext and
        building the first plot do not delay the first frame."""
        if self._chart is not None or not self.is_attached:
            return
        self._chart = chart_class()(id="price-chart")
        await self.query_one("#price-chart-wait").remove()
        await self.mount(self._chart)
        if self._drawn is not None:
            self._chart.draw(*self._drawn)

    @property
    def shown_series(self) -> PriceSeries | None:
        return self._drawn[0] if self._drawn is not None else None

    @property
    def span(self) -> tuple[str, timedelta | None]:
        return RANGES[self.range_index]

    def shift_range(self, step: int) -> str:
        self.range_index = (self.range_index + step) % len(RANGES)
        return RANGES[self.range_index][0]

    def window(self, now: datetime, index: int | None = None) -> tuple[datetime, datetime]:
        """The time window of the range shown (or of range ``index``)."""
        # The window ends at the next whole minute, so within a minute the same range reads the
        # same points and the chart redraws from its cache instead of running plotext again.
        end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        span = RANGES[self.range_index if index is None else index % len(RANGES)][1]
        start = end - span if span is not None else datetime(2015, 3, 29, tzinfo=now.tzinfo)
        return start, end

    def prepare(self, series: PriceSeries, tz: tzinfo) -> bool | None:
        """Build the chart of ``series`` ahead of its showing (a neighbouring range, while the
        dashboard is idle): True when built, False when it was ready, None with no chart yet."""
        if self._chart is None:
            return None
        return bool(self._chart.prepare(series, tz))

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
        update_line(self.query_one("#price-line", Static), Text(line, no_wrap=True, overflow="ellipsis"))
        self._drawn = (series, tz)
        if self._chart is not None:
            self._chart.draw(series, tz)
        elif not self._chart_wanted:
            self._chart_wanted = True
            self.call_after_refresh(self._mount_chart)
        self.set_title(f"XEM/JPY {name}  [ ] range", key=4)
