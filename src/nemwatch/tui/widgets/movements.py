"""Movements pane: the latest transfers touching watched or tainted accounts, messages as text."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from nemwatch.core.query import Movement
from nemwatch.core.store import TransferStatus
from nemwatch.tui import format as fmt
from nemwatch.tui.widgets.pane import Pane
from nemwatch.tui.widgets.table import FocusCachedTable

COLUMNS = ("Time", "Amount XEM", "From", "To", "Message")


def party(address: str, label: str | None) -> Text:
    return fmt.safe(label, "italic") if label else fmt.address_text(address, short=True)


def message_cell(move: Movement) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if move.flags:
        text.append("⚠ ", style="bold yellow")
    text.append_text(fmt.safe(move.transfer.message, max_len=200))
    return text


class MovementsPane(Pane):
    TITLE = "Movements"

    _shown: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield FocusCachedTable(id="moves-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#moves-table", DataTable)

    def show(self, moves: tuple[Movement, ...], watched: set[str], tz: tzinfo, total: int) -> None:
        table = self.table
        keep = table.cursor_row
        self.set_title(f"latest {len(moves)} of {total}", key=3)
        if moves == self._shown and table.row_count == len(moves):  # nothing new: no rebuild, no repaint
            return
        self._shown = moves
        table.clear()
        for move in moves:
            t = move.transfer
            outgoing = t.sender in watched
            when = Text(fmt.when(t.tx_time, tz))
            if t.status is TransferStatus.UNCONFIRMED:
                when = Text("unconf.", style="italic yellow")
            table.add_row(
                when,
                fmt.direction(outgoing, t.xem),
                party(t.sender, move.sender_label),
                party(t.recipient, move.recipient_label),
                message_cell(move),
                key=t.identity,
            )
        if moves:
            table.move_cursor(row=min(keep, len(moves) - 1), animate=False)

    def selected(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value)
