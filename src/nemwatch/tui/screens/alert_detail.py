"""Alert detail: every field of one alert, as literal text."""

from __future__ import annotations

from datetime import tzinfo

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from nemwatch.core.query import AlertEntry
from nemwatch.tui import format as fmt


def alert_table(entry: AlertEntry, tz: tzinfo) -> Table:
    a = entry.alert
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    rows: list[tuple[str, Text]] = [
        ("severity", fmt.severity_text(a.severity)),
        ("rule · stage", fmt.safe(f"{a.rule} · {a.stage.value}")),
        ("summary", fmt.safe(a.summary)),
        ("status", Text("acknowledged" if entry.acknowledged else "unread (x acknowledges)")),
        ("detected", Text(fmt.when(a.detected_at, tz, seconds=True))),
        ("transaction time", Text(fmt.when(a.tx_time, tz, seconds=True))),
    ]
    if a.address:
        rows.append(("address", Text(fmt.pretty(a.address) + "  ").append_text(fmt.safe(a.label))))
    if a.counterparty:
        rows.append(("counterparty", Text(fmt.pretty(a.counterparty) + "  ").append_text(fmt.safe(a.counterparty_label))))
    if a.amount is not None:
        rows.append(("amount", Text(fmt.full_xem(a.amount))))
    if a.amount_jpy is not None:
        rows.append(("value", Text(f"{fmt.jpy(a.amount_jpy)} at {a.price_jpy} JPY/XEM ({a.price_source})")))
    if a.mosaics:
        rows.append(("mosaics", fmt.safe(", ".join(f"{m.id} ×{m.quantity}" for m in a.mosaics))))
    if a.message:
        rows.append(("message", fmt.safe(a.message)))
    for name, value in (("tx hash", a.tx_hash), ("inner hash", a.inner_hash), ("node", a.node)):
        if value:
            rows.append((name, fmt.safe(value)))
    if a.height is not None:
        rows.append(("height", Text(f"{a.height:,}" + (f" ({a.confirmations} conf)" if a.confirmations is not None else ""))))
    rows.append(("alert id", Text(a.alert_id)))
    for name, value in rows:
        table.add_row(Text(name), value)
    return table


class AlertDetailScreen(ModalScreen[str | None]):
    """Dismisses with an address to open, or None."""

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("x", "ack", "Acknowledge"),
        Binding("enter", "open_address", "Address"),
    ]

    def __init__(self, entry: AlertEntry, tz: tzinfo) -> None:
        super().__init__()
        self.entry = entry
        self.tz = tz

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="alert-box") as box:
            box.border_title = "Alert · x acknowledge · enter address · esc close"
            yield Static(alert_table(self.entry, self.tz), id="alert-fields")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_ack(self) -> None:
        self.app.acknowledge_ids([self.entry.alert.alert_id])  # type: ignore[attr-defined]
        self.dismiss(None)

    def action_open_address(self) -> None:
        self.dismiss(self.entry.alert.address)
