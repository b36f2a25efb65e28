"""The queries the engine, delivery and the dashboard run every cycle read indexes, never a
whole table: checked on the plan SQLite picks (EXPLAIN QUERY PLAN) for the SQL each call runs.

The data is tiny; the plan is what a store of a million transfers gets too (``bench/store_bench.py``
times it at that size)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.query import ReadModel
from nemwatch.core.store import Store, TransferRow, TransferStatus
from nemwatch.core.store.settling import cursors_with_prefix, due_for_settlement

T0 = datetime(2018, 1, 26, tzinfo=UTC)
A, B = "NA" + "A" * 38, "NB" + "B" * 38


def _row(i: int, status: TransferStatus = TransferStatus.CONFIRMED) -> TransferRow:
    return TransferRow(
        identity=f"t{i}", hash=f"t{i}", inner_hash=None, height=None if status is TransferStatus.UNCONFIRMED else i,
        sender=A, recipient=B, xem=1, fee=1, tx_time=T0 + timedelta(minutes=i), status=status,
        first_seen=T0 + timedelta(minutes=i),
    )


def _alert(i: int, stage: Stage) -> Alert:
    return Alert(
        alert_id=make_alert_id("mainnet", "outflow", f"t{i}", stage), rule="outflow", stage=stage,
        severity=Severity.WARNING, detected_at=T0 + timedelta(minutes=i), summary="x", address=A, tx_hash=f"t{i}",
        height=i,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "nemwatch.sqlite3")
    for i in range(30):
        s.upsert_transfer(_row(i, TransferStatus.UNCONFIRMED if i > 27 else TransferStatus.CONFIRMED))
        s.add_alerts([_alert(i, Stage.CONFIRMED)], ["stdout", "journal"])
        if i < 20:
            s.add_alerts([_alert(i, Stage.SETTLED)], ["stdout"])
    s.set_cursor("chain", 30, "h")
    s.set_cursor(f"backfill:{A}", 30)
    s.set_cursor("node:http://127.0.0.1:7890", 1, "ok")
    return s


def plans(store: Store, call: Callable[[], object]) -> list[str]:
    """The plan steps of every SELECT ``call`` runs."""
    seen: list[str] = []
    store.connection.set_trace_callback(seen.append)
    try:
        call()
    finally:
        store.connection.set_trace_callback(None)
    steps = []
    for sql in seen:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            steps += [str(r[3]) for r in store.connection.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]
    assert steps, "the call ran no query"
    return steps


def full_scans(steps: list[str]) -> list[str]:
    # the schema and the materialized list of addresses asked for (``last_moves``) are small
    return [s for s in steps if re.fullmatch(r"SCAN (\w+)", s) and s not in ("SCAN sqlite_master", "SCAN picked")]


PER_CYCLE: dict[str, tuple[Callable[[Store], object], str]] = {
    "unconfirmed transfers": (lambda s: s.unconfirmed_transfers(), "transfers_unconfirmed"),
    "due for settlement": (lambda s: due_for_settlement(s, 25), "alerts_awaiting"),
    "outbox pending": (lambda s: s.pending_deliveries(T0 + timedelta(hours=1), 100, sinks=["stdout"]), "outbox_pending"),
    "next attempt": (lambda s: s.next_attempt_at(["journal"]), "outbox_pending"),
    "backfill cursors": (lambda s: cursors_with_prefix(s, "backfill:"), "sqlite_autoindex_cursors_1"),
    "node cursors": (lambda s: cursors_with_prefix(s, "node:"), "sqlite_autoindex_cursors_1"),
    "chain cursor": (lambda s: s.get_cursor("chain"), "sqlite_autoindex_cursors_1"),
    "first page of alerts": (lambda s: ReadModel(s).alerts(limit=10), "alerts_by_time"),
    "first page of transfers": (lambda s: ReadModel(s).transfers(limit=10), "transfers_newest"),
    "alerts per severity": (lambda s: s.alert_severity_counts(), "row_counts"),
    "unread alerts per severity": (lambda s: s.alert_severity_counts(unacked_only=True), "row_counts"),
    "transfer count": (lambda s: s.count_transfers(), "row_counts"),
    "last moves, outgoing": (lambda s: s.last_moves([A, "TB" + "2" * 38]), "transfers_last_out"),
    "last moves, incoming": (lambda s: s.last_moves([A, "TB" + "2" * 38]), "transfers_last_in"),
}


@pytest.mark.parametrize("name", list(PER_CYCLE))
def test_per_cycle_query_reads_its_index(store: Store, name: str) -> None:
    call, index = PER_CYCLE[name]
    steps = plans(store, lambda: call(store))
    assert full_scans(steps) == [], steps
    assert any(index in step for step in steps), steps


def test_the_check_sees_a_full_scan(store: Store) -> None:
    """The plan check fails on a full scan: the unconfirmed query without its index scans."""
    store.connection.execute("DROP INDEX transfers_unconfirmed")
    assert full_scans(plans(store, store.unconfirmed_transfers)) == ["SCAN transfers"]


def test_answers_are_the_same_as_before(store: Store) -> None:
    """The indexed forms answer what the scans did."""
    assert [r.identity for r in store.unconfirmed_transfers()] == ["t28", "t29"]
    due = due_for_settlement(store, 25)
    assert [(a.tx_hash, h) for a, h in due] == [(f"t{i}", i) for i in range(20, 26)]
    assert [c.name for c in cursors_with_prefix(store, "node:")] == ["node:http://127.0.0.1:7890"]
    assert [c.name for c in cursors_with_prefix(store, "backfill:")] == [f"backfill:{A}"]
    assert len(store.pending_deliveries(T0 + timedelta(hours=1), 100, sinks=["journal"])) == 30
    assert store.next_attempt_at(["journal"]) == T0
    assert store.alert_severity_counts() == {"warning": 50}
    page = ReadModel(store).transfers(limit=3)
    assert [m.transfer.identity for m in page.items] == ["t29", "t28", "t27"]


def test_a_retraction_ends_the_wait_too(store: Store) -> None:
    store.add_alerts([_alert(21, Stage.RETRACTED)], ["stdout"])
    store.mark_retracted("t21")
    assert [a.tx_hash for a, _ in due_for_settlement(store, 25)] == ["t20", "t22", "t23", "t24", "t25"]
    # the column is kept by triggers, not by the caller: one row less waits
    waiting = store.connection.execute("SELECT count(*) FROM alerts WHERE awaiting = 1").fetchone()[0]
    assert waiting == 9
