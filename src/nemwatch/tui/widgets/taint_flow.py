"""Taint flow pane: a tree from each taint source through its hops (labels as literal text)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from nemwatch.core.query import TaintNode
from nemwatch.tui import format as fmt
from nemwatch.tui.widgets.pane import Pane, update_line

NO_DATA = "no taint data yet"


KIND_TAGS = {"exchange": "EXCHANGE", "relay": "relay", "service": "service", "victim": "victim", "thief": "thief"}


def node_label(node: TaintNode) -> Text:
    """One account of the flow, what matters first (a narrow pane cuts the end): the hop, the
    name (the label, else the short address), the amount under the selected model and the
    range over every model, EXCHANGE, marker mosaics (⚑ and their count), the tag lag in blocks,
    the label's other kinds, then the address."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("◆ " if node.hop == 0 else f"{node.hop}↳ ", style="bold magenta" if node.hop == 0 else "magenta")
    if node.label:
        text.append_text(fmt.safe(node.label, "italic", max_len=40))
    else:
        text.append(fmt.pretty(node.address)[:13] + "…")
    if node.amount_micro is not None:
        text.append(f"  {fmt.short_xem(node.amount_micro)}", style="bold")
        low, high = (min(node.per_model_micro), max(node.per_model_micro)) if node.per_model_micro else (0, 0)
        if low != high:
            text.append(f" ({fmt.short_xem(low)}–{fmt.short_xem(high)})", style="dim")
    tag = KIND_TAGS.get(node.kind or "")
    if node.kind == "exchange":  # taint reaching an exchange comes first
        text.append(f"  {tag}", style="bold red")
    if node.markers:
        text.append(f"  ⚑{len(node.markers)}", style="yellow")
    if node.tag_lag_blocks is not None:
        text.append(f"  lag {node.tag_lag_blocks}", style="dim")
    if tag and node.kind != "exchange":
        text.append(f"  {tag}", style="yellow")
    if node.label:
        text.append(f"  {fmt.pretty(node.address)}", style="dim")
    return text


class TaintFlowPane(Pane):
    TITLE = "Taint flow"

    def compose(self) -> ComposeResult:
        yield Static(id="taint-progress")
        tree: Tree[str] = Tree(Text("taint sources"), id="taint-tree")
        tree.show_root = False
        yield tree

    @property
    def tree(self) -> Tree[str]:
        return self.query_one("#taint-tree", Tree)

    def show(self, roots: tuple[TaintNode, ...], progress: list[Any] | None = None, model: str = "fifo") -> None:
        update_line(self.query_one("#taint-progress", Static), progress_text(progress or [], model))
        tree = self.tree
        tree.clear()
        if not roots:
            tree.root.add_leaf(Text(f"{NO_DATA}: mark a source with t, or add [[taint.source]] to the config", style="dim"))
        for root in roots:
            self._add(tree.root, root)
            if not root.children:
                tree.root.children[-1].add_leaf(Text("no hops yet: the tainted XEM has not moved on", style="dim"))
        tree.root.expand_all()
        hops = sum(_count(r) for r in roots) - len(roots)
        self.set_title(f"{len(roots)} source(s), {hops} hop account(s)", key=2)

    def _add(self, parent: TreeNode[str], node: TaintNode) -> None:
        child = parent.add(node_label(node), data=node.address, expand=True)
        for sub in node.children:
            self._add(child, sub)

    def selected(self) -> str | None:
        node = self.tree.cursor_node
        return node.data if node is not None and node.data else None


def progress_text(progress: list[Any], model: str) -> Text:
    """The laundering progress under ``model``: tainted XEM that left the tracked set vs at rest."""
    row = next((p for p in progress if str(getattr(p.model, "value", p.model)) == model), None)
    if row is None or not row.seeded_micro:
        return Text(f"{model}: no tainted XEM tracked yet", style="dim", no_wrap=True)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{model}: ", style="bold")
    text.append(f"at rest {fmt.short_xem(row.at_rest_micro)}")
    if row.at_rest_jpy is not None:
        text.append(f" ({fmt.compact(row.at_rest_jpy, '¥')})")
    text.append(" · ")
    text.append(f"▼ left {fmt.short_xem(row.left_micro)}", style="red" if row.left_micro else "")
    if row.left_percent is not None:
        text.append(f" {row.left_percent}%")
    if row.left_jpy is not None:
        text.append(f" ({fmt.compact(row.left_jpy, '¥')})")
    text.append(f" · exchanges {fmt.short_xem(row.at_exchanges_micro)} · {row.accounts} accounts")
    return text


def _count(node: TaintNode) -> int:
    return 1 + sum(_count(c) for c in node.children)
