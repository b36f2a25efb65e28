"""Pilot tests: every key of the dashboard's main screen does what its help says."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from nemwatch.core.events import AlertRaised
from nemwatch.tui.screens.address_detail import AddressDetailScreen
from nemwatch.tui.screens.alert_detail import AlertDetailScreen
from nemwatch.tui.screens.help import HelpScreen, keys_table
from nemwatch.tui.screens.prompt import PromptScreen
from nemwatch.tui.widgets.price import PricePane
from nemwatch.tui.widgets.watchlist import WatchlistPane
from tui_support import HOT, THIEF, alert, make_app, plain

from nemwatch.core.alert import Severity

SIZE = (120, 40)


def status_of(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.query_one("#status").render())


async def test_panes_are_filled_from_the_read_model(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.query_one("#watch-table", DataTable).row_count == 2
        assert app.query_one("#moves-table", DataTable).row_count == 3
        assert app.query_one("#alerts-table", DataTable).row_count == 3
        status = status_of(app)
        assert "nodes ● 2/3" not in status and "2/3" in status and "height 1,234,567" in status
        assert "✖1 ▲1 ●1 unread / 3" in status and "zaif" in status


async def test_q_quits(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and app.source.closed  # type: ignore[attr-defined]


async def test_question_mark_and_f1_open_help_listing_every_binding_id(tmp_path: Path) -> None:
    app = make_app(tmp_path, keymap={"pause": "space"})
    async with app.run_test(size=SIZE) as pilot:
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            text = plain(keys_table(app.screen.keymap))
            assert "acknowledge_all" in text and "range_next" in text and "space" in text
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)


async def test_slash_filters_the_watchlist_and_escape_clears(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.focused, Input)
        await pilot.press(*"thief")
        await pilot.pause()
        table = app.query_one("#watch-table", DataTable)
        assert table.row_count == 1
        assert str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value) == THIEF
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 2 and app.query_one(WatchlistPane).filter_text == ""


async def test_p_pauses_the_panes_but_alerts_keep_flowing(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert app.paused and "PAUSED" in status_of(app)
        app.read.store.upsert_transfer(__import__("tui_support").transfer(9))
        fresh = alert(9, Severity.CRITICAL, summary="OUTFLOW while paused")
        app.read.store.add_alerts([fresh], ["stdout"])
        app.post_message(__import__("nemwatch.tui.app", fromlist=["SourceEvent"]).SourceEvent(AlertRaised(fresh)))
        await pilot.pause(0.4)
        assert app.query_one("#alerts-table", DataTable).row_count == 4  # alerts flow
        assert app.query_one("#moves-table", DataTable).row_count == 3  # the panes are frozen
        assert app.critical_seen == [fresh.alert_id]
        await pilot.press("p")
        await pilot.pause()
        assert not app.paused and app.query_one("#moves-table", DataTable).row_count == 4


async def test_r_asks_the_source_to_poll_now(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.press("r")
        assert app.source.polls == 2  # type: ignore[attr-defined]


async def test_brackets_cycle_the_chart_range(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(PricePane)
        assert pane.span[0] == "24h"
        await pilot.press("right_square_bracket")
        assert pane.span[0] == "7d"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert pane.span[0] == "1h"
        await pilot.pause()
        assert "1h" in str(pane.border_title)
        line = str(app.query_one("#price-line").render())
        assert "94.500 JPY" in line and "▼" in line  # the last tick, and the fall shown by glyph and sign


async def test_number_keys_toggle_each_pane(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for n, pane in enumerate(("watchlist", "taint", "movements", "price", "alerts", "status"), start=1):
            widget = app.query_one(f"#{pane}")
            assert widget.display
            await pilot.press(str(n))
            assert not widget.display
            await pilot.press(str(n))
            assert widget.display


async def test_enter_opens_address_detail_and_alert_detail(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AddressDetailScreen)
        assert app.screen.address in (HOT, THIEF)
        assert app.screen.query_one(DataTable).row_count == 3
        await pilot.press("escape")
        await pilot.pause()
        app.query_one("#alerts-table", DataTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AlertDetailScreen)
        await pilot.press("x")  # acknowledge from the detail
        await pilot.pause()
        assert app.read.alert_counts().unread_total == 2


async def test_a_watches_an_address_validated_with_the_config_messages(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"NOTANADDRESS", "enter")
        await pilot.pause()
        error = str(app.screen.query_one("#prompt-error").render())
        assert "address must have 40 characters" in error  # the config's own message
        app.screen.query_one(Input).value = "TDWIS6YFBVWJM4XCUYILWAT3P22EMEEA4GOW53DW"
        await pilot.press("enter")
        await pilot.pause()
        assert "testnet address used on mainnet" in str(app.screen.query_one("#prompt-error").render())
        app.screen.query_one(Input).value = "ndwis6-yfbvwj-m4xcuy-ilwat3-p22eme-ea4etd-ontf exchange cold"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, PromptScreen)
        assert app.source.added == [("NDWIS6YFBVWJM4XCUYILWAT3P22EMEEA4ETDONTF", "exchange cold")]  # type: ignore[attr-defined]
        assert app.query_one("#watch-table", DataTable).row_count == 3


async def test_t_marks_the_selected_address_as_a_taint_source(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        selected = app.query_one(WatchlistPane).selected()
        await pilot.press("t")
        await pilot.pause()
        assert app.screen.query_one(Input).value == selected
        await pilot.press("enter")
        await pilot.pause()
        assert app.source.tainted == [selected]  # type: ignore[attr-defined]
        assert len(app.query_one("#taint-tree").root.children) == 2


async def test_e_exports_csv_files(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        names = sorted(p.name.split("-")[1] for p in app.last_export)
        assert names == ["alerts", "movements", "watchlist"]
        movements = next(p for p in app.last_export if "movements" in p.name).read_text()
        assert "\x1b" not in movements and "\u202e" not in movements and "first test" in movements


async def test_x_acknowledges_the_selected_alert_and_shift_x_all(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#alerts-table", DataTable).focus()
        await pilot.press("x")
        await pilot.pause()
        assert app.read.alert_counts().unread_total == 2
        assert "2 unread of 3" in str(app.query_one("#alerts").border_title)
        await pilot.press("X")
        await pilot.pause()
        assert app.read.alert_counts().unread_total == 0 and "✖0 ▲0 ●0" in status_of(app)


async def test_s_sorts_and_z_maximizes_the_focused_pane(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await pilot.pause()
        table = app.query_one("#watch-table", DataTable)
        first = table.coordinate_to_cell_key((0, 0)).row_key.value
        assert first == THIEF  # by balance: 523M before 3M
        await pilot.press("z")
        assert app.screen.maximized is app.query_one("#watchlist")
        await pilot.press("z")
        assert app.screen.maximized is None


async def test_keys_are_remapped_from_the_config_table(tmp_path: Path) -> None:
    app = make_app(tmp_path, keymap={"pause": "space", "quit": "ctrl+q"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        assert not app.paused
        await pilot.press("space")
        assert app.paused
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_narrow_layout_at_80x24_hides_taint_and_movements_until_toggled(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.narrow and app.screen.has_class("narrow")
        assert not app.query_one("#taint").display and not app.query_one("#movements").display
        await pilot.press("2")
        assert app.query_one("#taint").display
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not app.narrow and app.query_one("#movements").display
