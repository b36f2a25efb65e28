"""Watchlist pane: every watched account, sortable by column, filtered with ``/``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Input

from nemwatch.core.query import WatchedAccount
from nemwatch.core.text import sanitize
from nemwatch.tui import format as fmt
from nemwatch.tui.widgets.pane import Pane

COLUMNS = ("", "Address", "Label", "Balance XEM", "JPY", "Taint", "Last move", "Age")
SORTS: tuple[tuple[str, Callable[[WatchedAccount], object]], ...] = (
    ("label", lambda a: (a.label or "~").lower()),
    ("balance", lambda a: -(a.balance_micro or 0)),
    ("value", lambda a: -(a.value_jpy or 0)),
    ("last move", lambda a: -(a.last_move.at.timestamp() if a.last_move else 0)),
    ("address", lambda a: a.address),
)
RECENT_SECONDS = 24 * 3600
SHORT_BELOW = 130  # pane columns under which addresses show in short form


def glyph(account: WatchedAccount, now: datetime, alerted: set[str]) -> Text:
    """✖ unread critical alert, ▼ sent in the last 24 h, ▲ received, · quiet (never colour alone)."""
    if account.address in alerted:
        return Text("✖", style="bold red")
    move = account.last_move
    if move is not None and (now - move.at).total_seconds() < RECENT_SECONDS:
        return Text("▼", style="red") if move.outgoing else Text("▲", style="green")
    return Text("·", style="dim")


class FilterChanged(Message):
    """The watchlist's filter changed: the screen redraws it."""


class WatchlistPane(Pane):
    TITLE = "Watchlist"

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.accounts: list[WatchedAccount] = []
        self.filter_text = ""
        self.sort_index = 0
        self.narrow = False

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(id="watch-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Input(placeholder="filter: address or label (esc clears)", id="watch-filter", classes="hidden")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#watch-table", DataTable)

    def show(self, accounts: list[WatchedAccount], now: datetime, tz: tzinfo, alerted: set[str]) -> None:
        self.accounts = accounts
        table = self.table
        keep = table.cursor_row
        table.clear()
        key = SORTS[self.sort_index][1]
        needle = self.filter_text.lower()
        shown = 0
        for account in sorted(accounts, key=key):
            label = sanitize(account.label or "")
            if needle and needle not in account.address.lower() and needle not in label.lower() \
                    and needle not in fmt.pretty(account.address).lower():
                continue
            move = account.last_move
            table.add_row(
                glyph(account, now, alerted),
                fmt.address_text(account.address, short=self.narrow or self.size.width < SHORT_BELOW),
                fmt.safe(label[:24]),
                Text(fmt.short_xem(account.balance_micro), justify="right"),
                Text(fmt.compact(account.value_jpy, "¥") if account.value_jpy is not None else "—", justify="right"),
                Text(fmt.short_xem(account.taint_micro), justify="right"),
                fmt.direction(move.outgoing, move.micro_xem) if move else Text("—"),
                Text(fmt.age(now - move.at) if move else "—"),
                key=account.address,
            )
            shown += 1
        if shown:
            table.move_cursor(row=min(keep, shown - 1), animate=False)
        sort_name = SORTS[self.sort_index][0]
        extra = f"{shown}/{len(accounts)} · by {sort_name}" + (f" · filter {self.filter_text!r}" if needle else "")
        self.set_title(extra, key=1)

    def selected(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value) if row_key.value is not None else None

    def cycle_sort(self) -> str:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        return SORTS[self.sort_index][0]

    def open_filter(self) -> None:
        box = self.query_one("#watch-filter", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Changed, "#watch-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = sanitize(event.value, max_len=80)
        self.post_message(FilterChanged())

    @on(Input.Submitted, "#watch-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.table.focus()

    def clear_filter(self) -> None:
        box = self.query_one("#watch-filter", Input)
        box.value = ""
        box.add_class("hidden")
        self.filter_text = ""
        self.table.focus()
        self.post_message(FilterChanged())
