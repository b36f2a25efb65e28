"""The key footer, recomposed only when the keys it shows change.

Textual's ``Footer`` recomposes (removes and mounts a widget per key, then lays out the screen)
on every ``bindings_updated`` signal: each focus change, each action. Moving the focus between
the dashboard's tables leaves the keys it shows the same, so that work repainted the screen for
nothing (tab cost about 200 ms). This footer compares what it would show and recomposes only
when that differs.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


def shown_keys(screen: Screen[Any], app: Any) -> tuple[object, ...]:
    """What a Footer on ``screen`` would show: each shown binding with its key text,
    description, action, enabled state and tooltip, in order, and the palette key."""
    shown: list[object] = []
    for _node, binding, enabled, tooltip in screen.active_bindings.values():
        if binding.show:
            group = binding.group.description if binding.group is not None else None
            shown.append(
                (binding.key, app.get_key_display(binding), binding.description, binding.action,
                 enabled, tooltip, group)
            )
    palette = screen.active_bindings.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
    if palette is not None:
        shown.append(("palette", palette[1].key, palette[2]))
    return tuple(shown)


class KeysFooter(Footer):
    _shown: tuple[object, ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self._bindings_ready and self.is_attached and screen is self.screen and screen.app.app_focus:
            shown = shown_keys(screen, screen.app)
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)
