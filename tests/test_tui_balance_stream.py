"""The balance shown moves with the stream between balance reads, as the taint beside it does:
the last balance a node reported plus the confirmed transfers above its height (the read model),
shown so in the watchlist and the address detail. Seen before: thief balance 1.50M beside a
taint of 2.50M, until the next balance check."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from textual.widgets import DataTable

from nemwatch.core.price.valuation import value_jpy
from nemwatch.core.store import TransferRow, TransferStatus
from nemwatch.tui import format as fmt
from nemwatch.tui.screens.address_detail import facts
from tui_support import HOT, NOW, OTHER, THIEF, make_app

M = 1_000_000  # micro-XEM per XEM
READ_AT = 1_010  # the height of the seeded balance reads (tui_support.seed)


def move(n: int, *, height: int | None, sender: str, recipient: str, xem: int,
         status: TransferStatus = TransferStatus.CONFIRMED) -> TransferRow:
    return TransferRow(
        identity=f"b{n:063x}", hash=f"b{n:063x}", inner_hash=None, height=height, sender=sender, recipient=recipient,
        xem=xem, fee=150_000, tx_time=NOW - timedelta(minutes=5 - n), status=status, first_seen=NOW,
        message=None, message_type=None, mosaics=(),
    )


def add_stream(app) -> int:  # type: ignore[no-untyped-def]
    """Transfers after the thief's balance read; returns the balance they lead to (micro-XEM)."""
    store = app.read.store
    store.upsert_transfer(move(1, height=READ_AT, sender=HOT, recipient=THIEF, xem=9 * M))  # in the read already
    store.upsert_transfer(move(2, height=READ_AT + 1, sender=HOT, recipient=THIEF, xem=2_500_000 * M))
    store.upsert_transfer(move(3, height=READ_AT + 2, sender=THIEF, recipient=OTHER, xem=100_000 * M))
    store.upsert_transfer(move(4, height=None, sender=HOT, recipient=THIEF, xem=7 * M, status=TransferStatus.UNCONFIRMED))
    store.upsert_transfer(move(5, height=READ_AT + 3, sender=HOT, recipient=THIEF, xem=5 * M, status=TransferStatus.RETRACTED))
    return 523_000_000 * M + 2_500_000 * M - 100_000 * M - 150_000


def test_the_read_model_adds_the_confirmed_transfers_since_the_balance_read(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    expected = add_stream(app)
    read = app.read
    stored = {a.address: a for a in read.watched(with_moves=False, stream=False)}
    assert stored[THIEF].balance_micro == 523_000_000 * M  # as read from a node
    now = {a.address: a for a in read.watched(with_moves=False)}
    thief = now[THIEF]
    assert thief.balance_micro == expected and thief.balance_read_micro == 523_000_000 * M
    tick = read.latest_price()
    assert tick is not None and thief.value_jpy == value_jpy(expected, tick.price)
    assert isinstance(thief.value_jpy, Decimal)
    hot = now[HOT]  # sent 2,500,005 XEM plus fees since its read (the retracted one does not count)
    assert hot.balance_micro == max(0, 3_000_000 * M - 2_500_000 * M - 150_000)
    assert read.stream_balances([stored[THIEF]]) == [thief]
    assert read.stream_balances(read.stream_balances([stored[THIEF]])) == [thief]  # applying twice changes nothing


async def test_the_watchlist_and_the_detail_show_the_balance_as_of_the_last_block(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    expected = add_stream(app)
    async with app.run_test(size=(120, 40)) as pilot:
        app.refresh_all()
        await pilot.pause()
        table = app.query_one("#watch-table", DataTable)
        row = table.get_row(THIEF)
        assert row[3].plain.strip() == fmt.short_xem(expected) != fmt.short_xem(523_000_000 * M)
        tick = app.read.latest_price()
        assert row[4].plain.strip() == fmt.compact(value_jpy(expected, tick.price), "¥")
    detail = facts(app.read, THIEF, NOW, app.tz)
    text = " ".join(str(cell) for column in detail.columns for cell in column._cells)
    assert fmt.full_xem(expected) in text and f"read {fmt.full_xem(523_000_000 * M)} at height {READ_AT:,}" in text
