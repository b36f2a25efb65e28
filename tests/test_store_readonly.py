"""Opening the state database read-only from a second process (``--attach``) and tailing it
while a writer commits: schema checks, no writes, and the same events the engine publishes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.eventbus import EventBus
from nemwatch.core.events import (
    AlertRaised,
    BlockProcessed,
    HeadUpdated,
    PriceTicked,
    RollbackHandled,
    WatchListChanged,
)
from nemwatch.core.models import PriceTick
from nemwatch.core.price.store import PriceStore
from nemwatch.core.store import CORE_MIGRATIONS, CORE_VERSION, BlockRow, Cursor, SchemaError, Store, StoreError
from nemwatch.core.store import TransferRow, TransferStatus, migrate
from nemwatch.core.store.tail import StoreTail

T0 = datetime(2018, 1, 26, 3, 0, tzinfo=UTC)
HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"


def block(height: int, tag: str = "a") -> BlockRow:
    return BlockRow(height, f"h{tag}{height}", f"h{tag}{height - 1}", f"s{tag}{height}", T0 + timedelta(minutes=height))


def row(identity: str, height: int) -> TransferRow:
    return TransferRow(
        identity=identity, hash=identity, inner_hash=None, height=height, sender=HOT, recipient=THIEF,
        xem=1_000_000, fee=50_000, tx_time=T0, status=TransferStatus.CONFIRMED, first_seen=T0,
        message="\x1b[31mred", message_type="plain",
    )


def alert(identity: str) -> Alert:
    return Alert(
        alert_id=make_alert_id("mainnet", "outflow", identity, Stage.CONFIRMED), rule="outflow",
        stage=Stage.CONFIRMED, severity=Severity.CRITICAL, detected_at=T0, summary=f"OUTFLOW {identity}",
        address=HOT, tx_hash=identity, amount=1_000_000,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "nemwatch.sqlite3"
    Store.open(path).close()
    PriceStore(path).close()
    return path


def test_a_missing_file_is_a_clear_error_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nothing.sqlite3"
    with pytest.raises(StoreError, match="no state database.*nemwatch watch"):
        Store.open_readonly(path)
    assert not path.exists()


def test_older_newer_and_foreign_schemas_are_refused(tmp_path: Path) -> None:
    older = tmp_path / "older.sqlite3"
    conn = sqlite3.connect(older, isolation_level=None)
    migrate(conn, "core", CORE_MIGRATIONS, target=CORE_VERSION - 1)
    conn.close()
    with pytest.raises(SchemaError, match="older than this nemwatch.*nemwatch watch"):
        Store.open_readonly(older)
    conn = sqlite3.connect(older, isolation_level=None)
    version = conn.execute("SELECT version FROM schema_versions WHERE component = 'core'").fetchone()[0]
    conn.close()
    assert version == CORE_VERSION - 1  # a read-only open never migrates

    newer = tmp_path / "newer.sqlite3"
    Store.open(newer).close()
    conn = sqlite3.connect(newer, isolation_level=None)
    conn.execute("UPDATE schema_versions SET version = version + 1 WHERE component = 'core'")
    conn.close()
    with pytest.raises(SchemaError, match="newer than this nemwatch"):
        Store.open_readonly(newer)

    foreign = tmp_path / "foreign.sqlite3"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(SchemaError, match="no nemwatch core tables"):
        Store.open_readonly(foreign)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        Store.open_readonly(junk)


def test_a_readonly_store_reads_and_cannot_write(db: Path) -> None:
    with Store.open(db) as writer:
        writer.commit_block(block(1), [row("tx1", 1)], [alert("tx1")], ["stdout"], Cursor("chain", 1, "ha1"))
    before = db.stat().st_mtime_ns
    reader = Store.open_readonly(db)
    try:
        assert reader.read_only and reader.schema_version() == CORE_VERSION
        assert [a.tx_hash for a in reader.recent_alerts()] == ["tx1"]
        assert reader.get_cursor("chain") == Cursor("chain", 1, "ha1")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.add_alerts([alert("tx2")], ["stdout"])
        with pytest.raises(sqlite3.OperationalError):
            reader.set_cursor("chain", 2, "ha2")
    finally:
        reader.close()
    assert db.stat().st_mtime_ns == before
    prices = PriceStore.open_readonly(db)
    try:
        assert prices.latest_tick("xem_jpy") is None
    finally:
        prices.close()


def test_the_price_side_must_exist_for_a_readonly_price_store(tmp_path: Path) -> None:
    path = tmp_path / "core-only.sqlite3"
    Store.open(path).close()
    with pytest.raises(SchemaError, match="no nemwatch price tables"):
        PriceStore.open_readonly(path)


def test_tail_reports_rollbacks_watch_list_and_cursor(db: Path) -> None:
    writer = Store.open(db)
    reader = Store.open_readonly(db)
    try:
        for h in range(1, 6):
            writer.commit_block(block(h), [row(f"tx{h}", h)], [], [], Cursor("chain", h, f"ha{h}"))
        tail = StoreTail(reader, clock=lambda: T0).start()
        assert tail.poll() == []  # what was there before start() is the read model's business
        writer.upsert_account(HOT, label="hot", urgent=True, now=T0)
        writer.rewind(2, "chain")  # the writer found a fork below 3
        for h in range(3, 7):
            writer.commit_block(block(h, "b"), [row(f"new{h}", h)], [alert(f"new{h}")], [], Cursor("chain", h, f"hb{h}"))
        events = tail.poll()
        (rollback,) = [e for e in events if isinstance(e, RollbackHandled)]
        assert (rollback.ancestor, rollback.old_tip, rollback.new_tip) == (2, 5, 6)
        assert set(rollback.retracted) == {"tx3", "tx4", "tx5"}
        blocks = [e for e in events if isinstance(e, BlockProcessed)]
        assert [b.height for b in blocks] == [3, 4, 5, 6]
        assert [[r.identity for r in b.rows] for b in blocks] == [["new3"], ["new4"], ["new5"], ["new6"]]
        assert blocks[0].rows[0] == row("new3", 3)  # the stored row, whole
        assert [e.alert.tx_hash for e in events if isinstance(e, AlertRaised)] == ["new3", "new4", "new5", "new6"]
        (changed,) = [e for e in events if isinstance(e, WatchListChanged)]
        assert changed.added == (HOT,) and changed.watched == 1
        (head,) = [e for e in events if isinstance(e, HeadUpdated)]
        assert head.cursor == 6 and head.head is None
        assert isinstance(events[0], RollbackHandled)
        writer.remove_account(HOT)
        (removed,) = tail.poll()
        assert isinstance(removed, WatchListChanged) and removed.removed == (HOT,) and removed.watched == 0
        assert tail.poll() == []
    finally:
        reader.close()
        writer.close()


WRITER = r"""
import sys, time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
sys.path.insert(0, sys.argv[2])
from test_store_readonly import alert, block, row, T0
from nemwatch.core.models import PriceTick
from nemwatch.core.price.store import PriceStore
from nemwatch.core.store import Cursor, Store

