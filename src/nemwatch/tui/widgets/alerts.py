"""Alerts pane: the persistent alert log, severity by colour AND glyph, unread marked."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text

from nemwatch.core.query import AlertCounts, AlertEntry
from nemwatch.tui import format as fmt
from nemwatch.tui.widgets.table_pane import TablePane

COLUMNS = ("", "Sev", "Time", "Rule", "Stage", "Summary")


class AlertsPane(TablePane):
    TITLE = "Alerts"
    TABLE_ID = "alerts-table"
    COLUMNS = COLUMNS

    def show(self, entries: tuple[AlertEntry, ...], counts: AlertCounts, tz: tzinfo) -> None:
        self.set_title(f"{counts.unread_total} unread of {counts.total}", key=5)
        if self.unchanged(entries):
            return
        self.replace_rows(entries, [alert_row(entry, tz) for entry in entries])


def alert_row(entry: AlertEntry, tz: tzinfo) -> tuple[str, tuple[Text, ...]]:
    a = entry.alert
    style = "" if entry.acknowledged else "bold"
    return a.alert_id, (
        Text(" " if entry.acknowledged else "•", style="bold"),
        fmt.severity_text(a.severity),
        Text(fmt.when(a.detected_at, tz), style=style),
        fmt.safe(a.rule, style),
        fmt.safe(a.stage.value, style),
        fmt.safe(a.summary, style, max_len=300),
    )
