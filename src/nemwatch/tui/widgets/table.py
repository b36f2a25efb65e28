"""A DataTable that keeps its rendered cells when only the focus moved.

Textual's DataTable empties every render cache on each style update, and moving the focus is
one (the cursor row is drawn differently in a focused table): tab and shift+tab re-rendered
every visible cell of the two tables involved. Those caches are keyed by the pseudo-class state
(focus, hover, ...) and the base style already, so what was rendered for one state stays right
for it while the stylesheet, the theme and the classes that select this table stay the same.
This table empties them only when one of those changed; otherwise it drops just what is not
keyed by state (the per-style lookups and the border lines).

It also draws its one-line Text cells itself (``text_cells``) and keeps them by what they show:
DataTable keys every cached cell by a counter that any change to any cell moves on, so one
updated cell, a re-sort or a new row re-rendered every visible cell through Rich.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.widgets import DataTable

from nemwatch.tui.widgets.text_cells import simple, text_cell_line


class _Component:
    """A component's styles with its Rich style worked out once: DataTable asks for the header
    and row styles on every line it draws, and each ask walked the widget's ancestors."""

    __slots__ = ("_styles", "rich_style")

    def __init__(self, styles: Any) -> None:
        self._styles = styles
        self.rich_style = styles.rich_style

    def __getattr__(self, name: str) -> Any:
        return getattr(self._styles, name)


class FocusCachedTable(DataTable[Any]):
    _styled_by: tuple[Any, ...] | None = None
    _components: dict[tuple[str, ...], _Component] | None = None

    _drawing: tuple[Any, Any] | None = None  # (rich_style, background_colors) while drawing lines

    def render_lines(self, crop: Any) -> Any:
        """Draw the lines of ``crop`` with the table's own style and background worked out once
        for them all (DataTable asks for both on every line, and each walks the ancestors)."""
        self._drawing = (super().rich_style, super().background_colors)
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = None

    @property
    def rich_style(self) -> Any:
        return self._drawing[0] if self._drawing is not None else super().rich_style

    @property
    def background_colors(self) -> Any:
        return self._drawing[1] if self._drawing is not None else super().background_colors

    def get_component_styles(self, *names: str) -> Any:
        """The component's styles, kept until the table's styles change (see notify_style_update)."""
        cache = self._components
        if cache is None:
            cache = self._components = {}
        found = cache.get(names)
        if found is None:
            found = cache[names] = _Component(super().get_component_styles(*names))
        return found

    def _render_cell(
        self, row_index: int, column_index: int, base_style: Style, width: int,
        cursor: bool = False, hover: bool = False,
    ) -> list[list[Segment]]:
        if row_index < 0 or column_index < 0 or width <= 2 * self.cell_padding:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        row = self.rows.get(row_key) if row_key is not None else None
        cell = self._data.get(row_key, {}).get(column_key) if row is not None else None
        if row is None or row.height != 1 or not simple(cell):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            "text", row_key, column_key, row_index, base_style, width, cursor, hover, self._show_hover_cursor,
            self.show_cursor, self.cursor_foreground_priority, self.cursor_background_priority,
            self._pseudo_class_state,
        )
        hit = self._cell_render_cache.get(key)
        if hit is not None and hit[0] is cell:  # the very Text drawn before: its segments stand
            return hit[1]  # type: ignore[no-any-return]
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, fixed, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
        )
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        lines = [text_cell_line(self.app.console, cell, width, self.cell_padding, pre_style, post_style)]
        self._cell_render_cache[key] = (cell, lines)  # type: ignore[assignment]
        return lines

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
        self._components = None  # worked out again in the new state
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
