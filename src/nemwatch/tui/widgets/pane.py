"""A titled, maximizable pane; its title is Content (it may carry a label from the chain)."""

from __future__ import annotations

from textual.containers import Vertical
from textual.content import Content

from nemwatch.core.text import sanitize


class Pane(Vertical):
    ALLOW_MAXIMIZE = True
    TITLE = ""

    def set_title(self, extra: str = "", *, key: int | None = None) -> None:
        head = f"{key} {self.TITLE}" if key is not None else self.TITLE
        self.border_title = Content(head + (f" · {sanitize(extra)}" if extra else ""))
