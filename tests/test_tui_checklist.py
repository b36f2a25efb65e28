"""Gaps found going through the issue's list by hand (tmux, 80x24 and larger)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from textual.widgets import DataTable

from nemwatch.tui.screens.help import keys_table
from tui_support import HOT, NOW, make_app, plain


def test_help_names_the_config_table_literally() -> None:
    assert "id ([keys] in the config)" in plain(keys_table({}))  # a str header was read as markup


async def test_a_quiet_redraw_widens_a_column_whose_cell_grew(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        pane = app.query_one("#watchlist")
        table = app.query_one("#watch-table", DataTable)
        accounts = [replace(a, value_jpy=None) for a in app.read.watched()]
        pane.show(accounts, NOW, app.tz, set())
        await pilot.pause()
        jpy = table.ordered_columns[4]
        narrow = jpy.get_render_width(table)
        grown = [replace(a, value_jpy=Decimal("54210000000")) if a.address == HOT else a for a in accounts]
        pane.show(grown, NOW, app.tz, set())  # same rows, same order: cells updated in place
        await pilot.pause()
        cell = table.get_cell(HOT, jpy.key)
        assert cell.plain == "¥54.21B"
        assert jpy.get_render_width(table) >= len(cell.plain) + 2 > narrow
