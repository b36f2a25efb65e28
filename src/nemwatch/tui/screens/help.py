"""Help (``?``, F1): every key by id, as the config's ``[keys]`` table names it."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from nemwatch.keymap import KEY_ACTIONS

EXTRA = (
    ("ctrl+p", "command palette: watch, label, jump to an address, chart range, taint source, export"),
    ("enter", "on a row: address detail (watchlist, movements, taint) or alert detail (alerts)"),
    ("esc", "close a screen; clear the watchlist filter"),
    ("tab", "next pane"),
)


def keys_table(keymap: dict[str, str]) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("keys", no_wrap=True)
    table.add_column("what", no_wrap=False)
    table.add_column(Text("id ([keys] in the config)"), style="dim", no_wrap=True)  # a str header is markup
    for action in KEY_ACTIONS:
        keys = keymap.get(action.id, action.keys)
        table.add_row(Text(keys), Text(action.description), Text(action.id))
    for keys, what in EXTRA:
        table.add_row(Text(keys), Text(what), Text(""))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def __init__(self, keymap: dict[str, str], notes: list[str]) -> None:
        super().__init__()
        self.keymap = keymap
        self.notes = notes

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "nemwatch help · esc closes"
            yield Static(keys_table(self.keymap))
            for note in self.notes:
                yield Static(Text(note, style="italic"), classes="note")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
