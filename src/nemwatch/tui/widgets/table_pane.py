"""A pane holding one row table that is rebuilt only when its rows change (alerts, movements)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from nemwatch.tui.widgets.pane import Pane
from nemwatch.tui.widgets.table import FocusCachedTable

Row = tuple[str, Sequence[Text]]  # the row key (an id from the store) and its cells


class TablePane(Pane):
    TABLE_ID = ""
    COLUMNS: tuple[str, ...] = ()

    _shown: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield FocusCachedTable(id=self.TABLE_ID, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.table.add_columns(*self.COLUMNS)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(f"#{self.TABLE_ID}", DataTable)

    def unchanged(self, items: tuple[object, ...]) -> bool:
        """True when ``items`` are already shown (nothing to rebuild, nothing to repaint)."""
        return items == self._shown and self.table.row_count == len(items)

    def replace_rows(self, items: tuple[object, ...], rows: Sequence[Row]) -> None:
        """Show ``rows`` (built from ``items``), keeping the cursor on the same line number."""
        table = self.table
        keep = table.cursor_row
        self._shown = items
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1), animate=False)

    def selected(self) -> str | None:
        """The key of the row under the cursor (None when the table is empty)."""
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value)
