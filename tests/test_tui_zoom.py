"""`z` zooms a pane even when nothing has the focus (its pane was hidden and shown again): the
pane that last had the focus, or else the first pane shown."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from tui_support import make_app

SIZE = (120, 40)


async def test_z_zooms_the_pane_that_last_had_the_focus_after_it_was_hidden_and_shown(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        moves = app.query_one("#moves-table", DataTable)
        moves.focus()
        await pilot.pause()
        await pilot.press("3")  # hide Movements: the focus goes with it
        await pilot.pause()
        await pilot.press("3")  # shown again, nothing focused
        await pilot.pause()
        assert app.focused is None and app.query_one("#movements").display
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is app.query_one("#movements")
        assert app.focused is moves  # keys go to the zoomed pane
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None


async def test_z_zooms_the_first_pane_shown_when_the_last_focused_one_is_hidden(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#moves-table", DataTable).focus()
        await pilot.pause()
        await pilot.press("3")  # Movements hidden, and stays hidden
        await pilot.pause()
        assert app.focused is None
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is app.query_one("#watchlist")
        assert app.focused is app.query_one("#watch-table", DataTable)
