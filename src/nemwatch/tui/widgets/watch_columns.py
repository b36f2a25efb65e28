"""Which watchlist columns fit the pane, how they are titled, and how wide the label may be.

A table wider than its pane scrolls sideways and cuts the columns at the right edge (at 100
columns, with the taint pane beside the watchlist, the JPY value was cut to "¥33"). The columns
the watchlist is for (glyph, address, balance, value, taint) always get what their cells need,
and the last movement with its age is one of them wherever it can be: three layouts, the first
that fits wins.

1. Every column: the last movement's amount in full (``▼ −3,000,000``) and its age apart, with a
   label of at least ``LABEL_WANTED`` cells (or whole).
2. Compact: the last movement and its age in one column (``▼ 3.00M 5m``), the balance titled
   "XEM", the address's short form cut to ``ADDRESS_COMPACT`` cells (``NB6E2M-3DH4…``: its
   first ten characters), the label cut down to ``LABEL_MIN`` cells if need be. This is the
   120x40 layout (a pane of about 70 columns beside the chart).
3. No last movement, for the narrowest panes; the label is cut, never dropped.

The address detail shows everything in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from rich.cells import cell_len
from rich.text import Text

from nemwatch.core.store.reads import LastMove
from nemwatch.tui import format as fmt

COLUMNS = ("", "Address", "Label", "Balance XEM", "JPY", "Taint", "Last move", "Age", "Last move")
COMPACT_TITLES = {3: "XEM"}  # shorter titles in the compact layouts (the values are as narrow)
ADDRESS, LABEL = 1, 2
ADDRESS_COMPACT = 12
FULL = (0, 1, 2, 3, 4, 5, 6, 7)
COMPACT = (0, 1, 2, 3, 4, 5, 8)
BARE = (0, 1, 2, 3, 4, 5)
LABEL_WANTED = 14  # a label cut shorter than this costs the full layout
LABEL_MIN = 8  # and this is as short as a label is cut
LAYOUTS = ((FULL, LABEL_WANTED), (COMPACT, LABEL_MIN), (BARE, LABEL_MIN))  # with the label width each leaves


def titles(shown: Sequence[int]) -> tuple[str, ...]:
    """The column titles of a layout."""
    full = tuple(shown) == FULL
    return tuple(COLUMNS[i] if full else COMPACT_TITLES.get(i, COLUMNS[i]) for i in shown)


def short_amount(micro: int) -> str:
    """An amount in at most six cells: 0.05, 250, 20.5k, 3.00M, 49.42B."""
    xem = Decimal(abs(micro)) / 1_000_000
    if xem >= 1_000_000:
        return fmt.compact(xem)
    if xem >= 1_000:
        return f"{xem / 1_000:.1f}k"
    if 0 < xem < Decimal("0.01"):
        return "<0.01"
    text = f"{xem:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def compact_move(move: LastMove | None, now: datetime) -> Text:
    """The last movement and its age in one cell: ``▼ 3.00M 5m`` (red, sent) or ``▲ 250 2h``
    (green, received); the glyph says the direction, never the colour alone."""
    if move is None:
        return Text("—")
    glyph, style = (fmt.DOWN, "red") if move.outgoing else (fmt.UP, "green")
    return Text(f"{glyph} {short_amount(move.micro_xem)} {fmt.age(now - move.at)}", style=style, no_wrap=True)


def fit(width: int, rows: Sequence[Sequence[Text]], padding: int = 1) -> tuple[tuple[int, ...], int]:
    """The columns to show in ``width`` cells (a layout above), and the label's width (cells)."""
    cells = [max([0, *(row[i].cell_len for row in rows)]) for i in range(len(COLUMNS))]
    label_need = max(cells[LABEL], cell_len(COLUMNS[LABEL]))
    rest = 0
    shown: tuple[int, ...] = BARE
    for shown, floor in LAYOUTS:
        heads = titles(shown)
        need = list(cells)
        if shown != FULL:
            need[ADDRESS] = min(need[ADDRESS], ADDRESS_COMPACT)
        rest = sum(max(need[i], cell_len(t)) + 2 * padding for i, t in zip(shown, heads, strict=True) if i != LABEL)
        rest += 2 * padding  # the label's own padding
        if rest + min(label_need, floor) <= width:
            return shown, min(label_need, width - rest)
    return shown, min(label_need, max(LABEL_MIN, width - rest))


def fitted(row: Sequence[Text], shown: tuple[int, ...], label_width: int) -> tuple[Text, ...]:
    """``row`` with only the ``shown`` columns, its label cut to ``label_width`` and, in the
    compact layouts, its address to ``ADDRESS_COMPACT``."""
    out = []
    for i in shown:
        cell = row[i]
        width = label_width if i == LABEL else ADDRESS_COMPACT if i == ADDRESS and shown != FULL else None
        if width is not None and cell.cell_len > width:
            cell = cell.copy()
            cell.truncate(width, overflow="ellipsis")
        out.append(cell)
    return tuple(out)
