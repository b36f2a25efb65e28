"""Alerts pane: the persistent alert log, severity by colour AND glyph, unread marked."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from nemwatch.core.query import AlertCounts, AlertEntry
from nemwatch.tui import format as fmt
from nemwatch.tui.widgets.pane import Pane
from nemwatch.tui.widgets.table import FocusCachedTable

COLUMNS = ("", "Sev", "Time", "Rule", "Stage", "Summary")


class AlertsPane(Pane):
    TITLE = "Alerts"

    _shown: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield FocusCachedTable(id="alerts-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#alerts-table", DataTable)

    def show(self, entries: tuple[AlertEntry, ...], counts: AlertCounts, tz: tzinfo) -> None:
        table = self.table
        keep = table.cursor_row
        self.set_title(f"{counts.unread_total} unread of {counts.total}", key=5)
        if entries == self._shown and table.row_count == len(entries):  # nothing new: no rebuild, no repaint
            return
        self._shown = entries
        table.clear()
        for entry in entries:
            a = entry.alert
            style = "" if entry.acknowledged else "bold"
            table.add_row(
                Text(" " if entry.acknowledged else "•", style="bold"),
                fmt.severity_text(a.severity),
                Text(fmt.when(a.detected_at, tz), style=style),
                fmt.safe(a.rule, style),
                fmt.safe(a.stage.value, style),
                fmt.safe(a.summary, style, max_len=300),
                key=a.alert_id,
            )
        if entries:
            table.move_cursor(row=min(keep, len(entries) - 1), animate=False)

    def selected(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value)
