"""The command palette (ctrl+p): watch, label, jump to an address, chart range, taint source,
export, panes."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from nemwatch.keymap import PANES
from nemwatch.tui.widgets.price import RANGES


class NemwatchCommands(Provider):
    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        out: list[tuple[str, object, str]] = [
            ("Watch an address…", app.action_add_address, "validated like the config's [[watch]] address"),  # type: ignore[attr-defined]
            ("Label an account…", app.action_label_account, "name the selected or a typed address"),  # type: ignore[attr-defined]
            ("Jump to address…", app.action_jump, "open an address's detail"),  # type: ignore[attr-defined]
            ("Mark a taint source…", app.action_mark_taint, "the selected or a typed address"),  # type: ignore[attr-defined]
            ("Export to CSV", app.action_export, "watchlist, movements and alerts"),  # type: ignore[attr-defined]
            ("Acknowledge all alerts", app.action_acknowledge_all, "clear the unread count"),  # type: ignore[attr-defined]
        ]
        for name, _ in RANGES:
            out.append((f"Chart range: {name}", partial(app.set_chart_range, name), "XEM/JPY chart"))  # type: ignore[attr-defined]
        for pane, title in PANES:
            out.append((f"Toggle pane: {title}", partial(app.action_toggle_pane, pane), "show or hide"))  # type: ignore[attr-defined]
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)  # type: ignore[arg-type]
