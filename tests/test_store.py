"""The state database: atomic block commits, alert dedup, the outbox, accounts, integrity."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.models import Message, MessageType, MosaicAmount, Transfer
from nemwatch.core.store import (
    BlockRow,
    Cursor,
    DeliveryState,
    Store,
    StoreError,
    TransferRow,
    TransferStatus,
)

T0 = datetime(2018, 1, 25, 15, 2, 13, tzinfo=UTC)
HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"


def block(height: int, tag: str = "a") -> BlockRow:
    return BlockRow(height, f"h{tag}{height}", f"h{tag}{height - 1}", f"s{tag}{height}", T0 + timedelta(minutes=height))


def transfer_row(identity: str, height: int | None, status: TransferStatus = TransferStatus.CONFIRMED) -> TransferRow:
    return TransferRow(
        identity=identity,
        hash=identity,
        inner_hash=None,
        height=height,
        sender=HOT,
        recipient=THIEF,
        xem=100_000_000 * 1_000_000,
        fee=1_000_000,
        tx_time=T0,
        status=status,
        first_seen=T0,
        mosaics=(MosaicAmount("mizunashi", "coincheck_stolen_funds", 1),),
        message="hello",
        message_type="plain",
    )


def alert(identity: str, stage: Stage = Stage.CONFIRMED, rule: str = "outflow") -> Alert:
    return Alert(
        alert_id=make_alert_id("mainnet", rule, identity, stage),
        rule=rule,
        stage=stage,
        severity=Severity.CRITICAL,
        detected_at=T0,
        summary=f"OUTFLOW {identity}",
        address=HOT,
        tx_hash=identity,
        amount=5,
    )


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "nemwatch.sqlite3")
    yield s
    s.close()


def test_open_sets_pragmas_and_private_file(tmp_path: Path) -> None:
    path = tmp_path / "nemwatch.sqlite3"
    store = Store.open(path)
    conn = store.connection
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert store.integrity_check() == "ok"
    store.close()


def test_synchronous_mode_is_validated(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        Store.open(tmp_path / "x.sqlite3", synchronous="OFF")
    normal = Store.open(tmp_path / "y.sqlite3", synchronous="normal")
    assert normal.connection.execute("PRAGMA synchronous").fetchone()[0] == 1
    normal.close()


def test_commit_block_is_all_or_nothing(store: Store) -> None:
    store.commit_block(block(10), [transfer_row("tx10", 10)], [alert("tx10")], ["stdout"], Cursor("chain", 10, "ha10"))

    class Boom(RuntimeError):
        pass

    with pytest.raises(Boom):
        with store.transaction():
            store.commit_block(
                block(11), [transfer_row("tx11", 11)], [alert("tx11")], ["stdout", "journal"], Cursor("chain", 11, "ha11")
            )
            raise Boom("crash after the writes, before the commit")

    assert store.get_cursor("chain") == Cursor("chain", 10, "ha10")
    assert store.block_at(11) is None
    assert store.get_transfer("tx11") is None
    assert not store.alert_exists(alert("tx11").alert_id)
    assert [r.alert_id for r in store.outbox_rows()] == [alert("tx10").alert_id]
    assert store.integrity_check() == "ok"


def test_failure_inside_commit_block_leaves_nothing(store: Store) -> None:
    good = transfer_row("ok12", 12)
    bad = TransferRow(**{**{f: getattr(good, f) for f in good.__dataclass_fields__}, "identity": "bad12", "sender": None})
    with pytest.raises(sqlite3.IntegrityError):  # NOT NULL sender: fails after the first writes
        store.commit_block(block(12), [good, bad], [alert("ok12")], ["stdout"], Cursor("chain", 12))
    assert store.block_at(12) is None
    assert store.get_transfer("ok12") is None
    assert not store.alert_exists(alert("ok12").alert_id)
    assert store.get_cursor("chain") is None


def test_nested_transaction_rolls_back_only_the_inner_part(store: Store) -> None:
    with store.transaction():
        store.set_cursor("chain", 1)
        with pytest.raises(ValueError):
            with store.transaction():
                store.set_cursor("other", 2)
                raise ValueError("inner")
    assert store.get_cursor("chain") == Cursor("chain", 1, None)
    assert store.get_cursor("other") is None


def test_add_alerts_ignores_known_ids_and_reports_the_new(store: Store) -> None:
    first = store.add_alerts([alert("a"), alert("b")], ["stdout", "journal"])
    assert [a.alert_id for a in first] == [alert("a").alert_id, alert("b").alert_id]
    again = store.add_alerts([alert("b"), alert("c"), alert("c")], ["stdout", "journal"])
    assert [a.alert_id for a in again] == [alert("c").alert_id]
    assert len(store.outbox_rows()) == 6
    assert store.alert_exists(alert("a").alert_id)
    # A re-processed block: nothing new, no extra deliveries.
    store.commit_block(block(5), [], [alert("a")], ["stdout"], Cursor("chain", 5))
    assert len(store.outbox_rows()) == 6


def test_alert_round_trips_and_is_found_by_identity(store: Store) -> None:
    multisig = Alert(
        alert_id=make_alert_id("mainnet", "outflow", "inner1", Stage.CONFIRMED),
        rule="outflow",
        stage=Stage.CONFIRMED,
        severity=Severity.WARNING,
        detected_at=T0,
        summary="multisig",
        tx_hash="outer1",
        inner_hash="inner1",
        amount=1_234_567,
        mosaics=(MosaicAmount("a", "b", 3),),
    )
    store.add_alerts([multisig, alert("inner1", Stage.SETTLED)], [])
    found = store.alerts_for_identity("inner1")
    assert [a.stage for a in found] == [Stage.CONFIRMED, Stage.SETTLED]
    assert found[0] == multisig
    assert store.get_alert(multisig.alert_id) == multisig
    assert store.outbox_rows() == []


def test_recent_alerts_newest_first(store: Store) -> None:
    for i in range(5):
        a = Alert(
            alert_id=f"id{i}", rule="outflow", stage=Stage.CONFIRMED, severity=Severity.INFO,
            detected_at=T0 + timedelta(seconds=i), summary=f"n{i}",
        )
        store.add_alerts([a], [])
    assert [a.summary for a in store.recent_alerts(3)] == ["n4", "n3", "n2"]


def test_outbox_lifecycle(store: Store) -> None:
    a = alert("x")
    store.add_alerts([a], ["stdout", "webhook"])
    due = store.pending_deliveries(T0)
    assert {(d.alert_id, d.sink) for d in due} == {(a.alert_id, "stdout"), (a.alert_id, "webhook")}
    assert due[0].alert == a
    assert store.pending_deliveries(T0, sinks=["webhook"])[0].sink == "webhook"
    assert store.pending_deliveries(T0 - timedelta(seconds=1)) == []

    assert store.mark_delivered(a.alert_id, "stdout", T0)
    assert not store.mark_delivered(a.alert_id, "stdout", T0)  # already settled
    later = T0 + timedelta(seconds=2)
    assert store.mark_failed(a.alert_id, "webhook", "HTTP 500", later)
    assert store.pending_deliveries(T0 + timedelta(seconds=1)) == []
    assert store.next_attempt_at() == later
    [retry] = store.pending_deliveries(later)
    assert retry.attempts == 1
    assert store.mark_dead(a.alert_id, "webhook", "HTTP 400", later)
    rows = {r.sink: r for r in store.outbox_rows(a.alert_id)}
    assert rows["stdout"].state is DeliveryState.DELIVERED
    assert rows["webhook"].state is DeliveryState.DEAD
    assert rows["webhook"].attempts == 2
    assert rows["webhook"].last_error == "HTTP 400"
    assert rows["webhook"].settled_at == later
    assert store.outbox_counts() == {"pending": 0, "delivered": 1, "dead": 1}
    assert store.next_attempt_at() is None


def test_outbox_rows_belong_to_stored_alerts(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction():
            store.connection.execute(
                "INSERT INTO outbox (alert_id, sink, next_attempt_at) VALUES ('nope', 'stdout', 'x')"
            )


def test_blocks_window_rewind_and_pruning(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3", block_window=50)
    for h in range(1, 121):
        store.record_block(block(h))
    kept = store.recent_blocks()
    assert [b.height for b in kept] == list(range(71, 121))
    assert store.block_at(70) is None
    assert store.block_at(100) == block(100)
    assert [b.height for b in store.recent_blocks(3)] == [118, 119, 120]
    assert store.delete_blocks_from(115) == 6
    assert store.recent_blocks()[-1].height == 114
    store.close()


def test_rewind_retracts_transfers_above_the_ancestor(store: Store) -> None:
    for h in (100, 101, 102):
        store.commit_block(block(h), [transfer_row(f"tx{h}", h)], [], [], Cursor("chain", h, f"ha{h}"))
    voided = store.rewind(100, "chain")
    assert [r.identity for r in voided] == ["tx101", "tx102"]
    assert store.get_transfer("tx101").status is TransferStatus.RETRACTED
    assert store.get_transfer("tx100").status is TransferStatus.CONFIRMED
    assert store.get_cursor("chain") == Cursor("chain", 100, "ha100")
    assert store.block_at(101) is None
    # re-included in the new chain at another height
    store.upsert_transfer(transfer_row("tx101", 103))
    row = store.get_transfer("tx101")
    assert (row.status, row.height) == (TransferStatus.CONFIRMED, 103)


def test_transfer_upsert_keeps_first_seen_and_never_downgrades(store: Store) -> None:
    store.upsert_transfer(transfer_row("t", None, TransferStatus.UNCONFIRMED))
    confirmed = transfer_row("t", 7)
    confirmed = TransferRow(**{**{f: getattr(confirmed, f) for f in confirmed.__dataclass_fields__}, "first_seen": T0 + timedelta(hours=1)})
    store.upsert_transfer(confirmed)
    row = store.get_transfer("t")
    assert (row.status, row.height, row.first_seen) == (TransferStatus.CONFIRMED, 7, T0)
    store.upsert_transfer(transfer_row("t", None, TransferStatus.UNCONFIRMED))  # a late pool read
    assert store.get_transfer("t").status is TransferStatus.CONFIRMED
    assert store.mark_retracted("t")
    assert not store.mark_retracted("t")
    assert not store.mark_retracted("unknown")
    assert row.mosaics == (MosaicAmount("mizunashi", "coincheck_stolen_funds", 1),)


def test_transfer_row_from_model_sanitizes_the_message() -> None:
    tx = Transfer(
        hash="ab" * 32, inner_hash=None, height=5, meta_id=None, sender=HOT, sender_public_key="00" * 32,
        initiator=None, fee=50_000, nem_timestamp=0, timestamp=T0, deadline=0, version=1, signature=None,
        recipient=THIEF, amount=10, xem=10,
        message=Message(MessageType.PLAIN, b"", "pay\x1b]8;;https://evil\x07 me\u202e"),
    )
    row = TransferRow.from_transfer(tx, TransferStatus.CONFIRMED, T0)
    assert row.message == "pay me"
    assert row.identity == "ab" * 32


def test_transfers_of_an_address_between_heights(store: Store) -> None:
    for h in (10, 11, 12, 13):
        store.upsert_transfer(transfer_row(f"t{h}", h))
    store.upsert_transfer(transfer_row("pool", None, TransferStatus.UNCONFIRMED))
    assert [r.identity for r in store.transfers_of(HOT, above=10, upto=12)] == ["t11", "t12"]
    assert [r.identity for r in store.transfers_of(THIEF)] == ["t10", "t11", "t12", "t13"]
    assert [r.identity for r in store.unconfirmed_transfers()] == ["pool"]


def test_accounts_bookkeeping(store: Store) -> None:
    store.upsert_account(HOT, label="hot wallet", urgent=True, now=T0)
    store.upsert_account(THIEF, label=None, urgent=False, now=T0 + timedelta(seconds=1))
    store.upsert_account(HOT, label="coincheck hot", urgent=True, now=T0 + timedelta(days=1))
    assert store.set_balance(HOT, 526_000_000 * 1_000_000, 1_500_000)
    assert not store.set_balance("NOPE", 1, 1)
    assert store.set_last_activity(HOT, T0)
    assert not store.set_last_activity(HOT, T0 - timedelta(days=3))  # never moves back
    store.set_backfilled(HOT, "cafe")
    hot = store.account(HOT)
    assert hot is not None
    assert (hot.label, hot.urgent, hot.added_at) == ("coincheck hot", True, T0)
    assert (hot.balance, hot.balance_height, hot.last_activity) == (526_000_000_000_000, 1_500_000, T0)
    assert hot.backfilled_until_hash == "cafe"
    assert [a.address for a in store.accounts()] == [HOT, THIEF]
    assert store.remove_account(THIEF)
    assert store.account(THIEF) is None


def test_journal_bookkeeping(store: Store) -> None:
    assert store.journal_end() == 0
    store.journal_record("a1", 120, T0)
    store.journal_record("a2", 250, T0)
    store.journal_record("a1", 999, T0)  # already recorded: ignored
    assert store.journal_has("a1") and not store.journal_has("zz")
    assert store.journal_end() == 250
    store.journal_record("a3", 40, T0)  # a rotated file starts again from zero
    assert store.journal_end() == 40


def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        store.mark_failed("x", "y", "e", datetime(2020, 1, 1))


def test_integrity_check_reports_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = Store.open(path)
    with store.transaction():
        for i in range(300):
            store.upsert_transfer(transfer_row(f"tx{i:04d}", i))
    store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    # Make an index disagree with its table: it now claims to index another column.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = 'CREATE INDEX transfers_by_sender ON transfers (recipient, height)' "
        "WHERE name = 'transfers_by_sender'"
    )
    conn.close()
    damaged = Store.open(path)
    assert damaged.integrity_check() != "ok"
    damaged.close()
