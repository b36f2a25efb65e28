"""Which watchlist columns fit the pane, and how wide the label may be.

A table wider than its pane scrolls sideways and cuts the columns at the right edge (at 100
columns, with the taint pane beside the watchlist, the JPY value was cut to "¥33"). The columns
the watchlist is for (glyph, address, balance, value, taint) always get what their cells need;
the label gets what is left, cut with an ellipsis; the age, then the last movement, are left
out rather than cut a label under 14 cells (and under 8 it is cut, never dropped). The detail screen shows everything.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text

COLUMNS = ("", "Address", "Label", "Balance XEM", "JPY", "Taint", "Last move", "Age")
LABEL = 2
DROPPED_FIRST = (7, 6)  # Age, then Last move
LABEL_WANTED = 14  # a label cut shorter than this costs the age, then the last movement
LABEL_MIN = 8


def fit(width: int, rows: Sequence[Sequence[Text]], padding: int = 1) -> tuple[tuple[int, ...], int]:
    """The indices of the columns to show in ``width`` cells, and the label's width (cells)."""
    need = [
        max([cell_len(title), *(row[i].cell_len for row in rows)]) + 2 * padding
        for i, title in enumerate(COLUMNS)
    ]
    shown = list(range(len(COLUMNS)))
    label_need = need[LABEL] - 2 * padding
    rest = 0
    for drop in (None, *DROPPED_FIRST):
        if drop is not None:
            shown.remove(drop)
        rest = sum(need[i] for i in shown if i != LABEL) + 2 * padding
        if rest + min(label_need, LABEL_WANTED) <= width:
            return tuple(shown), min(label_need, width - rest)
    return tuple(shown), min(label_need, max(LABEL_MIN, width - rest))


def fitted(row: Sequence[Text], shown: tuple[int, ...], label_width: int) -> tuple[Text, ...]:
    """``row`` with only the ``shown`` columns and its label cut to ``label_width``."""
    out = []
    for i in shown:
        cell = row[i]
        if i == LABEL and cell.cell_len > label_width:
            cell = cell.copy()
            cell.truncate(label_width, overflow="ellipsis")
        out.append(cell)
    return tuple(out)