store, prices = Store.open(sys.argv[1]), PriceStore(sys.argv[1])
for h in range(1, int(sys.argv[3]) + 1):
    store.commit_block(block(h), [row(f"tx{h}", h)], [alert(f"tx{h}")], ["stdout"], Cursor("chain", h, f"ha{h}"))
    prices.add_tick(PriceTick("zaif", "xem_jpy", Decimal(100) - Decimal(h) / 100, T0 + timedelta(minutes=h)))
    time.sleep(0.005)
store.close(); prices.close()
"""


def test_tail_follows_a_writer_in_another_process(db: Path) -> None:
    count = 120
    reader, prices = Store.open_readonly(db), PriceStore.open_readonly(db)
    tail = StoreTail(reader, prices, clock=lambda: T0 + timedelta(minutes=count)).start()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(Path(__file__).parent), str(count)], env=env,
        stderr=subprocess.PIPE, text=True,
    )
    events = []
    polls = 0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            events += tail.poll()
            polls += 1
            if proc.poll() is not None and sum(isinstance(e, PriceTicked) for e in events) == count:
                break
            time.sleep(0.01)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        events += tail.poll()
    finally:
        reader.close()
        prices.close()
    heights = [e.height for e in events if isinstance(e, BlockProcessed)]
    assert heights == list(range(1, count + 1))  # every block once, in order, while it was written
    assert [e.alert.tx_hash for e in events if isinstance(e, AlertRaised)] == [f"tx{h}" for h in range(1, count + 1)]
    ticks = [e for e in events if isinstance(e, PriceTicked)]
    assert [t.tick.price for t in ticks if t.tick] == [Decimal(100) - Decimal(h) / 100 for h in range(1, count + 1)]
    assert not ticks[-1].stale and ticks[0].stale  # 2 hours old against a 5-minute limit
    assert polls > 3  # it really tailed: several polls saw parts of the run


async def test_run_publishes_into_a_bus(db: Path) -> None:
    writer = Store.open(db)
    reader = Store.open_readonly(db)
    bus = EventBus()
    stop = asyncio.Event()
    try:
        tail = StoreTail(reader, clock=lambda: T0).start()
        async with bus.subscribe() as sub:
            task = asyncio.create_task(tail.run(bus, stop, interval=0.02))
            writer.commit_block(block(1), [row("tx1", 1)], [alert("tx1")], [], Cursor("chain", 1, "ha1"))
            first = await asyncio.wait_for(sub.get(), timeout=5)
            stop.set()
            await asyncio.wait_for(task, timeout=5)
        assert isinstance(first, AlertRaised) and first.alert.tx_hash == "tx1"
    finally:
        reader.close()
        writer.close()


def test_tail_starts_with_a_backlog_of_alerts(db: Path) -> None:
    with Store.open(db) as writer:
        for h in (1, 2, 3):
            writer.add_alerts([alert(f"tx{h}")], [])
    with Store.open_readonly(db) as reader:
        tail = StoreTail(reader).start(backlog_alerts=2)
        assert [e.alert.tx_hash for e in tail.poll() if isinstance(e, AlertRaised)] == ["tx2", "tx3"]


def test_price_tick_fields_survive_the_tail(db: Path) -> None:
    with PriceStore(db) as prices:
        prices.add_tick(PriceTick("zaif", "xem_jpy", Decimal("88.549"), T0, bid=Decimal("88.5"), vwap_24h=Decimal("90.1")))
        prices.add_tick(PriceTick("zaif", "xem_btc", Decimal("0.0001"), T0))  # another pair: not ours
    with Store.open_readonly(db) as reader:
        ro_prices = PriceStore.open_readonly(db)
        tail = StoreTail(reader, ro_prices, clock=lambda: T0 + timedelta(minutes=1))
        (ticked,) = tail.poll()  # not started: everything stored counts as new
        ro_prices.close()
    assert isinstance(ticked, PriceTicked) and ticked.tick is not None
    assert (ticked.tick.price, ticked.tick.bid, ticked.vwap_24h, ticked.stale) == (
        Decimal("88.549"), Decimal("88.5"), Decimal("90.1"), False,
    )
