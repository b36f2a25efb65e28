"""The watchlist's columns fit its pane at 80x24, 100x30 and 120x40: balance, value and taint
are never cut (at 100 columns, beside the taint pane, the JPY value was cut to "¥33"); the label
is cut with an ellipsis, the age and then the last movement are left out when there is no room."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable

from nemwatch.tui.widgets.watch_columns import COLUMNS, fit, fitted
from tui_support import make_app

ROW = (Text("✖"), Text("NC3BI3-DNMR2P…"), Text("Coincheck hot wallet"), Text("3.00M"), Text("¥283.5M"),
       Text("523.0M"), Text("▼ −3,000,000"), Text("15m"))


def test_fit_keeps_everything_when_there_is_room_and_drops_age_then_last_move() -> None:
    assert fit(200, [ROW]) == (tuple(range(8)), 20)
    assert fit(86, [ROW]) == (tuple(range(8)), 16)  # the label cut a little, every column kept
    assert fit(83, [ROW]) == ((0, 1, 2, 3, 4, 5, 6), 18)  # the age goes before the label is cut under 14
    assert fit(71, [ROW]) == ((0, 1, 2, 3, 4, 5), 20)  # then the last movement
    shown, label = fit(56, [ROW])
    assert shown == (0, 1, 2, 3, 4, 5) and label == 8  # cut, never dropped; value and taint whole
    row = fitted(ROW, shown, label)
    assert row[2].plain == "Coinche…" and [c.plain for c in row[3:]] == ["3.00M", "¥283.5M", "523.0M"]
    assert [COLUMNS[i] for i in fit(80, [ROW])[0]] == ["", "Address", "Label", "Balance XEM", "JPY", "Taint", "Last move"]


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)], ids=["80x24", "100x30", "120x40"])
async def test_value_and_taint_are_never_cut(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        table = app.query_one("#watch-table", DataTable)
        used = sum(column.get_render_width(table) for column in table.ordered_columns)
        assert used <= table.size.width  # nothing to scroll sideways to
        titles = [str(column.label) for column in table.ordered_columns]
        assert titles[:6] == ["", "Address", "Label", "Balance XEM", "JPY", "Taint"]
        lines = ["".join(s.text for s in table.render_line(y)) for y in range(table.size.height)]
        for address in table.rows:
            row = table.get_row(address)
            assert any(row[4].plain in line and row[3].plain in line and row[5].plain in line for line in lines)
        if size == (100, 30):
            assert app.query_one("#taint").display  # the taint pane is beside it
