"""The watchlist's columns fit its pane at 80x24, 100x30 and 120x40: balance, value and taint
are never cut (at 100 columns, beside the taint pane, the JPY value was cut to "¥33"); the last
movement and its age show at 120x40 and 80x24 (one compact column when the full ones do not
fit); the label is cut with an ellipsis; the last movement is left out only in the narrowest
panes (100x30, beside the taint pane)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable

from nemwatch.core.store.reads import LastMove
from nemwatch.tui.widgets.watch_columns import BARE, COMPACT, FULL, compact_move, fit, fitted, short_amount, titles
from tui_support import HOT, NOW, make_app

ROW = (Text("✖"), Text("NC3BI3-DNMR2P…"), Text("Coincheck hot wallet"), Text("3.00M"), Text("¥283.5M"),
       Text("523.0M"), Text("▼ −3,000,000"), Text("15m"), Text("▼ 3.00M 15m"))


def test_fit_prefers_full_then_compact_last_move_then_none() -> None:
    assert fit(200, [ROW]) == (FULL, 20)
    assert fit(86, [ROW]) == (FULL, 16)  # the label cut a little, every column kept
    assert fit(83, [ROW]) == (COMPACT, 20)  # rather than a label under 14: the compact last move
    assert fit(68, [ROW]) == (COMPACT, 12)  # 120x40 with a scrollbar: the label cut, the last move kept
    assert fit(64, [ROW]) == (COMPACT, 8)
    assert fit(63, [ROW]) == (BARE, 20)  # too narrow for the last move and a label of 8: left out, never cut
    shown, label = fit(56, [ROW])
    assert shown == BARE and label == 13
    row = fitted(ROW, shown, label)
    assert row[1].plain == "NC3BI3-DNMR…" and row[2].plain == "Coincheck ho…"
    assert [c.plain for c in row[3:]] == ["3.00M", "¥283.5M", "523.0M"]
    assert fit(40, [ROW])[1] == 8  # cut, never dropped
    assert titles(FULL) == ("", "Address", "Label", "Balance XEM", "JPY", "Taint", "Last move", "Age")
    assert titles(COMPACT) == ("", "Address", "Label", "XEM", "JPY", "Taint", "Last move")
    assert fitted(ROW, FULL, 20)[1].plain == "NC3BI3-DNMR2P…"  # the full layout keeps the short form whole


def test_compact_last_move_says_direction_amount_and_age() -> None:
    sent = LastMove(HOT, NOW - timedelta(minutes=5), 3_000_000_000_000, True)
    got = LastMove(HOT, NOW - timedelta(hours=2), 250_500_000, False)
    assert compact_move(sent, NOW).plain == "▼ 3.00M 5m" and "red" in str(compact_move(sent, NOW).style)
    assert compact_move(got, NOW).plain == "▲ 250.5 2h" and "green" in str(compact_move(got, NOW).style)
    assert compact_move(None, NOW).plain == "—"
    assert [short_amount(m) for m in (0, 5_000, 50_000, 1_500_000, 20_500_000_000, 999_949_000_000, 49_420_000_000_000_000)] \
        == ["0", "<0.01", "0.05", "1.5", "20.5k", "999.9k", "49.42B"]


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)], ids=["80x24", "100x30", "120x40"])
async def test_value_and_taint_are_never_cut(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        table = app.query_one("#watch-table", DataTable)
        used = sum(column.get_render_width(table) for column in table.ordered_columns)
        assert used <= table.size.width  # nothing to scroll sideways to
        heads = [str(column.label) for column in table.ordered_columns]
        assert heads[:3] == ["", "Address", "Label"] and heads[3] in ("Balance XEM", "XEM") and heads[4:6] == ["JPY", "Taint"]
        if size != (100, 30):  # the last movement and its age show (full, or in one compact column)
            assert "Last move" in heads
        lines = ["".join(s.text for s in table.render_line(y)) for y in range(table.size.height)]
        for address in table.rows:
            row = table.get_row(address)
            assert any(row[4].plain in line and row[3].plain in line and row[5].plain in line for line in lines)
            if size != (100, 30):
                assert any(row[-1].plain in line for line in lines)  # the last column is drawn whole
        if size == (100, 30):
            assert app.query_one("#taint").display  # the taint pane is beside it


async def test_columns_narrow_again_to_what_the_window_shows(tmp_path: Path) -> None:
    """DataTable only widens its columns: a long label in an earlier window kept the label
    column wide and pushed the last column past the pane's edge."""
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.query_one("#watch-table", DataTable)
        label = table.ordered_columns[2]
        label.content_width = 30  # as an earlier window with a 30-cell label left it
        app.show_watchlist()
        await pilot.pause()
        cells = [table.get_row(key)[2].cell_len for key in table.rows]
        assert label.content_width == max([len("Label"), *cells]) < 30
        assert sum(column.get_render_width(table) for column in table.ordered_columns) <= table.size.width
