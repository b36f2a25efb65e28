"""The watchlist sorts by the balance as of the last block once every account's balance is read
in the background, keeps each order until the data changes (sorted ahead of time while idle),
and keeps each row's cells across re-sorts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.widgets import DataTable

from nemwatch.core.store import TransferRow, TransferStatus
from nemwatch.tui.widgets.watchlist import SORTS, WatchlistPane
from tui_support import HOT, NOW, THIEF, make_app

M = 1_000_000
SIZE = (120, 40)
BY = {name: i for i, (name, _) in enumerate(SORTS)}


def thief_pays_hot(app) -> None:  # type: ignore[no-untyped-def]
    """Above the balance reads (height 1,010): the thief sends 522M XEM to the hot wallet, so as
    of the last block the hot wallet holds more than the thief (read: 3M against 523M)."""
    app.read.store.upsert_transfer(TransferRow(
        identity=f"c{1:063x}", hash=f"c{1:063x}", inner_hash=None, height=1_011, sender=THIEF, recipient=HOT,
        xem=522_000_000 * M, fee=150_000, tx_time=NOW - timedelta(minutes=1), status=TransferStatus.CONFIRMED,
        first_seen=NOW, message=None, message_type=None, mosaics=(),
    ))


async def settled(app, pilot) -> WatchlistPane:  # type: ignore[no-untyped-def]
    pane = app.query_one(WatchlistPane)
    for _ in range(50):
        await pilot.pause(0.1)
        if pane._all_balances and pane._all_moves and not app._prepare_pending:
            return pane
    raise AssertionError("the background reads never landed")


def order(app) -> list[str]:  # type: ignore[no-untyped-def]
    table = app.query_one("#watch-table", DataTable)
    return [str(table.coordinate_to_cell_key((r, 0)).row_key.value) for r in range(table.row_count)]


async def test_sorting_by_balance_uses_the_balance_as_of_the_last_block(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    thief_pays_hot(app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await settled(app, pilot)
        assert pane._current[HOT].balance_micro == 525_000_000 * M  # read 3M, plus 522M since
        assert pane._current[HOT].balance_read_micro == 3_000_000 * M
        while SORTS[pane.sort_index][0] != "balance":
            await pilot.press("s")
        await pilot.pause()
        assert order(app)[:2] == [HOT, THIEF]  # by the balances read from a node it was THIEF, HOT
        assert "(reading" not in str(pane.border_title)
        await pilot.press("s")  # value follows the same balance
        await pilot.pause()
        assert SORTS[pane.sort_index][0] == "value" and order(app)[:2] == [HOT, THIEF]


async def test_a_streamed_sort_waits_for_its_read_and_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    thief_pays_hot(app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await settled(app, pilot)
        pane._all_balances = False  # as before the background read landed
        pane._drop_orders("balance", "value")
        pane.sort_index = BY["balance"]
        pane.regroup()
        assert "(reading…)" in str(pane.border_title)
        assert order(app)[:2] == [THIEF, HOT]  # meanwhile: the balances last read from a node
        assert BY["balance"] not in pane._orders  # not kept: sorted again when the read lands
        pane._all_balances_in(pane.accounts, list(pane._current.values()))
        assert order(app)[:2] == [HOT, THIEF] and "(reading" not in str(pane.border_title)


async def test_orders_are_sorted_ahead_and_kept_and_cells_reused(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await settled(app, pilot)
        assert set(pane._orders) == set(range(len(SORTS)))  # every order sorted while idle
        kept = dict(pane._orders)
        cells = pane._cells(pane.accounts[0], *pane._view[::2], short=True)
        for _ in range(len(SORTS)):
            await pilot.press("s")
            assert pane.rows is kept[pane.sort_index]  # the kept order, not sorted again
        assert pane._cells(pane.accounts[0], *pane._view[::2], short=True) is cells  # drawn once
        # new data: orders and cells are made again
        app.show_watchlist()
        pane.show(list(pane.accounts), NOW + timedelta(minutes=1), app.tz, set())
        assert not pane._orders or all(pane._orders[i] is not kept[i] for i in pane._orders)
        assert pane._cells(pane.accounts[0], *pane._view[::2], short=True) is not cells
