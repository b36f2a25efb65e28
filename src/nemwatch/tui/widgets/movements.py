"""Movements pane: the latest transfers touching watched or tainted accounts, messages as text."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text

from nemwatch.core.query import Movement
from nemwatch.core.store import TransferStatus
from nemwatch.tui import format as fmt
from nemwatch.tui.widgets.table_pane import TablePane

COLUMNS = ("Time", "Amount XEM", "From", "To", "Message")


def party(address: str, label: str | None) -> Text:
    return fmt.safe(label, "italic") if label else fmt.address_text(address, short=True)


def message_cell(move: Movement) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if move.flags:
        text.append("⚠ ", style="bold yellow")
    text.append_text(fmt.safe(move.transfer.message, max_len=200))
    return text


class MovementsPane(TablePane):
    TITLE = "Movements"
    TABLE_ID = "moves-table"
    COLUMNS = COLUMNS

    def show(self, moves: tuple[Movement, ...], watched: set[str], tz: tzinfo, total: int) -> None:
        self.set_title(f"latest {len(moves)} of {total}", key=3)
        if self.unchanged(moves):
            return
        self.replace_rows(moves, [movement_row(move, watched, tz) for move in moves])


def movement_row(move: Movement, watched: set[str], tz: tzinfo) -> tuple[str, tuple[Text, ...]]:
    t = move.transfer
    outgoing = t.sender in watched
    when = Text(fmt.when(t.tx_time, tz))
    if t.status is TransferStatus.UNCONFIRMED:
        when = Text("unconf.", style="italic yellow")
    return t.identity, (
        when,
        fmt.direction(outgoing, t.xem),
        party(t.sender, move.sender_label),
        party(t.recipient, move.recipient_label),
        message_cell(move),
    )
