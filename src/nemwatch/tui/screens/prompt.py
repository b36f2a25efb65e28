"""A one-line prompt whose answer is checked before the screen closes (messages shown as text)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    """Ask for a line; ``check`` returns the text to show on success or raises ValueError."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str, check: Callable[[str], str], value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.check = check
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box") as box:
            box.border_title = self.title_text
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static(id="prompt-error")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        try:
            done = self.check(event.value)
        except ValueError as err:
            self.query_one("#prompt-error", Static).update(Text(str(err), style="bold red"))
            return
        self.dismiss(done)

    def action_cancel(self) -> None:
        self.dismiss(None)
