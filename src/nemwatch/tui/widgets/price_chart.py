"""The XEM/JPY chart (textual-plotext), built on first use and cached per frame.

``textual_plotext`` and ``plotext`` are imported by ``chart_class()``, so the dashboard's first
frame does not wait for them (the price pane mounts its chart right after that frame). Plotting
the same data again costs nothing: ``draw`` keeps the plot when the data did not change, and
``render`` keeps the last few built frames keyed by data, size and theme, so cycling the range
back to one already seen (``[`` ``]``) or a refresh with no new price repaints from the cache
instead of running plotext again (about 100 ms a frame at 120x40).
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from datetime import tzinfo
from functools import cache
from typing import Any

from rich.text import Text

from nemwatch.core.query import PriceSeries

_FORM = "%d/%m/%Y %H:%M"
FRAMES_KEPT = 8


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
    from textual_plotext import PlotextPlot

    class PriceChart(PlotextPlot):  # type: ignore[misc]
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self._data: tuple[Any, ...] | None = None
            self._frames: OrderedDict[tuple[Any, ...], Text] = OrderedDict()

        def on_mount(self) -> None:
            super().on_mount()
            self.plt.date_form("d/m/Y H:M")

        def draw(self, series: PriceSeries, tz: tzinfo) -> None:
            data = plot_data(series, tz)
            if data == self._data:
                return  # the same chart: nothing to plot or repaint
            self._data = data
            plt = self.plt
            plt.clear_data()
            plt.clear_figure()
            plt.date_form("d/m/Y H:M")
            if not data:
                plt.title("no price data yet")
            else:
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
            self.refresh()

        def render(self) -> Any:
            key = (self._data, self.size.width, self.size.height, self.theme, self.app.theme)
            frame = self._frames.get(key)
            if frame is None:
                frame = super().render()
                self._frames[key] = frame
                while len(self._frames) > FRAMES_KEPT:
                    self._frames.popitem(last=False)
            else:
                self._frames.move_to_end(key)
            return frame

    return PriceChart
