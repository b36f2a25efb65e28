"""Hostile chain text in the dashboard (issue 9, part 6): a corpus of 1,200 messages of every
escape family, control, bidi/zero-width trick, markup variant and invalid UTF-8 (``hostile_corpus``).

- every message, through every formatter a widget uses, renders as literal text: no escape but
  the renderer's own colours, no control/bidi/zero-width character, no link, no click action;
- a sample in every widget under Pilot: no crash, and clicking every cell and tree node runs no action;
- a sample in a real pseudo-terminal: the raw bytes the dashboard writes hold none of the
  corpus's sequences, and every escape sequence in them is one the driver itself uses.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import replace
from datetime import UTC
from pathlib import Path

from rich.console import Console
from rich.text import Text
from textual.content import Content
from textual.widgets import DataTable, Tree

from hostile_app import fake_address, hostile_alert, make_hostile_app
from hostile_corpus import ESCAPES, LEAK_BYTES, LEAK_CHARS, MARKUP, atoms, corpus, markup_heavy
from nemwatch.core.models import MosaicAmount
from nemwatch.core.query import Movement, TaintNode
from nemwatch.core.text import sanitize
from nemwatch.tui import format as fmt
from nemwatch.tui.screens.address_detail import mosaics_cell
from nemwatch.tui.screens.alert_detail import alert_table
from nemwatch.tui.widgets.movements import message_cell, party
from nemwatch.tui.widgets.taint_flow import node_label
from tui_support import THIEF, transfer

CORPUS = corpus(1200)
SGR = re.compile(r"\x1b\[[0-9;]*m")
# What the Textual driver itself writes (textual 8): colours, cursor moves, its private modes,
# the mode and keyboard-protocol queries, the pointer shape. Anything else came from the data.
DRIVER_SEQ = re.compile(
    rb"\x1b\[[0-9;]*m|\x1b\[\d+;\d+H|\x1b\[\?\d+[hl]|\x1b\[\?\d+\$p|\x1b\[>\d+u|\x1b\[<u|\x1b\]22;[a-z-]+(?:\x07|\x1b\\\\)"
)


def _terminal_output(renderable: object, width: int = 120) -> str:
    """What a truecolor terminal would receive for ``renderable`` (escape sequences included)."""
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=True, color_system="truecolor", legacy_windows=False).print(renderable)
    return buf.getvalue()


def _assert_literal(rendered: str, what: str) -> None:
    rest = SGR.sub("", rendered)
    assert "\x1b" not in rest, f"{what}: escape sequence in {rest!r}"
    bad = {hex(ord(c)) for c in rest if c in LEAK_CHARS or (ord(c) < 0x20 and c != "\n")}
    assert not bad, f"{what}: {bad}"
    assert "\x1b]8;" not in rendered, f"{what}: a hyperlink"


def _no_link_or_action(text: Text) -> None:
    for span in text.spans:
        style = span.style
        if not isinstance(style, str):
            assert style.link is None and not style.meta, span
        else:
            assert "link" not in style and "@" not in style, span


def test_corpus_covers_every_family() -> None:
    assert len(CORPUS) >= 1000 and len(set(CORPUS)) > 1000
    assert all(a in CORPUS for a in atoms())
    assert sum(len(t) >= 1024 for t in CORPUS) >= 30
    for needle in ("\x1b]52;", "\x1b]8;;http", "\x1b]0;", "\x9b", "\u202e", "\u200b", "\x1bP", "\x1b_", "\x1b^",
                   "\x1bX", "[ @click=", "[link=", "\\[", "\ufffd"):
        assert any(needle in t for t in CORPUS), needle


def test_every_message_is_literal_text_in_every_formatter() -> None:
    """All 1,200 through the sanitiser and each Text/Content path a widget uses."""
    for n, raw in enumerate(CORPUS):
        clean = sanitize(raw)
        assert sanitize(clean) == clean
        cell = fmt.safe(raw)
        assert cell.plain == clean  # markup characters stay characters: shown as written
        _no_link_or_action(cell)
        row = transfer(10 + n, message=raw)
        move = Movement(row, raw, raw, ())
        node = TaintNode(fake_address(n), raw, n % 3, THIEF, 1_000_000, ())
        pieces: list[tuple[str, object]] = [
            ("message cell", message_cell(move)),
            ("party label", party(row.sender, raw)),
            ("tree label", node_label(node)),
            ("mosaics", mosaics_cell(Movement(replace(row, mosaics=(MosaicAmount(raw[:40], raw[-40:], 1),)),
                                              None, None, ()))),
        ]
        for what, text in pieces:
            assert isinstance(text, Text)
            _no_link_or_action(text)
            _assert_literal(_terminal_output(text), what)
        title = Content(f"1 Watchlist · {sanitize(raw)}")
        assert not title.spans and title.plain == f"1 Watchlist · {clean}"
    for n, raw in enumerate(CORPUS[::10]):  # the alert detail is a whole table: one in ten
        entry = type("Entry", (), {"alert": hostile_alert(n, raw), "acknowledged": False})()
        _assert_literal(_terminal_output(alert_table(entry, UTC)), "alert detail")  # type: ignore[arg-type]


def test_hostile_mosaic_names_render_literally() -> None:
    for raw in (*ESCAPES, *MARKUP):
        row = replace(transfer(1), mosaics=(MosaicAmount(raw, raw, 1),))
        text = mosaics_cell(Movement(row, None, None, ()))
        _no_link_or_action(text)
        _assert_literal(_terminal_output(text), "mosaic")


# the atoms that would become click actions or links if a widget parsed them as markup, each with
# its span at the start of the cell, where the click lands
CLICK_SAMPLE = [
    "[ @click=app.quit]CLICK[/]",
    "[@click=app.bell]BELL[/]",
    "[ link='https://evil.example/pwn']LINK[/]",
    "[@click=app.quit][link=https://evil.example/pwn]both[/link][/]",
]
WIDGETS_OWN = {"select_cursor", "toggle_node"}  # what a table or tree runs for itself on a click


async def test_corpus_in_every_widget_runs_no_action_when_every_cell_is_clicked(tmp_path: Path) -> None:
    assert all(t in MARKUP for t in CLICK_SAMPLE)
    app = make_hostile_app(tmp_path, CLICK_SAMPLE)
    ran: list[object] = []
    brokered: list[str] = []
    run_action, broker = app.run_action, app._broker_event

    async def record(action, default_namespace=None, *args, **kw):  # type: ignore[no-untyped-def]
        if not (action in WIDGETS_OWN and isinstance(default_namespace, (DataTable, Tree))):
            ran.append(action)
        return await run_action(action, default_namespace, *args, **kw)

    async def record_broker(event_name, event, default_namespace):  # type: ignore[no-untyped-def]
        done = await broker(event_name, event, default_namespace)
        if done:
            brokered.append(event_name)
        return done

    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        app.run_action = record  # type: ignore[method-assign]
        app._broker_event = record_broker  # type: ignore[method-assign]
        clicks = 0
        for table in app.query(DataTable):
            app.screen.maximize(table.parent, container=False)
            await pilot.pause()
            x = 0
            for column in table.ordered_columns:
                for row in range(table.row_count):
                    await pilot.click(table, offset=(x + 1, row + 1))
                    clicks += 1
                    while len(app.screen_stack) > 1:  # a second click on a row opens its detail: ours
                        app.pop_screen()
                x += column.get_render_width(table)
            app.screen.minimize()
        tree = app.query_one("#taint-tree", Tree)
        app.screen.maximize(tree.parent, container=False)
        await pilot.pause()
        for line in range(tree.last_line + 1):
            await pilot.click(tree, offset=(6, line))
            clicks += 1
            while len(app.screen_stack) > 1:
                app.pop_screen()
        app.screen.minimize()
        await pilot.pause()
        assert clicks >= len(CLICK_SAMPLE) * (8 + 5 + 6) + len(CLICK_SAMPLE)  # every cell, every node
        assert app.is_running
        assert ran == [] and brokered == [], (ran, brokered)
        for widget in app.query("DataTable, Tree, Static"):  # no link or click meta anywhere on screen
            for y in range(widget.size.height):
                for segment in widget.render_line(y):
                    style = segment.style
                    if style is not None:
                        assert not style.link and "@click" not in (style.meta or {}), (widget, segment)
        svg = app.export_screenshot()
        assert not any(ch in svg for ch in LEAK_CHARS) and "\x1b" not in svg


def _run_in_pty(argv: list[str], *, cols: int, rows: int, timeout: float) -> tuple[int, bytes]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLORTERM", "TEXTUAL_COLOR_SYSTEM")}
    env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 1 << 16)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        os.close(master)
    return proc.returncode, bytes(out)


def test_corpus_in_a_real_terminal_writes_no_attacker_sequence(tmp_path: Path) -> None:
    script = Path(__file__).with_name("hostile_app.py")
    code, out = _run_in_pty([sys.executable, str(script), str(tmp_path), "--count", "250"],
                            cols=160, rows=50, timeout=90)
    assert code == 0 and b"PARADE-DONE" in out, out[-2000:]
    assert len(out) > 100_000  # it drew: tables, tree, details, toasts
    for leak in LEAK_BYTES:
        assert leak not in out, leak
    text = out.decode("utf-8", errors="replace")
    assert not {hex(ord(c)) for c in text if c in LEAK_CHARS}
    assert b"\x1b[38;2;255;0;0m" not in out  # the corpus's truecolor SGR (the driver speaks 256 colours here)
    rest = DRIVER_SEQ.sub(b"", out)
    assert b"\x1b" not in rest, rest[max(0, rest.find(b"\x1b") - 40): rest.find(b"\x1b") + 40]
    # the corpus holds \x1b[?1049l and \x1b[?1000l: seen once per switch by the driver, never more
    assert out.count(b"\x1b[?1049l") == out.count(b"\x1b[?1049h") == 1
    assert out.count(b"\x1b[?1000l") == out.count(b"\x1b[?1000h")
