"""The dashboard's key bindings by id: defaults, descriptions, and the config's ``[keys]`` overrides.

This module holds plain data (no Textual) so the config can validate ``[keys]`` without
loading the dashboard. Keys use Textual's names, comma-separated for several
(``"question_mark,f1"``); letters are case-sensitive (``"X"`` is shift+x).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyAction:
    id: str
    keys: str
    action: str
    description: str
    show: bool = True


PANES: tuple[tuple[str, str], ...] = (
    ("watchlist", "Watchlist"),
    ("taint", "Taint flow"),
    ("movements", "Movements"),
    ("price", "Price"),
    ("alerts", "Alerts"),
    ("status", "Status bar"),
)

KEY_ACTIONS: tuple[KeyAction, ...] = (
    KeyAction("quit", "q", "quit", "Quit"),
    KeyAction("help", "question_mark,f1", "help", "Help"),
    KeyAction("filter", "slash", "filter", "Filter"),
    KeyAction("pause", "p", "toggle_pause", "Pause"),
    KeyAction("refresh", "r", "refresh", "Refresh"),
    KeyAction("range_prev", "left_square_bracket", "chart_range(-1)", "Range-"),
    KeyAction("range_next", "right_square_bracket", "chart_range(1)", "Range+"),
    *(
        KeyAction(f"pane_{n}", str(n), f"toggle_pane('{pane}')", f"{title} on/off", show=False)
        for n, (pane, title) in enumerate(PANES, start=1)
    ),
    KeyAction("open", "enter", "open", "Open", show=False),
    KeyAction("add", "a", "add_address", "Add"),
    KeyAction("taint", "t", "mark_taint", "Taint src"),
    KeyAction("label", "l", "label_account", "Label", show=False),
    KeyAction("export", "e", "export", "Export"),
    KeyAction("acknowledge", "x", "acknowledge", "Ack"),
    KeyAction("acknowledge_all", "X", "acknowledge_all", "Ack all", show=False),
    KeyAction("sort", "s", "sort", "Sort", show=False),
    KeyAction("maximize", "z", "maximize", "Zoom"),
    KeyAction("next_pane", "tab", "focus_next", "Next pane", show=False),
)

KEY_IDS: frozenset[str] = frozenset(a.id for a in KEY_ACTIONS)


def check_keymap(keys: dict[str, str]) -> dict[str, str]:
    """The overrides, or ValueError naming the first unknown id or empty key list."""
    for binding_id, value in keys.items():
        if binding_id not in KEY_IDS:
            raise ValueError(f"unknown key binding id {binding_id!r} (known: {', '.join(sorted(KEY_IDS))})")
        if not isinstance(value, str) or not [k for k in value.split(",") if k.strip()]:
            raise ValueError(f"keys.{binding_id} must name at least one key, like \"q\" or \"ctrl+q,f10\"")
    return {k: ",".join(part.strip() for part in v.split(",") if part.strip()) for k, v in keys.items()}
