"""The dashboard over a store full of hostile text (``hostile_corpus``), for the pilot test and the
real-terminal test. Every place chain text reaches: watched accounts' labels, taint sources'
labels (tree), transfer messages and mosaic names (movements, address detail), alert summaries,
messages and labels (alerts, alert detail, toasts), pane border titles.

Run as a script it opens the dashboard on the current terminal, pages every table through all
its rows, opens the detail screens and toasts, and exits by itself (``--seconds`` at most)::

    python tests/hostile_app.py STATE_DIR [--count N]
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sys
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.models import MosaicAmount
from nemwatch.core.query import ReadModel
from nemwatch.core.rules import WatchRule

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile_corpus import corpus  # noqa: E402
from tui_support import HOT, NOW, THIEF, FakeSource, seed, transfer  # noqa: E402


def fake_address(n: int) -> str:
    digest = base64.b32encode(hashlib.sha256(f"hostile-{n}".encode()).digest()).decode()
    return "N" + digest[:39]


def hostile_alert(n: int, text: str) -> Alert:
    return Alert(
        alert_id=make_alert_id("mainnet", "outflow", f"hostile{n}", Stage.CONFIRMED),
        rule="outflow", stage=Stage.CONFIRMED, severity=(Severity.CRITICAL, Severity.WARNING, Severity.INFO)[n % 3],
        detected_at=NOW - timedelta(seconds=n), summary=text, address=fake_address(n), label=text,
        counterparty=THIEF, counterparty_label=text, amount=(n + 1) * 1_000_000, message=text,
        mosaics=(MosaicAmount(text[:64] or "ns", text[-64:] or "name", 1),), tx_hash=f"{n:064x}",
    )


def storable(text: str) -> str:
    """SQLite stores UTF-8 only: a lone surrogate (JSON can carry one, a hex payload cannot) is
    kept as U+FFFD, as the store would have to."""
    return text.encode("utf-8", "replace").decode("utf-8", "replace")


def hostile_source(path: Path, texts: list[str]) -> FakeSource:
    """A fake source over a store whose every chain-text field is one of ``texts``."""
    texts = [storable(t) for t in texts]
    store, prices, watch = seed(path)
    watch.labels[HOT] = (texts[0], "victim")
    with store.transaction():  # one commit, not one per row
        for n, text in enumerate(texts):
            _add_row(store, watch, n, text)
    store.add_alerts([hostile_alert(n, text) for n, text in enumerate(texts)], ["stdout"])
    read = ReadModel(store, prices, watch=watch, clock=lambda: NOW,
                     taint_sources=[(fake_address(n), text) for n, text in enumerate(texts)])
    return FakeSource(read)


def _add_row(store, watch, n: int, text: str) -> None:  # type: ignore[no-untyped-def]
    address = fake_address(n)
    watch.add(address, WatchRule(label=text))
    store.upsert_account(address, label=text, urgent=False, now=NOW)
    row = transfer(10 + n, sender=HOT if n % 2 else address, recipient=address if n % 2 else THIEF,
                   message=text, xem=(n + 1) * 1_000_000, minutes=n)
    mosaics = (MosaicAmount(text[:40] or "ns", text[-40:] or "x", 1),) if n % 5 == 0 else ()
    store.upsert_transfer(replace(row, mosaics=mosaics))


def make_hostile_app(path: Path, texts: list[str], **kw: object):  # type: ignore[no-untyped-def]
    from nemwatch.tui.app import NemwatchApp

    return NemwatchApp(hostile_source(path, texts), tz=UTC, tick_seconds=0, export_dir=path / "exports", **kw)  # type: ignore[arg-type]


async def parade(app, texts: list[str], pause: float = 0.02) -> None:  # type: ignore[no-untyped-def]
    """Bring every row of every table and tree on screen, then the detail screens, the toasts and
    hostile border titles, one repaint each."""
    from textual.widgets import DataTable, Tree

    from nemwatch.core.events import AlertRaised
    from nemwatch.tui.app import SourceEvent
    from nemwatch.tui.screens.address_detail import AddressDetailScreen
    from nemwatch.tui.screens.alert_detail import AlertDetailScreen
    from nemwatch.tui.widgets.pane import Pane

    for widget in [*app.query(DataTable), *app.query(Tree)]:
        widget.parent.display = True  # panes a narrow layout hides too
        app.screen.maximize(widget.parent, container=False)  # one pane on the whole screen: fewer pages
        await asyncio.sleep(pause)
        height = max(1, widget.size.height - 1)
        total = widget.row_count if isinstance(widget, DataTable) else widget.last_line + 1
        for top in range(0, total + height, height):
            widget.scroll_to(y=top, animate=False)
            await asyncio.sleep(pause)
        app.screen.minimize()
    for n in range(0, len(texts), max(1, len(texts) // 12)):  # border titles: every pane, a sample
        for pane in app.query(Pane):
            pane.set_title(texts[n], key=1)
        await asyncio.sleep(pause)
    for n in range(0, len(texts), max(1, len(texts) // 6)):
        app.post_message(SourceEvent(AlertRaised(hostile_alert(n, texts[n]))))
        await asyncio.sleep(0.25)  # the coalesced flush toasts it
    for n in range(0, len(texts), max(1, len(texts) // 8)):
        address = fake_address(n)
        app.push_screen(AddressDetailScreen(app.read, address, NOW, UTC))
        await asyncio.sleep(pause * 5)
        app.pop_screen()
        entry = app.read.alert(hostile_alert(n, texts[n]).alert_id)
        if entry is not None:
            app.push_screen(AlertDetailScreen(entry, UTC))
            await asyncio.sleep(pause * 5)
            app.pop_screen()


def main(argv: list[str]) -> int:
    state = Path(argv[1])
    count = int(argv[argv.index("--count") + 1]) if "--count" in argv else 1200
    texts = corpus(count)
    app = make_hostile_app(state, texts)

    async def run_parade() -> None:
        await asyncio.sleep(0.5)
        try:
            await parade(app, texts)
            print("PARADE-DONE", file=sys.__stdout__, flush=True)
        finally:
            app.exit()

    app.call_later(lambda: app.run_worker(run_parade(), group="parade"))
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
