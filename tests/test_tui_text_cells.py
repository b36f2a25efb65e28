"""One-line Text cells drawn without Rich's pipeline (tui/widgets/text_cells.py) look exactly as
a plain DataTable draws them: every line of two tables holding the same rows compared segment
by segment (text and style), with styles, spans, each justification, cropped and wide text,
hostile strings, the cursor on several rows and the focus in and out."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from hostile_corpus import corpus
from nemwatch.tui.widgets.table import FocusCachedTable
from nemwatch.tui.widgets.text_cells import simple


def cells() -> list[tuple[Text, ...]]:
    hostile = [t for t in corpus(300, seed=9) if simple(Text(t))][:60]
    styled = Text.assemble(("▲", "green"), " +3,000 ", ("XEM", "bold"))
    rows: list[tuple[Text, ...]] = [
        (Text("plain"), Text("12.5M", justify="right"), Text("mid", justify="center"), Text("l", justify="left")),
        (Text("▼", style="bold red"), styled, Text("¥49.42B", style="dim", justify="right"), Text("")),
        (Text("東京取引所ウォレット"), Text("a very long label that will not fit", overflow="ellipsis"),
         Text("right and cropped", justify="right"), Text("  padded  ", justify="center")),
        (Text("😀 emoji"), Text("—"), Text("x" * 40, justify="right", overflow="ellipsis"), Text("fold" * 10)),
    ]
    for i, text in enumerate(hostile):
        rows.append((Text(text), Text(text, justify="right"), Text(text, style="italic"), Text(str(i))))
    return rows


class Pair(App[None]):
    def compose(self) -> ComposeResult:
        yield FocusCachedTable(id="fast", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="rich", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.add_column("auto")
            table.add_column("eight", width=8)
            table.add_column("five", width=5)
            table.add_column("auto too")
            for n, row in enumerate(cells()):
                table.add_row(*row, key=str(n))


def lines(table: DataTable) -> list[list[tuple[str, str]]]:  # type: ignore[type-arg]
    return [[(s.text, str(s.style)) for s in table.render_line(y)] for y in range(table.size.height)]


async def test_text_cells_draw_what_rich_draws() -> None:
    app = Pair()
    async with app.run_test(size=(100, 80)) as pilot:
        fast, rich = app.query_one("#fast", DataTable), app.query_one("#rich", DataTable)
        await pilot.pause()
        compared = 0
        for row in (0, 1, 2, 5, 30):
            for focused in (fast, rich):
                fast.move_cursor(row=row, animate=False)
                rich.move_cursor(row=row, animate=False)
                focused.focus()
                await pilot.pause()
                drawn_fast = lines(fast)
                rich.focus() if focused is fast else fast.focus()  # the other table in the same state
                await pilot.pause()
                drawn_rich = lines(rich)
                assert len(drawn_fast) == len(drawn_rich) == fast.size.height
                for y, (a, b) in enumerate(zip(drawn_fast, drawn_rich, strict=True)):
                    assert "".join(t for t, _ in a) == "".join(t for t, _ in b), y
                    # the same style on every character (segments may be split differently)
                    assert [st for t, st in a for _ in t] == [st for t, st in b for _ in t], y
                compared += len(drawn_fast)
        assert compared > 200
        # the fast path drew the cells (it keeps them by the Text they show)
        assert any(isinstance(k, tuple) and k[:1] == ("text",) for k in fast._cell_render_cache.keys())


async def test_a_changed_cell_is_drawn_again_and_the_others_are_kept() -> None:
    app = Pair()
    async with app.run_test(size=(100, 30)) as pilot:
        fast = app.query_one("#fast", DataTable)
        await pilot.pause()
        before = lines(fast)
        cache = fast._cell_render_cache
        kept = {k: cache[k] for k in list(cache.keys()) if k[:1] == ("text",)}
        fast.update_cell("3", fast.ordered_columns[0].key, Text("changed"))
        await pilot.pause()
        after = lines(fast)
        assert after != before and any("changed" in "".join(t for t, _ in line) for line in after)
        cache = fast._cell_render_cache
        unchanged = [k for k in kept if k[1].value != "3" and k in cache]
        assert unchanged and all(cache[k] is kept[k] for k in unchanged)
