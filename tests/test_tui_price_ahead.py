"""The price chart keeps its frames as strips and draws the neighbouring ranges ahead of time,
while no key comes (tui/widgets/price_chart.py, NemwatchApp.prepare_ahead)."""

from __future__ import annotations

import time
from pathlib import Path

from textual.visual import Visual, visualize

from nemwatch.tui.widgets.price import RANGES, PricePane
from tui_support import make_app

SIZE = (120, 40)


def lines(strips: list) -> list[str]:  # type: ignore[type-arg]
    return ["".join(f"{seg.text}|{seg.style}" for seg in strip) for strip in strips]


async def settled_chart(app, pilot):  # type: ignore[no-untyped-def]
    pane = app.query_one(PricePane)
    for _ in range(60):  # the chart mounts after the first frame, the ranges are drawn 0.3 s later
        await pilot.pause(0.1)
        chart = pane._chart
        if chart is not None and not app._prepare_pending:
            return pane, chart
    raise AssertionError("the chart's neighbouring ranges were never drawn")


def ready(app, chart, index: int) -> bool:  # type: ignore[no-untyped-def]
    return chart._frame_key(chart.data_of(app.price_series(index), app.tz)) in chart._frames


async def test_neighbouring_ranges_are_drawn_while_idle_and_shown_without_plotext(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane, chart = await settled_chart(app, pilot)
        shown = pane.range_index
        assert ready(app, chart, shown) and ready(app, chart, shown + 1) and ready(app, chart, shown - 1)
        assert pane.shown_series is app.price_series()  # the range shown was read at the pane's size
        builds = []
        render = chart.render
        chart.render = lambda: builds.append(1) or render()  # plotext builds a frame here
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert pane.span[0] == RANGES[shown + 1][0]
        assert builds == []  # drawn ahead: the key repaints from the kept strips
        kept = lines(chart._render_cache.lines)
        # the kept frame is the one plotext draws for that range now
        chart._loaded = None
        chart._load(chart._data)  # the figure held the last range drawn ahead
        fresh = Visual.to_strips(chart, visualize(chart, render(), markup=False), *chart.size, chart.visual_style)
        assert kept == lines(fresh)
        assert any("XEM/JPY" in line for line in kept)


async def test_nothing_is_drawn_ahead_while_keys_come(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane, chart = await settled_chart(app, pilot)
        chart._frames.clear()  # as if nothing had been drawn yet
        app.gc_idle.touch()  # a key just now
        app.prepare_ahead()
        assert not chart._frames and app._prepare_pending  # put off, not dropped
        app.gc_idle.last_input = time.monotonic() - 1  # quiet for a second
        app.prepare_ahead()
        assert len(chart._frames) == 1  # one range a call: a key waits for one frame at most
        for _ in range(30):
            await pilot.pause(0.1)
            if not app._prepare_pending:
                break
        assert ready(app, chart, pane.range_index + 1) and ready(app, chart, pane.range_index - 1)


async def test_a_pane_too_short_for_a_chart_says_so_instead_of_drawing_broken_axes(tmp_path: Path) -> None:
    from nemwatch.tui.widgets.price_chart import TOO_SMALL

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        pane, chart = await settled_chart(app, pilot)
        for key in ("2", "3"):  # at 80x24 the taint and movements panes start hidden: show both
            await pilot.press(key)
        await pilot.pause(0.3)
        assert chart.size.height < 6
        shown = [line for line in lines(chart._render_cache.lines) if line.strip("|")]
        assert any("too small for the chart" in line for line in shown), shown
        for key in ("2", "3"):  # hidden again: the chart has its rows back and is drawn
            await pilot.press(key)
        await pilot.pause(0.3)
        assert chart.size.height >= 6
        drawn = lines(chart._render_cache.lines)
        assert not any(TOO_SMALL[:20] in line for line in drawn) and any("XEM/JPY" in line for line in drawn)
