"""The XEM/JPY chart (textual-plotext), built on first use and kept per frame.

``textual_plotext`` and ``plotext`` are imported by ``chart_class()``, so the dashboard's first
frame does not wait for them (the price pane mounts its chart right after that frame). A frame
costs 20-60 ms at 120x40: plotext builds it (ANSI text), Rich parses that, Textual cuts it into
strips. The chart keeps the last few frames as strips, keyed by data, size, theme and style, so
cycling the range back to one already seen (``[`` ``]``) or a refresh with no new price repaints
from the cache, and ``prepare`` builds a frame for data not shown yet (the neighbouring ranges,
drawn while the dashboard is idle) so that the key that shows it finds it ready.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from datetime import tzinfo
from functools import cache
from typing import Any

from nemwatch.core.query import PriceSeries

_FORM = "%d/%m/%Y %H:%M"
MIN_ROWS, MIN_COLUMNS = 6, 30  # below this a chart is no longer readable
TOO_SMALL = "too small for the chart: z zooms this pane, number keys hide others"
FRAMES_KEPT = 12  # the five ranges at two sizes (the pane maximized), and a refresh


def plot_data(series: PriceSeries, tz: tzinfo) -> tuple[Any, ...]:
    """What the chart draws for ``series``, in plotext's terms (floats only here, to draw):
    points, VWAP line, alert marks, price alert levels. Equal data, equal chart."""
    if not series.points:
        return ()
    xs = tuple(p.at.astimezone(tz).strftime(_FORM) for p in series.points)
    ys = tuple(float(p.price) for p in series.points)
    vwap = float(series.vwap) if series.vwap is not None else None
    marks_x: list[str] = []
    marks_y: list[float] = []
    if series.alert_times:
        times = [p.at for p in series.points]
        for at in series.alert_times:
            i = min(bisect.bisect_left(times, at), len(times) - 1)
            marks_x.append(at.astimezone(tz).strftime(_FORM))
            marks_y.append(ys[i])
    levels = tuple(float(t) for t in series.thresholds)
    return xs, ys, vwap, tuple(marks_x), tuple(marks_y), levels


@cache
def chart_class() -> type[Any]:
    """The chart widget class (imports textual-plotext on first call)."""
    from rich.text import Text
    from textual.visual import Visual, visualize
    from textual.widget import _RenderCache
    from textual_plotext import PlotextPlot

    class PriceChart(PlotextPlot):  # type: ignore[misc]
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self._data: tuple[Any, ...] | None = None  # what the chart shows
            self._loaded: tuple[Any, ...] | None = None  # what the plotext figure holds now
            self._frames: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()
            self._points: OrderedDict[int, tuple[PriceSeries, tzinfo, tuple[Any, ...]]] = OrderedDict()

        def on_mount(self) -> None:
            super().on_mount()
            self.plt.date_form("d/m/Y H:M")

        def data_of(self, series: PriceSeries, tz: tzinfo) -> tuple[Any, ...]:
            """``plot_data`` of a series, kept while the series object is (a range shown again)."""
            hit = self._points.get(id(series))
            if hit is not None and hit[0] is series and hit[1] == tz:
                self._points.move_to_end(id(series))
                return hit[2]
            data = plot_data(series, tz)
            self._points[id(series)] = (series, tz, data)
            while len(self._points) > FRAMES_KEPT:
                self._points.popitem(last=False)
            return data

        def draw(self, series: PriceSeries, tz: tzinfo) -> None:
            data = self.data_of(series, tz)
            if data == self._data:
                return  # the same chart: nothing to plot or repaint
            self._data = data
            self.refresh()

        def prepare(self, series: PriceSeries, tz: tzinfo) -> bool:
            """Build the frame of ``series`` ahead of its showing; False when it was ready."""
            if not self.is_attached or not self.size.area:
                return False
            data = self.data_of(series, tz)
            if self._frame_key(data) in self._frames:
                return False
            self._strips(data)
            return True

        def _load(self, data: tuple[Any, ...] | None) -> None:
            """Put ``data`` in the plotext figure (a frame drawn ahead may have replaced it)."""
            if self._loaded is not None and self._loaded == data:
                return
            self._loaded = data
            plt = self.plt
            plt.clear_data()
            plt.clear_figure()
            plt.date_form("d/m/Y H:M")
            if not data:
                plt.title("no price data yet")
                return
            xs, ys, vwap, marks_x, marks_y, levels = data
            plt.plot(list(xs), list(ys), marker="braille", color="cyan", label="XEM/JPY")
            if vwap is not None:
                plt.hline(vwap, "orange")
            low, high = min(ys), max(ys)
            span = max(high - low, 1.0)
            for level in levels:  # an alert level far off the visible range would flatten the line
                if low - span <= level <= high + span:
                    plt.hline(level, "red")
            if marks_x:
                plt.scatter(list(marks_x), list(marks_y), marker="x", color="red", label="alert")
            plt.ylabel("JPY")

        def _frame_key(self, data: tuple[Any, ...] | None) -> tuple[Any, ...]:
            return (data, self.size.width, self.size.height, self.theme, self.app.theme, self.visual_style)

        def _strips(self, data: tuple[Any, ...] | None) -> list[Any]:
            key = self._frame_key(data)
            strips = self._frames.get(key)
            if strips is not None:
                self._frames.move_to_end(key)
                return strips
            width, height = self.size
            if height < MIN_ROWS or width < MIN_COLUMNS:  # plotext would draw a broken line of axes
                note = Text(TOO_SMALL, style="dim italic", justify="center")
                visual = visualize(self, note, markup=False)
            else:
                self._load(data)
                visual = visualize(self, self.render(), markup=False)
            strips = Visual.to_strips(self, visual, width, height, self.visual_style)
            if self.text_selection is None:  # a selection is drawn into the strips: not kept
                self._frames[key] = strips
                while len(self._frames) > FRAMES_KEPT:
                    self._frames.popitem(last=False)
            return strips

        def _render_content(self) -> None:
            """Textual's widget renders its content into strips here: take them from the kept
            frames (or build and keep them)."""
            self._render_cache = _RenderCache(self.size, self._strips(self._data))
            self._dirty_regions.clear()

    return PriceChart
