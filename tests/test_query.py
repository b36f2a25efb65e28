"""The read model: filtered, keyset-paged alerts and transfers, watched accounts, price history."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.models import Candle, PriceTick
from nemwatch.core.price.store import PriceStore
from nemwatch.core.query import AlertFilter, PricePoint, PriceSeries, ReadModel, downsample, message_flags
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store, TransferRow, TransferStatus
from nemwatch.core.watchset import WatchSet

T0 = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
OTHER = "NDAOWUL2GIIBQHJDCMRMRRMBS2NZ3UHG6XLGJUBW"


def make_alert(n: int, *, severity: Severity = Severity.WARNING, rule: str = "outflow", stage: Stage = Stage.CONFIRMED,
               address: str = HOT, at: datetime | None = None) -> Alert:
    return Alert(
        alert_id=make_alert_id("mainnet", rule, f"tx{n}", stage),
        rule=rule,
        stage=stage,
        severity=severity,
        detected_at=at or T0 + timedelta(minutes=n),
        summary=f"alert {n}",
        address=address,
        tx_hash=f"tx{n}",
    )


def row(n: int, *, height: int | None, sender: str = HOT, recipient: str = THIEF, message: str | None = None,
        status: TransferStatus = TransferStatus.CONFIRMED) -> TransferRow:
    return TransferRow(
        identity=f"id{n:04d}", hash=f"id{n:04d}", inner_hash=None, height=height, sender=sender, recipient=recipient,
        xem=n * 1_000_000, fee=50_000, tx_time=T0 + timedelta(minutes=n), status=status, first_seen=T0,
        message=message, message_type="plain" if message else None,
    )


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "nemwatch.sqlite3")
    yield s
    s.close()


def test_alerts_filter_by_rule_severity_stage_address_and_time(store: Store) -> None:
    store.add_alerts(
        [
            make_alert(1, severity=Severity.CRITICAL),
            make_alert(2, rule="inflow", address=THIEF),
            make_alert(3, stage=Stage.SETTLED),
            make_alert(4, severity=Severity.INFO, address=OTHER),
        ],
        ["stdout"],
    )
    read = ReadModel(store)
    summaries = lambda flt: [e.alert.summary for e in read.alerts(flt).items]  # noqa: E731
    assert summaries(AlertFilter()) == ["alert 4", "alert 3", "alert 2", "alert 1"]
    assert summaries(AlertFilter(rules=("inflow",))) == ["alert 2"]
    assert summaries(AlertFilter(severities=(Severity.CRITICAL, Severity.INFO))) == ["alert 4", "alert 1"]
    assert summaries(AlertFilter(stages=(Stage.SETTLED,))) == ["alert 3"]
    assert summaries(AlertFilter(address=THIEF)) == ["alert 2"]
    assert summaries(AlertFilter(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))) == ["alert 3", "alert 2"]


def test_alert_pages_are_keyset_and_stable_while_alerts_arrive(store: Store) -> None:
    store.add_alerts([make_alert(n) for n in range(1, 8)], ["stdout"])
    read = ReadModel(store)
    first = read.alerts(limit=3)
    assert [e.alert.summary for e in first.items] == ["alert 7", "alert 6", "alert 5"]
    store.add_alerts([make_alert(99)], ["stdout"])  # a new alert must not shift the next page
    second = read.alerts(after=first.next, limit=3)
    assert [e.alert.summary for e in second.items] == ["alert 4", "alert 3", "alert 2"]
    last = read.alerts(after=second.next, limit=3)
    assert [e.alert.summary for e in last.items] == ["alert 1"] and last.next is None


def test_same_second_alerts_page_by_insertion_order(store: Store) -> None:
    store.add_alerts([make_alert(n, at=T0) for n in range(5)], ["stdout"])
    read = ReadModel(store)
    seen = []
    page = read.alerts(limit=2)
    while True:
        seen += [e.alert.summary for e in page.items]
        if page.next is None:
            break
        page = read.alerts(after=page.next, limit=2)
    assert seen == [f"alert {n}" for n in reversed(range(5))]


def test_acknowledge_counts_and_persists(store: Store, tmp_path: Path) -> None:
    store.add_alerts([make_alert(1, severity=Severity.CRITICAL), make_alert(2), make_alert(3)], ["stdout"])
    read = ReadModel(store)
    assert read.alert_counts().unread == {"critical": 1, "warning": 2}
    newest = read.alerts(limit=1).items[0]
    assert read.acknowledge([newest.alert.alert_id]) == 1
    assert read.acknowledge([newest.alert.alert_id]) == 0
    assert read.alert_counts().unread == {"critical": 1, "warning": 1}
    assert read.alerts(limit=1).items[0].acknowledged
    reopened = ReadModel(Store.open(tmp_path / "nemwatch.sqlite3"))
    assert reopened.alert(newest.alert.alert_id).acknowledged  # type: ignore[union-attr]
    reopened.acknowledge_all()
    assert reopened.alert_counts().unread_total == 0 and reopened.alert_counts().total == 3
    reopened.store.close()


def test_acknowledge_on_a_read_only_store_is_kept_for_the_session(tmp_path: Path) -> None:
    path = tmp_path / "nemwatch.sqlite3"
    writer = Store.open(path)
    writer.add_alerts([make_alert(1), make_alert(2)], ["stdout"])
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    readonly = Store(conn, path)
    read = ReadModel(readonly)
    target = read.alerts().items[0].alert.alert_id
    assert read.acknowledge([target]) == 1
    assert read.read_only and read.alert_counts().unread == {"warning": 1}
    assert [e.acknowledged for e in read.alerts().items] == [True, False]
    assert writer.acknowledged([target]) == set()  # nothing was written to the daemon's file
    writer.close()


def test_transfers_of_an_address_page_newest_first_unconfirmed_on_top(store: Store) -> None:
    for n in range(1, 6):
        store.upsert_transfer(row(n, height=100 + n))
    store.upsert_transfer(row(6, height=None, status=TransferStatus.UNCONFIRMED))
    store.upsert_transfer(row(7, height=200, sender=OTHER, recipient=OTHER))
    read = ReadModel(store)
    page = read.transfers(HOT, limit=4)
    assert [m.transfer.identity for m in page.items] == ["id0006", "id0005", "id0004", "id0003"]
    rest = read.transfers(HOT, after=page.next, limit=4)
    assert [m.transfer.identity for m in rest.items] == ["id0002", "id0001"] and rest.next is None
    assert read.transfer_count(HOT) == 6 and read.transfer_count() == 7
    assert read.movements(limit=1).items[0].transfer.identity == "id0006"


def test_movements_carry_labels_and_message_flags(store: Store) -> None:
    store.upsert_transfer(row(1, height=10, message=f"refund to {OTHER[:6]}-{OTHER[6:12]}-{OTHER[12:]}"))
    store.upsert_transfer(row(2, height=11, message=f"hi {THIEF}"))
    watch = WatchSet()
    watch.add(HOT, WatchRule(label="hot wallet"))
    watch.labels[THIEF] = ("thief", "thief")
    read = ReadModel(store, watch=watch)
    newest, oldest = read.movements().items
    assert (oldest.sender_label, oldest.recipient_label) == ("hot wallet", "thief")
    assert oldest.flags == ("names another address",)
    assert newest.flags == ()  # naming the counterparty itself is no spoof
    assert message_flags(None, HOT, THIEF) == ()


def test_watched_accounts_with_balance_value_label_and_last_move(tmp_path: Path, store: Store) -> None:
    watch = WatchSet()
    watch.add(HOT, WatchRule(label="hot wallet", urgent=True))
    watch.add(OTHER, WatchRule(label="quiet"))
    store.upsert_account(HOT, label="hot wallet", urgent=True, now=T0)
    store.set_balance(HOT, 3_000_000 * 1_000_000, 100)
    store.upsert_transfer(row(1, height=10))
    store.upsert_transfer(row(2, height=11, sender=THIEF, recipient=HOT))
    store.upsert_transfer(row(3, height=12, status=TransferStatus.RETRACTED))
    prices = PriceStore(tmp_path / "nemwatch.sqlite3")
    prices.add_tick(PriceTick("zaif", "xem_jpy", Decimal("100.5"), T0))
    read = ReadModel(store, prices, watch=watch)
    accounts = {a.address: a for a in read.watched()}
    hot = accounts[HOT]
    assert (hot.label, hot.urgent, hot.balance_micro) == ("hot wallet", True, 3_000_000 * 1_000_000)
    assert hot.value_jpy == Decimal("301500000.00")
    assert hot.last_move is not None and hot.last_move.at == T0 + timedelta(minutes=2) and not hot.last_move.outgoing
    quiet = accounts[OTHER]
    assert quiet.balance_micro is None and quiet.value_jpy is None and quiet.last_move is None
    prices.close()


def test_price_history_joins_candles_and_ticks_with_vwap_and_alert_marks(tmp_path: Path, store: Store) -> None:
    prices = PriceStore(tmp_path / "nemwatch.sqlite3")
    candles = [
        Candle("zaif", "xem_jpy", T0 + timedelta(minutes=30 * i), 1800, Decimal(100), Decimal(101), Decimal(99),
               Decimal(100 + i), Decimal(10))
        for i in range(4)
    ]
    prices.add_candles(candles)
    prices.add_coverage("zaif", "xem_jpy", "candles:1800", T0, T0 + timedelta(hours=2))
    prices.add_tick(PriceTick("zaif", "xem_jpy", Decimal("90"), T0 + timedelta(hours=2, minutes=5)))
    store.add_alerts([make_alert(30)], ["stdout"])
    read = ReadModel(store, prices)
    series = read.price_history(T0, T0 + timedelta(hours=3))
    assert [p.price for p in series.points] == [Decimal(100), Decimal(101), Decimal(102), Decimal(103), Decimal(90)]
    assert series.source == "zaif" and series.vwap is not None and Decimal(99) < series.vwap < Decimal(104)
    assert series.alert_times == (T0 + timedelta(minutes=30),)
    assert series.change_pct == Decimal("-10.0")
    assert series.thresholds == ()
    read.price_thresholds = (Decimal(80), Decimal(120))
    assert read.price_history(T0, T0 + timedelta(hours=3)).thresholds == (Decimal(80), Decimal(120))
    empty = ReadModel(store).price_history(T0, T0 + timedelta(hours=1))
    assert empty.points == () and empty.vwap is None
    prices.close()


def test_downsample_keeps_the_ends_and_bounds_the_count() -> None:
    points = [PricePoint(T0 + timedelta(minutes=i), Decimal(i)) for i in range(1000)]
    small = downsample(points, 50)
    assert len(small) <= 50 and small[0] == points[0] and small[-1] == points[-1]
    assert list(small) == sorted(small, key=lambda p: p.at)
    assert downsample(points[:10], 50) == tuple(points[:10])


def test_taint_flow_lists_the_sources_as_roots(store: Store) -> None:
    watch = WatchSet()
    watch.labels[THIEF] = ("thief", "thief")
    read = ReadModel(store, watch=watch, taint_sources=[(THIEF, None)])
    (root,) = read.taint_flow()
    assert (root.address, root.label, root.hop, root.children) == (THIEF, "thief", 0, ())
    assert ReadModel(store).taint_flow() == ()


def test_the_chart_draws_the_price_alert_levels_of_the_config(tmp_path: Path) -> None:
    from nemwatch.config.loader import load_config
    from nemwatch.tui.sources import price_levels
    from nemwatch.tui.widgets.price_chart import plot_data

    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text(
        '[[price.alert]]\nkind = "below"\nvalue = 80\n\n[[price.alert]]\nkind = "above"\nvalue = 150\n\n'
        '[[price.alert]]\nkind = "move_pct"\nvalue = 10\nwindow_minutes = 60\n',
        encoding="utf-8",
    )
    levels = price_levels(load_config(cfg_file))
    assert levels == (Decimal(80), Decimal(150))  # the move rule has no level
    points = tuple(PricePoint(T0 + timedelta(minutes=i), Decimal(100 + i)) for i in range(3))
    series = PriceSeries(T0, T0 + timedelta(hours=1), points, None, "zaif", (), levels)
    assert plot_data(series, UTC)[-1] == (80.0, 150.0)


def test_store_balance_moves_since_read_counts_confirmed_transfers_above_the_read(tmp_path: Path, store: Store) -> None:
    for address in (HOT, THIEF, OTHER):
        store.upsert_account(address, label=None, urgent=False, now=T0)
    store.set_balance(HOT, 50_000_000, 100)
    store.set_balance(THIEF, 1_000_000, 100)  # OTHER: no balance read, never in the answer
    store.upsert_transfer(row(1, height=100))  # at the read's height: already in the balance
    store.upsert_transfer(row(2, height=101))  # HOT -> THIEF 2 XEM + fee
    store.upsert_transfer(row(3, height=102, sender=THIEF, recipient=OTHER))  # THIEF -> OTHER 3 XEM + fee
    store.upsert_transfer(row(4, height=None, status=TransferStatus.UNCONFIRMED))
    store.upsert_transfer(row(5, height=103, status=TransferStatus.RETRACTED))
    expected = {HOT: -(2_000_000 + 50_000), THIEF: 2_000_000 - 3_000_000 - 50_000}
    assert store.balance_moves_since_read() == expected
    assert store.balance_moves_since_read([THIEF, OTHER, THIEF]) == {THIEF: expected[THIEF]}
    assert store.balance_moves_since_read([]) == {}
    store.set_balance(HOT, 47_950_000, 103)  # a newer read: nothing moved since
    assert store.balance_moves_since_read([HOT]) == {HOT: 0}
    readonly = Store.open_readonly(tmp_path / "nemwatch.sqlite3")  # what an attached dashboard opens
    try:
        assert readonly.balance_moves_since_read() == {HOT: 0, THIEF: expected[THIEF]}
    finally:
        readonly.close()


def test_stream_balances_reads_through_the_store_query_and_another_connection(tmp_path: Path, store: Store) -> None:
    watch = WatchSet()
    watch.add(THIEF, WatchRule(label="thief"))
    store.upsert_account(THIEF, label="thief", urgent=False, now=T0)
    store.set_balance(THIEF, 1_000_000, 100)
    store.upsert_transfer(row(2, height=101))  # +2 XEM
    read = ReadModel(store, None, watch=watch)
    [stored] = read.watched(with_moves=False, stream=False)
    [now] = read.stream_balances([stored])
    assert (stored.balance_micro, now.balance_micro, now.balance_read_micro) == (1_000_000, 3_000_000, 1_000_000)
    other = Store.open_readonly(tmp_path / "nemwatch.sqlite3")
    try:
        assert read.balance_moves([stored], store=other) == {THIEF: 2_000_000}
    finally:
        other.close()
