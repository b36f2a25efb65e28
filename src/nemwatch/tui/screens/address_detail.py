"""Address detail: the account's facts, then its transfers page by page (messages and mosaics
as literal text; marker mosaics flagged)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Static

from nemwatch.core.query import Movement, ReadModel, WatchedAccount
from nemwatch.tui import format as fmt
from nemwatch.tui.widgets.footer import KeysFooter
from nemwatch.tui.widgets.movements import message_cell, party

MARKER_NAMESPACES = ("mizunashi", "ts")
PAGE = 100


def balance_note(account: WatchedAccount) -> str:
    """Where the balance shown comes from: a node's read, or that read and the transfers since."""
    if not account.balance_height:
        return ""
    if account.balance_read_micro is not None and account.balance_read_micro != account.balance_micro:
        return f" (read {fmt.full_xem(account.balance_read_micro)} at height {account.balance_height:,}, then the transfers since)"
    return f" at height {account.balance_height:,}"


def facts(read: ReadModel, address: str, now: datetime, tz: tzinfo) -> Table:
    label = read.label_of(address)
    account = next((a for a in read.watched(stream=False) if a.address == address), None)
    if account is not None:
        account = read.stream_balances([account])[0]
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row(Text("address"), Text(fmt.pretty(address)))
    table.add_row(Text("label"), fmt.safe(f"{label[0]} ({label[1]})" if label else "—"))
    watched = address in read.watch
    table.add_row(Text("watched"), Text(("yes" + (", urgent" if read.watch[address].urgent else "")) if watched else "no"))
    if account is not None:
        table.add_row(
            Text("balance"),
            Text(fmt.full_xem(account.balance_micro) + balance_note(account)),
        )
        table.add_row(Text("value"), Text(fmt.jpy(account.value_jpy)))
        move = account.last_move
        table.add_row(
            Text("last movement"),
            Text(f"{'sent' if move.outgoing else 'received'} {fmt.full_xem(move.micro_xem)}, "
                 f"{fmt.when(move.at, tz)} ({fmt.age(now - move.at)} ago)") if move else Text("—"),
        )
    sources = {a for a, _ in read.taint_sources}
    per = read.taint_of(address)
    held = ", ".join(f"{m} {fmt.full_xem(v)}" for m, v in per.items()) if per else "none"
    taint = f"taint source; holds {held}" if address in sources else held
    table.add_row(Text("taint"), Text(taint))
    table.add_row(Text("transfers stored"), Text(f"{read.transfer_count(address):,}"))
    return table


def mosaics_cell(move: Movement) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    for m in move.transfer.mosaics:
        marker = m.id.split(":")[0] in MARKER_NAMESPACES
        text.append_text(fmt.safe(f"{'⚑ ' if marker else ''}{m.id} ×{m.quantity} ", "bold magenta" if marker else ""))
    return text


class AddressDetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("n,pagedown", "more", "More"),
    ]

    def __init__(self, read: ReadModel, address: str, now: datetime, tz: tzinfo) -> None:
        super().__init__()
        self.read = read
        self.address = address
        self.now = now
        self.tz = tz
        self.next_page: object | None = None
        self.loaded = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-box") as box:
            box.border_title = "Address · n more · esc back"
            yield Static(facts(self.read, self.address, self.now, self.tz), id="detail-facts")
            yield DataTable(id="detail-table", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Time", "Height", "Amount XEM", "Counterparty", "Mosaics", "Message")
        self.load_more()
        table.focus()

    def load_more(self) -> int:
        if self.loaded and self.next_page is None:
            return 0
        page = self.read.transfers(self.address, after=self.next_page, limit=PAGE)
        table = self.query_one(DataTable)
        for move in page.items:
            t = move.transfer
            out = t.sender == self.address
            other = (t.recipient, move.recipient_label) if out else (t.sender, move.sender_label)
            table.add_row(
                Text(fmt.when(t.tx_time, self.tz)),
                Text(f"{t.height:,}" if t.height is not None else "unconf."),
                fmt.direction(out, t.xem),
                party(*other),
                mosaics_cell(move),
                message_cell(move),
                key=t.identity,
            )
        self.loaded += len(page.items)
        self.next_page = page.next
        return len(page.items)

    def action_more(self) -> None:
        self.load_more()

    def action_close(self) -> None:
        self.dismiss(None)
