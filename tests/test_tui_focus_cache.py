"""FocusCachedTable: moving the focus keeps its rendered cells, and it draws exactly what a
plain DataTable draws in each focus state (cursor styles included)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from nemwatch.tui.widgets.table import FocusCachedTable


class Pair(App[None]):
    def compose(self) -> ComposeResult:
        yield FocusCachedTable(id="cached", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="plain", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.add_columns("address", "XEM")
            for i in range(12):
                table.add_row(f"N{i:039d}", f"{i * 1000:,}", key=str(i))
            table.move_cursor(row=3)


def _lines(table: DataTable) -> list[str]:  # type: ignore[type-arg]
    return [repr(list(table.render_line(y))) for y in range(table.size.height)]


async def test_focus_moves_keep_the_cells_and_draw_like_a_plain_table() -> None:
    app = Pair()
    async with app.run_test(size=(60, 30)) as pilot:
        cached, plain = app.query_one("#cached", DataTable), app.query_one("#plain", DataTable)
        cached.focus()
        await pilot.pause()
        focused_lines = _lines(cached)
        plain.focus()
        await pilot.pause()
        cache = cached._cell_render_cache
        focused_cells = {key: cache[key] for key in list(cache.keys()) if key[-1].focus}
        assert focused_cells
        blurred_lines = _lines(cached)
        assert blurred_lines != focused_lines  # the cursor row is drawn apart when not focused
        cached.focus()
        await pilot.pause()
        assert _lines(cached) == focused_lines
        # the cells rendered while focused were kept across both focus moves, not drawn again
        assert all(key in cache and cache[key] is cell for key, cell in focused_cells.items())
        # the same cells and states on the plain table (which re-renders everything) look the same
        plain.focus()
        await pilot.pause()
        plain_focused = _lines(plain)
        cached.focus()
        await pilot.pause()
        assert _lines(plain) == blurred_lines
        assert plain_focused == focused_lines


async def test_a_theme_change_empties_the_caches() -> None:
    app = Pair()
    async with app.run_test(size=(60, 30)) as pilot:
        cached = app.query_one("#cached", DataTable)
        cached.focus()
        await pilot.pause()
        before = _lines(cached)
        assert len(cached._cell_render_cache) > 0
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        after = _lines(cached)
        assert after != before
        plain = app.query_one("#plain", DataTable)
        plain.focus()
        await pilot.pause()
        cached.focus()
        await pilot.pause()
        assert _lines(cached) == after
