"""Watchlist pane: every watched account, sortable by column, filtered with ``/``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input

from nemwatch.core.query import WatchedAccount
from nemwatch.core.store.reads import LastMove
from nemwatch.core.text import sanitize
from nemwatch.tui import format as fmt
from nemwatch.tui.widgets.pane import Pane
from nemwatch.tui.widgets.table import FocusCachedTable
from nemwatch.tui.widgets.watch_columns import FULL, compact_move, fit, fitted, titles

SORTS: tuple[tuple[str, Callable[[WatchedAccount], object]], ...] = (
    ("label", lambda a: (a.label or "~").lower()),
    ("balance", lambda a: -(a.balance_micro or 0)),
    ("value", lambda a: -(a.value_jpy or 0)),
    ("last move", lambda a: -(a.last_move.at.timestamp() if a.last_move else 0)),
    ("address", lambda a: a.address),
)
STREAMED = ("balance", "value")  # sorts by the balance as of the last block, once every one is read
RECENT_SECONDS = 24 * 3600
SHORT_BELOW = 130  # pane columns under which addresses show in short form


def glyph(account: WatchedAccount, now: datetime, alerted: set[str], move: LastMove | None = None) -> Text:
    """✖ unread critical alert, ▼ sent in the last 24 h, ▲ received, · quiet (never colour alone).
    ``move`` is the account's last movement when it was read apart from the account."""
    if account.address in alerted:
        return Text("✖", style="bold red")
    move = move or account.last_move
    if move is not None and (now - move.at).total_seconds() < RECENT_SECONDS:
        return Text("▼", style="red") if move.outgoing else Text("▲", style="green")
    return Text("·", style="dim")


def matches(account: WatchedAccount, needle: str) -> bool:
    """The filter: ``needle`` (lower case) in the address, its pretty form or the label."""
    if needle in account.address.lower():
        return True
    return needle in sanitize(account.label or "").lower() or needle in fmt.pretty(account.address).lower()


class FilterChanged(Message):
    """The watchlist's filter changed: the screen redraws it."""


class OrdersStale(Message):
    """The watchlist's kept sort orders were dropped (new accounts, movements or balances): the
    app sorts them again while idle (``prepare_order``)."""


class WindowTable(FocusCachedTable):
    """A DataTable that holds one window of a longer list; at its first or last row a cursor
    key asks the pane to slide the window instead of stopping. home and end go to the first and
    last account of the whole list, as in every list a user knows."""

    BINDINGS = [
        Binding("home,ctrl+home", "scroll_top", "Top", show=False),
        Binding("end,ctrl+end", "scroll_bottom", "Bottom", show=False),
    ]

    def _slide(self, step: int) -> bool:
        pane = next((a for a in self.ancestors if isinstance(a, WatchlistPane)), None)
        return pane is not None and pane.slide(step)

    def action_cursor_down(self) -> None:
        if self.cursor_row >= self.row_count - 1 and self._slide(1):
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0 and self._slide(-1):
            return
        super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.cursor_row + self.size.height >= self.row_count and self._slide(self.size.height):
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.cursor_row - self.size.height < 0 and self._slide(-self.size.height):
            return
        super().action_page_up()

    def action_scroll_top(self) -> None:
        if not self._slide(-(10**9)):
            super().action_scroll_top()

    def action_scroll_bottom(self) -> None:
        if not self._slide(10**9):
            super().action_scroll_bottom()


