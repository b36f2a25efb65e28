"""A titled, maximizable pane; its title is Content (it may carry a label from the chain)."""

from __future__ import annotations

from textual.containers import Vertical
from rich.text import Text
from textual.content import Content
from textual.widgets import Static

from nemwatch.core.text import sanitize


class Pane(Vertical):
    ALLOW_MAXIMIZE = True
    TITLE = ""

    def set_title(self, extra: str = "", *, key: int | None = None) -> None:
        head = f"{key} {self.TITLE}" if key is not None else self.TITLE
        title = head + (f" · {sanitize(extra)}" if extra else "")
        if title != self._title_text:  # setting the border title repaints the whole pane
            self._title_text = title
            self.border_title = Content(title)

    _title_text: str | None = None


def update_line(line: Static, content: Text) -> None:
    """Show ``content`` in a one-line Static (CSS height 1): repaint that line only, never a
    layout of the screen (Static.update's default), and nothing when it did not change."""
    if getattr(line, "_line_shown", None) == content:
        return
    line._line_shown = content  # type: ignore[attr-defined]
    line.update(content, layout=False)
