"""The status bar: nodes and health, chain height, last poll and next poll, price source and
staleness, PAUSED, alert counts. Built as Text from parts; no markup."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from nemwatch.core.alert import Severity
from nemwatch.core.models import PriceTick
from nemwatch.core.query import AlertCounts
from nemwatch.tui import format as fmt
from nemwatch.tui.sources import SourceStatus

SEP = " │ "


def status_text(
    status: SourceStatus,
    counts: AlertCounts,
    tick: PriceTick | None,
    now: datetime,
    *,
    paused: bool,
    stale_after_seconds: float,
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if paused:
        text.append(" PAUSED ", style="bold reverse yellow")
        text.append(" ")
    text.append(status.mode.upper(), style="bold")
    if status.note:
        text.append(" ")
        text.append(status.note, style="italic")
    if status.nodes_total is not None:
        ok, total = status.nodes_ok or 0, status.nodes_total
        style = "green" if ok == total else ("yellow" if ok else "bold red")
        glyph = "●" if ok == total else ("◐" if ok else "✖")
        text.append(SEP + "nodes ")
        text.append(f"{glyph} {ok}/{total}", style=style)
    if status.push_total:
        live, total = status.push_live or 0, status.push_total
        text.append(" push ")
        text.append(f"{'●' if live == total else ('◐' if live else '○')} {live}/{total}",
                    style="green" if live == total else ("yellow" if live else "dim"))
    text.append(SEP + ("height " + (f"{status.head:,}" if status.head is not None else "—")))
    text.append(SEP + "polled " + (fmt.age(now - status.last_poll) + " ago" if status.last_poll else "—"))
    if status.next_poll is not None:
        text.append(" · next " + fmt.age(status.next_poll - now))
    text.append(SEP + "price ")
    if tick is None:
        text.append("—", style="dim")
    else:
        delay = (now - tick.at).total_seconds()
        text.append(f"{tick.source} {tick.price:.3f} ({fmt.age(now - tick.at)})")
        if delay > stale_after_seconds:
            text.append(" STALE", style="bold yellow")
    text.append(SEP + "alerts ")
    for severity in (Severity.CRITICAL, Severity.WARNING, Severity.INFO):
        n = counts.unread.get(severity.value, 0)
        text.append(f"{fmt.SEVERITY_GLYPH[severity]}{n} ", style=fmt.SEVERITY_STYLE[severity] if n else "dim")
    text.append(f"unread / {counts.total}")
    return text


class StatusBar(Static):
    _shown: Text | None = None

    def show(self, text: Text) -> None:
        # One fixed line (CSS height 1): a new text needs a repaint of this line only, never a
        # layout of the screen (Static.update's default), and the same text needs nothing.
        if text == self._shown:
            return
        self._shown = text
        self.update(text, layout=False)