class WatchlistPane(Pane):
    """Thousands of accounts stay fast: the table holds a window of ``WINDOW`` rows around the
    cursor (the title says which), the last movements and balances are read for that window
    first, and for every account in threads after the first frame (and after each change), so
    that sorting by last move, balance or value takes the last block into account. Sorting and
    filtering work on the accounts in memory: each order is sorted once per change of the data
    (ahead of time while idle: ``prepare_order``) and kept, the cells of a row once per redraw
    of the data, and a redraw rewrites only the cells that changed."""

    TITLE = "Watchlist"
    WINDOW = 60  # rows held; more when the pane is taller (a maximized pane on a tall terminal)

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.accounts: list[WatchedAccount] = []
        self.rows: list[WatchedAccount] = []  # sorted and filtered
        self.window_at = 0  # index in ``rows`` of the table's first row
        self.filter_text = ""
        self.sort_index = 0
        self.narrow = False
        self.moves_for: Callable[[list[str]], dict[str, LastMove]] | None = None
        self.bulk_moves_for: Callable[[list[str]], dict[str, LastMove]] | None = None  # from a thread
        self.balances_for: Callable[[list[WatchedAccount]], list[WatchedAccount]] | None = None
        # every account's balance as of the last block, from a thread (None: not available)
        self.bulk_balances_for: Callable[[list[WatchedAccount]], list[WatchedAccount] | None] | None = None
        self._current: dict[str, WatchedAccount] = {}  # accounts with the balance as of the last block
        self._all_balances = False
        self._prefetched = False  # the first frame is drawn: whole-list reads may start
        self._orders: dict[int, list[WatchedAccount]] = {}  # sort index -> every account in that order
        self._row_cells: dict[str, tuple[tuple[object, ...], tuple[Text, ...]]] = {}
        self._moves: dict[str, LastMove | None] = {}
        self._all_moves = False
        self._view: tuple[datetime, tzinfo, set[str]] | None = None
        self._shown: list[tuple[str, tuple[Text, ...]]] = []
        self._columns: tuple[int, ...] = FULL
        self._drawn_width = -1

    def compose(self) -> ComposeResult:
        yield WindowTable(id="watch-table", cursor_type="row", zebra_stripes=True)
        yield Input(placeholder="filter: address or label (esc clears)", id="watch-filter", classes="hidden")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*titles(FULL))

    def on_resize(self) -> None:
        width = self.table.size.width
        if width != self._drawn_width and self._view is not None:  # the columns that fit may change
            self.draw(cursor=max(self.table.cursor_row, 0))

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#watch-table", DataTable)

    def show(self, accounts: list[WatchedAccount], now: datetime, tz: tzinfo, alerted: set[str]) -> None:
        """New data: keep the selected account selected, re-read last movements lazily."""
        selected = self.selected()
        if accounts is not self.accounts:  # the same list again: its movements are still known
            self.accounts = accounts
            self._current = {}
            self._all_balances = False
            self._moves = {a.address: a.last_move for a in accounts if a.last_move is not None}
            self._all_moves = bool(accounts) and len(self._moves) == len(accounts)
            self._drop_orders()
            if self._prefetched:
                self._fetch_balances()
        if self._view is None or self._view[0] != now or self._view[2] != alerted:
            self._row_cells = {}  # the ages and glyphs move with the clock and the alerts
        self._view = (now, tz, alerted)
        self.regroup(keep=selected)

    def _move(self, account: WatchedAccount) -> LastMove | None:
        return account.last_move or self._moves.get(account.address)

    def _load_balances(self, window: list[WatchedAccount]) -> list[WatchedAccount]:
        """The window's accounts with their balance moved by the transfers since it was read
        (the taint beside it moves every block; the balance read from a node less often)."""
        missing = [a for a in window if a.address not in self._current]
        if missing and self.balances_for is not None:
            for account in self.balances_for(missing):
                self._current[account.address] = account
        return [self._current.get(a.address, a) for a in window]

    def _load_moves(self, addresses: list[str]) -> None:
        missing = [a for a in addresses if a not in self._moves]
        if missing and self.moves_for is not None:
            found = self.moves_for(missing)
            for address in missing:
                self._moves[address] = found.get(address)

    def _drop_orders(self, *names: str) -> None:
        """Forget the kept orders (those sorted by ``names``, or all)."""
        for index, (name, _) in enumerate(SORTS):
            if not names or name in names:
                self._orders.pop(index, None)
        self.post_message(OrdersStale())

    def _ordered(self, index: int) -> list[WatchedAccount]:
        """Every account in the order of sort ``index`` (kept until the data changes; never
        modified, the rows shown slice it)."""
        kept = self._orders.get(index)
        if kept is not None:
            return kept
        name, key = SORTS[index]
        if name == "last move":
            rows = sorted(self.accounts, key=lambda a: -(m.at.timestamp() if (m := self._move(a)) else 0))
            ready = self._all_moves
        elif name in STREAMED and self._all_balances:
            current = self._current
            rows = sorted(self.accounts, key=lambda a: key(current.get(a.address, a)))
            ready = True
        else:
            rows = sorted(self.accounts, key=key)
            ready = name not in STREAMED or self.bulk_balances_for is None
        if ready:  # an order waiting for a whole-list read is sorted again when it lands
            self._orders[index] = rows
        return rows

    def prepare_order(self) -> bool:
        """Sort one order not kept yet (while the dashboard is idle), so that the sort key finds
        it sorted; False when every order is kept or waits for its read."""
        for index, (name, _) in enumerate(SORTS):
            if index in self._orders or not self.accounts:
                continue
            if (name == "last move" and not self._all_moves) or (
                name in STREAMED and not self._all_balances and self.bulk_balances_for is not None
            ):
                continue
            self._ordered(index)
            return True
        return False

    def regroup(self, *, keep: str | None = None) -> None:
        """Sort and filter the accounts in memory, then draw the window holding ``keep``."""
        name, _ = SORTS[self.sort_index]
        if name == "last move" and not self._all_moves and self.accounts:
            self._fetch_all_moves(self.accounts)  # thousands of accounts: read in a thread, sort when in
        needle = self.filter_text.lower()
        ordered = self._ordered(self.sort_index)
        rows = [a for a in ordered if matches(a, needle)] if needle else ordered
        self.rows = rows
        at = next((i for i, a in enumerate(rows) if a.address == keep), None) if keep else None
        if at is None:
            at = min(self.window_at + max(self.table.cursor_row, 0), max(len(rows) - 1, 0))
        self.window_at = self._window_start(at)
        self.draw(cursor=at - self.window_at)

    def prefetch_moves(self) -> None:
        """Read every account's last movement and balance in the background while the dashboard
        is idle, so that sorting by last move, balance or value is immediate (and no read runs
        while keys are pressed)."""
        self._prefetched = True
        if self.accounts and not self._all_moves:
            self._fetch_all_moves(self.accounts)
        self._fetch_balances()

    def _fetch_balances(self) -> None:
        if self.accounts and not self._all_balances and self.bulk_balances_for is not None:
            self._fetch_all_balances(self.accounts)

    @work(thread=True, exclusive=True, group="watch-balances", exit_on_error=False, description="balances")
    def _fetch_all_balances(self, accounts: list[WatchedAccount]) -> None:
        fetch = self.bulk_balances_for
        found = fetch(accounts) if fetch is not None else None
        if found is not None:
            self.app.call_from_thread(self._all_balances_in, accounts, found)

    def _all_balances_in(self, accounts: list[WatchedAccount], found: list[WatchedAccount]) -> None:
        if accounts is not self.accounts:  # newer data came meanwhile: its own read follows
            return
        self._current = {a.address: a for a in found}
        self._all_balances = True
        self._drop_orders(*STREAMED)
        if SORTS[self.sort_index][0] in STREAMED:
            self.regroup(keep=self.selected())

    # a description of its own: Textual's default is the repr of the arguments (10,000 accounts: 60 ms)
    @work(thread=True, exclusive=True, group="watch-moves", exit_on_error=False, description="last moves")
    def _fetch_all_moves(self, accounts: list[WatchedAccount]) -> None:
        fetch = self.bulk_moves_for or self.moves_for
        if fetch is None:
            return
        found = fetch([a.address for a in accounts])
        self.app.call_from_thread(self._all_moves_in, accounts, found)

    def _all_moves_in(self, accounts: list[WatchedAccount], found: dict[str, LastMove]) -> None:
        if accounts is not self.accounts:  # newer data came meanwhile: its own fetch follows
            return
        for account in accounts:
            self._moves.setdefault(account.address, found.get(account.address))
        self._all_moves = True
        self._drop_orders("last move")
        self.regroup(keep=self.selected())

    @property
    def window(self) -> int:
        return max(self.WINDOW, 3 * self.table.size.height)

    def _window_start(self, index: int) -> int:
        size = self.window
        return max(0, min(index - size // 2, len(self.rows) - size))

    def slide(self, step: int) -> bool:
        """Move the cursor ``step`` rows past the window's edge; False when there is nothing there."""
        index = self.window_at + self.table.cursor_row
        target = max(0, min(index + step, len(self.rows) - 1))
        if target == index or self.window_at <= target < self.window_at + self.table.row_count:
            return False
        self.window_at = self._window_start(target)
        self.draw(cursor=target - self.window_at)
        return True

    def _cells(self, account: WatchedAccount, now: datetime, alerted: set[str], short: bool) -> tuple[Text, ...]:
        """A row's cells, kept while its account, movement, the clock and the alerts are the
        same (a re-sort or a slide shows rows drawn before)."""
        move = self._move(account)
        key = (account, move, short)
        kept = self._row_cells.get(account.address)
        if kept is not None and kept[0][0] is account and kept[0][1] is move and kept[0][2] == short:
            return kept[1]
        cells = self._new_cells(account, move, now, alerted, short)
        self._row_cells[account.address] = (key, cells)
        return cells

    def _new_cells(
        self, account: WatchedAccount, move: LastMove | None, now: datetime, alerted: set[str], short: bool
    ) -> tuple[Text, ...]:
        label = sanitize(account.label or "")
        return (
            glyph(account, now, alerted, move),
            fmt.address_text(account.address, short=short),
            fmt.safe(label[:24]),
            Text(fmt.short_xem(account.balance_micro), justify="right"),
            Text(fmt.compact(account.value_jpy, "¥") if account.value_jpy is not None else "—", justify="right"),
            Text(fmt.short_xem(account.taint_micro), justify="right"),
            fmt.direction(move.outgoing, move.micro_xem) if move else Text("—"),
            Text(fmt.age(now - move.at) if move else "—"),
            compact_move(move, now),
        )

    def draw(self, *, cursor: int = 0) -> None:
        if self._view is None:
            return
        now, _tz, alerted = self._view
        window = self._load_balances(self.rows[self.window_at:self.window_at + self.window])
        self._load_moves([a.address for a in window])
        short = self.narrow or self.size.width < SHORT_BELOW
        full = [(a.address, self._cells(a, now, alerted, short)) for a in window]
        table = self.table
        self._drawn_width = table.size.width
        room = table.size.width - (table.scrollbar_size_vertical if len(window) > table.size.height - 1 else 0)
        columns, label_width = fit(room, [cells for _, cells in full], table.cell_padding) if room > 0 \
            else (self._columns, 24)
        if columns != self._columns:  # a column more or fewer: the table is laid out again
            self._columns = columns
            table.clear(columns=True)
            table.add_columns(*titles(columns))
            self._shown = []
        fresh = [(address, fitted(cells, columns, label_width)) for address, cells in full]
        if [k for k, _ in fresh] == [k for k, _ in self._shown] and table.row_count == len(fresh):
            for (address, cells), (_, old) in zip(fresh, self._shown, strict=True):
                for column, (cell, before) in enumerate(zip(cells, old, strict=True)):
                    if cell != before:  # only what changed: a quiet refresh costs next to nothing
                        table.update_cell_at(Coordinate(table.get_row_index(address), column), cell, update_width=True)
        else:
            table.clear()
            for address, cells in fresh:
                table.add_row(*cells, key=address)
        self._fit_widths(table, fresh)
        self._shown = fresh
        if fresh:
            table.move_cursor(row=max(0, min(cursor, len(fresh) - 1)), animate=False)
        sort_name = SORTS[self.sort_index][0]
        where = f"{self.window_at + 1}-{self.window_at + len(fresh)} of " if len(self.rows) > len(fresh) else ""
        waiting = (sort_name == "last move" and not self._all_moves) or (
            sort_name in STREAMED and not self._all_balances and self.bulk_balances_for is not None
        )
        loading = " (reading…)" if waiting else ""
        extra = f"{where}{len(self.rows)}/{len(self.accounts)} · by {sort_name}{loading}"
        if self.filter_text:
            extra += f" · filter {self.filter_text!r}"
        self.set_title(extra, key=1)

    @staticmethod
    def _fit_widths(table: DataTable[Text], rows: list[tuple[str, tuple[Text, ...]]]) -> None:
        """Each column as wide as its title and the cells shown now. DataTable only ever widens
        a column (clearing the rows keeps the widths): a label of 12 cells in an earlier window
        kept its column 12 wide under labels cut to 10 for this one, and pushed the last column
        past the pane's edge (``▼ 859.7k 10`` for ``10d``)."""
        changed = False
        for index, column in enumerate(table.ordered_columns):
            width = max([column.label.cell_len, *(cells[index].cell_len for _, cells in rows)])
            if column.auto_width and column.content_width != width:
                column.content_width = width
                changed = True
        if changed:
            table._require_update_dimensions = True  # DataTable lays its columns out again on refresh
            table.refresh()

    def selected(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value) if row_key.value is not None else None

    def cycle_sort(self) -> str:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.regroup(keep=self.selected())
        return SORTS[self.sort_index][0]

    def open_filter(self) -> None:
        box = self.query_one("#watch-filter", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Changed, "#watch-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = sanitize(event.value, max_len=80)
        self.regroup(keep=self.selected())
        self.post_message(FilterChanged())

    @on(Input.Submitted, "#watch-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.table.focus()

    def clear_filter(self) -> None:
        box = self.query_one("#watch-filter", Input)
        box.value = ""
        box.add_class("hidden")
        self.filter_text = ""
        self.table.focus()
        self.regroup(keep=self.selected())
        self.post_message(FilterChanged())
