"""A watchlist of thousands: the table holds a window of rows around the cursor, the cursor keys
slide it, sorting and filtering keep the selected account, last movements are read per window."""

from __future__ import annotations

from pathlib import Path

from hostile_app import fake_address
from textual.widgets import DataTable

from nemwatch.core.rules import WatchRule
from tui_support import make_app

COUNT = 300


async def test_window_slides_with_the_cursor_and_reads_moves_per_window(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    for n in range(COUNT):
        app.read.watch.add(fake_address(n), WatchRule(label=f"acct {n:04d}"))
    asked: list[int] = []
    original = app.read.last_moves
    app.read.last_moves = lambda addresses: (asked.append(len(addresses)), original(addresses))[1]  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        app.refresh_all()
        await pilot.pause()
        pane = app.query_one("#watchlist")
        table = app.query_one("#watch-table", DataTable)
        total = COUNT + 2
        assert table.row_count == pane.WINDOW < total
        assert asked and max(asked) <= pane.WINDOW  # never every account's last move for a redraw
        assert f"1-{pane.WINDOW} of {total}" in str(pane.border_title)
        table.focus()
        await pilot.press("end")
        await pilot.pause()
        assert pane.selected() == pane.rows[-1].address and f"of {total}" in str(pane.border_title)
        await pilot.press("home")
        await pilot.pause()
        assert pane.selected() == pane.rows[0].address and pane.window_at == 0
        table.move_cursor(row=table.row_count - 1)
        await pilot.pause()
        last_in_window = pane.selected()
        await pilot.press("down")  # past the window's last row: it slides, the cursor goes on
        await pilot.pause()
        index = [a.address for a in pane.rows].index(pane.selected())
        assert pane.window_at > 0 and index == [a.address for a in pane.rows].index(last_in_window) + 1
        chosen = pane.selected()
        await pilot.press("s")  # by balance: re-sorted in memory, the same account stays selected
        await pilot.pause()
        assert pane.selected() == chosen and "by balance" in str(pane.border_title)
        await pilot.press("slash")
        await pilot.press(*"acct 0123")
        await pilot.pause()
        assert [a.label for a in pane.rows] == ["acct 0123"] and table.row_count == 1
