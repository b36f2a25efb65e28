"""One-line table cells drawn straight from their Text, without Rich's render pipeline.

DataTable draws each cell as ``Styled(Padding(cell))`` through the console: five renderables,
line splitting and cropping for what is, in every table of the dashboard, one line of one Text.
That was most of the time of a key press that repaints a table (a re-sort, a pane shown again,
a focus move). For a one-line Text cell the same segments come from the Text itself: justified
and cropped the way Rich's Text does it, padded, and styled with the same pre and post styles.
The tests compare both ways, cell by cell, over plain, wide, right-aligned and hostile text.
"""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

NULL = Style.null()


def simple(cell: object) -> bool:
    """A cell this module draws: a Text on one line (no newline to split, no tab to expand)."""
    if type(cell) is not Text:
        return False
    plain = cell.plain
    return "\n" not in plain and "\t" not in plain


def text_cell_line(
    console: Console, cell: Text, width: int, padding: int, pre_style: Style, post_style: Style
) -> list[Segment]:
    """The segments of ``cell`` in a cell ``width`` wide (padding included), as
    ``Styled(Padding(cell, (0, padding)), pre_style, post_style)`` renders on one line."""
    inner = max(0, width - 2 * padding)
    justify = cell.justify or "default"
    overflow = cell.overflow or "fold"
    line = cell.copy()
    line.end = ""
    if justify == "left":
        line.truncate(inner, overflow=overflow, pad=True)
    elif justify in ("right", "center"):
        line.rstrip()
        line.truncate(inner, overflow=overflow)
        if justify == "right":
            line.pad_left(inner - line.cell_len)
        else:
            line.pad_left((inner - line.cell_len) // 2)
            line.pad_right(inner - line.cell_len)
    else:  # default and full: a single last line is not stretched
        line.truncate(inner, overflow=overflow)
    if line.spans:
        segments = list(line.render(console, end=""))  # the base style comes with the spans
    else:  # Text.render leaves the base style out when there is no span: Rich adds it when joining lines
        base = console.get_style(line.style, default=NULL) if line.style else NULL
        segments = [Segment(line.plain, base)] if line.plain else []
    fill = inner - line.cell_len
    if fill > 0:
        segments.append(Segment(" " * fill, NULL))
    if padding:
        pad = Segment(" " * padding, NULL)
        segments = [pad, *segments, pad]
    return list(Segment.apply_style(segments, pre_style, post_style))
