"""Pilot tests: the detail screens, the command palette, hostile text in every widget, CLI guards."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from textual.widgets import DataTable, Input

from nemwatch.cli import main
from nemwatch.core.alert import Severity
from nemwatch.core.events import AlertRaised
from nemwatch.tui.app import SourceEvent
from nemwatch.tui.screens.address_detail import PAGE, AddressDetailScreen
from nemwatch.tui.screens.address_detail import facts as facts_table
from nemwatch.tui.screens.alert_detail import AlertDetailScreen, alert_table
from nemwatch.tui.widgets.price import PricePane
from tui_support import HOSTILE, HOT, NOW, THIEF, alert, make_app, plain, transfer

SIZE = (120, 40)
ESCAPES = ("\x1b", "\x9b", "\u202e", "\x07")


async def test_address_detail_pages_through_history(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    for n in range(10, 10 + PAGE + 20):
        app.read.store.upsert_transfer(transfer(n, minutes=1))
    async with app.run_test(size=SIZE) as pilot:
        app.open_address(HOT)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AddressDetailScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == PAGE
        await pilot.press("n")
        assert table.row_count == PAGE + 23
        await pilot.press("n")
        assert table.row_count == PAGE + 23  # the end: nothing repeats
        facts = plain(facts_table(app.read, HOT, NOW, app.tz))
        assert "NC3BI3-DNMR2P" in facts and "Coincheck hot wallet" in facts and "3,000,000.000000 XEM" in facts
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AddressDetailScreen)


async def test_alert_detail_shows_fields_and_enter_opens_its_address(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        entry = app.read.alerts(limit=1).items[0]
        app.open_alert(entry.alert.alert_id)
        await pilot.pause()
        assert isinstance(app.screen, AlertDetailScreen)
        text = plain(alert_table(entry, app.tz))
        assert "CRIT" in text and "NC4C6P-SUW5CL" in text and entry.alert.alert_id in text
        assert not any(ch in text for ch in ESCAPES)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AddressDetailScreen) and app.screen.address == HOT


async def test_command_palette_sets_the_chart_range_and_toggles_panes(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Chart range: 30d")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(PricePane).span[0] == "30d"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Toggle pane: Taint")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert not app.query_one("#taint").display


async def test_palette_jump_to_address_opens_its_detail(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.action_jump()
        await pilot.pause()
        app.screen.query_one(Input).value = THIEF.lower()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AddressDetailScreen) and app.screen.address == THIEF


async def test_label_prompt_needs_an_address_and_a_name(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        await pilot.pause()
        box = app.screen.query_one(Input)
        assert box.value.strip() in (HOT, THIEF)
        box.value = HOT
        await pilot.press("enter")
        await pilot.pause()
        assert "type the address, then the label" in str(app.screen.query_one("#prompt-error").render())
        box.value = f"{HOT} exchange [b]hot[/b]"
        await pilot.press("enter")
        await pilot.pause()
        assert app.source.labelled == [(HOT, "exchange [b]hot[/b]")]  # type: ignore[attr-defined]


async def test_hostile_text_in_every_widget_neither_crashes_nor_fires_actions(tmp_path: Path) -> None:
    hostile = alert(7, Severity.CRITICAL, summary=HOSTILE)
    app = make_app(tmp_path, events=[AlertRaised(hostile)])
    app.read.store.add_alerts([hostile], ["stdout"])
    app.read.watch.labels[THIEF] = (HOSTILE, "thief")
    app.read.taint_sources[:] = [(THIEF, HOSTILE)]
    fired: list[str] = []
    app.action_quit = lambda: fired.append("quit")  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.4)
        assert app.critical_seen == [hostile.alert_id]  # toasted, as literal text
        app.read.watch.labels[HOT] = (HOSTILE, "victim")
        app.refresh_all()
        await pilot.pause()
        for table_id in ("#watch-table", "#moves-table", "#alerts-table"):
            table = app.query_one(table_id, DataTable)
            for row in range(table.row_count):
                for column in range(len(table.columns)):
                    cell = table.get_cell_at((row, column))
                    assert not any(ch in str(cell) for ch in ESCAPES)
            x = 0
            for column in table.ordered_columns:  # one click on every cell
                for row in range(table.row_count):
                    await pilot.click(table_id, offset=(x + 1, row + 1))
                    while len(app.screen_stack) > 1:  # a click may open a detail: that is ours
                        app.pop_screen()
                x += column.get_render_width(table)
        await pilot.click("#taint-tree", offset=(10, 0))
        await pilot.pause()
        assert app.is_running and fired == []
        svg = app.export_screenshot()
        assert not any(ch in svg for ch in ESCAPES)


async def test_source_events_are_coalesced_into_one_redraw(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    calls: list[set[str]] = []
    async with app.run_test(size=SIZE) as pilot:
        original = app.refresh_all
        app.refresh_all = lambda what=None: (calls.append(set(what or ())), original(what))[1]  # type: ignore[method-assign]
        for n in range(20):
            app.post_message(SourceEvent(AlertRaised(alert(100 + n, Severity.WARNING))))
        await pilot.pause(0.5)
    assert len(calls) == 1 and calls[0] == {"alerts", "chain"}


def test_tui_without_a_terminal_refuses_and_points_to_watch(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["tui", "--state", str(tmp_path)])
    assert result.exit_code == 2 and "nemwatch watch" in result.output


def test_no_command_without_a_terminal_prints_help() -> None:
    result = CliRunner().invoke(main, [], prog_name="nemwatch")
    assert result.exit_code == 0 and "Usage: nemwatch" in result.output and "dashboard" in result.output


def test_dashboard_alias_and_serve_are_commands() -> None:
    for name in ("dashboard", "serve"):
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, result.output
    assert "localhost" in CliRunner().invoke(main, ["serve", "--help"]).output
    bad = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"])
    assert bad.exit_code == 2
