"""A DataTable that keeps its rendered cells when only the focus moved.

Textual's DataTable empties every render cache on each style update, and moving the focus is
one (the cursor row is drawn differently in a focused table): tab and shift+tab re-rendered
every visible cell of the two tables involved. Those caches are keyed by the pseudo-class state
(focus, hover, ...) and the base style already, so what was rendered for one state stays right
for it while the stylesheet, the theme and the classes that select this table stay the same.
This table empties them only when one of those changed; otherwise it drops just what is not
keyed by state (the per-style lookups and the border lines).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable


class FocusCachedTable(DataTable[Any]):
    _styled_by: tuple[Any, ...] | None = None

    def _style_sources(self) -> tuple[Any, ...]:
        """What decides this table's styles besides its pseudo-classes (compared by identity
        for the parsed rules: a theme change or a CSS reload makes a new list)."""
        app = self.app
        screen_classes = frozenset(self.screen.classes) if self.is_attached else frozenset()
        return (app.stylesheet.rules, app.theme, screen_classes, frozenset(self.classes))

    def notify_style_update(self) -> None:
        try:
            sources = self._style_sources()
        except Exception:  # not mounted yet: no app or screen
            sources = None
        before = self._styled_by
        self._styled_by = sources
        if sources is None or before is None or before[0] is not sources[0] or before[1:] != sources[1:]:
            super().notify_style_update()  # styles changed: every cache goes
            return
        # Only the pseudo-class state changed: the keyed caches stay.
        self._rich_style_cache.clear()
        self._visual_style_cache.clear()
        self._visual_style = None
        self._styles_cache.clear()
        self._get_styles_to_render_cell.cache_clear()
        self.refresh()
