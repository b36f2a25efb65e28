"""The dashboard's screen of panes."""

from __future__ import annotations

from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget


class MainScreen(Screen[None]):
    """Textual's screen repaints all of itself whenever the focus moves (its ``focused``
    reactive repaints), so tab and shift+tab re-encoded and sent every cell of the terminal.
    The widgets the focus leaves and reaches restyle and repaint themselves (the panes' borders,
    the tables' cursor rows); the rest of the screen is left as it is."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
