"""Kept counts (schema v6 ``row_counts``) equal COUNT(*) after a mix of writes, and the indexed
``last_moves`` answers what the old full sort did."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.store import Store, TransferRow, TransferStatus
from nemwatch.core.store.migrations import migrate
from nemwatch.core.store.reads import ACK_COMPONENT, ACK_MIGRATIONS
from nemwatch.core.store.retention import prune_alerts, prune_transfers
from nemwatch.core.store.rows import from_db_time
from nemwatch.core.store.schema import COMPONENT, CORE_MIGRATIONS

T0 = datetime(2018, 1, 26, tzinfo=UTC)
ADDRS = [f"NA{i:038d}" for i in range(8)]


def _row(i: int, rng: random.Random, status: TransferStatus = TransferStatus.CONFIRMED) -> TransferRow:
    sender, recipient = rng.choice(ADDRS), rng.choice(ADDRS)  # self-transfers included
    when = T0 + timedelta(minutes=rng.randrange(0, 50))  # ties in time, broken by identity
    return TransferRow(
        identity=f"t{i:04d}", hash=f"t{i:04d}", inner_hash=None,
        height=None if status is TransferStatus.UNCONFIRMED else i, sender=sender, recipient=recipient,
        xem=i + 1, fee=1, tx_time=when, status=status, first_seen=when,
    )


def _alert(i: int, severity: Severity, minutes: int) -> Alert:
    return Alert(
        alert_id=make_alert_id("mainnet", "price_drop", f"a{i}", Stage.CONFIRMED), rule="price_drop",
        stage=Stage.CONFIRMED, severity=severity, detected_at=T0 + timedelta(minutes=minutes), summary="x",
        address=ADDRS[i % len(ADDRS)], tx_hash=f"a{i}", height=i,
    )


def _exact(store: Store) -> tuple[dict[str, int], dict[str, int], int]:
    conn = store.connection
    every = {r[0]: r[1] for r in conn.execute("SELECT severity, count(*) FROM alerts GROUP BY severity")}
    unread = {r[0]: r[1] for r in conn.execute(
        "SELECT severity, count(*) FROM alerts WHERE alert_id NOT IN (SELECT alert_id FROM alert_acks) GROUP BY severity"
    )}
    n = conn.execute("SELECT count(*) FROM transfers WHERE status != 'retracted'").fetchone()[0]
    return every, unread, n


def _kept(store: Store) -> tuple[dict[str, int], dict[str, int], int]:
    return store.alert_severity_counts(), store.alert_severity_counts(unacked_only=True), store.count_transfers()


def test_kept_counts_follow_every_kind_of_write(tmp_path: Path) -> None:
    rng = random.Random(7)
    store = Store.open(tmp_path / "s.sqlite3")
    severities = list(Severity)
    ids: list[str] = []
    for i in range(300):
        status = TransferStatus.UNCONFIRMED if i % 11 == 0 else TransferStatus.CONFIRMED
        store.upsert_transfer(_row(i, rng, status))
        alert = _alert(i, severities[i % len(severities)], i)
        store.add_alerts([alert], ["stdout"])
        store.add_alerts([alert], ["stdout"])  # a repeat is ignored, not counted twice
        ids.append(alert.alert_id)
        if i % 7 == 0:
            store.upsert_transfer(_row(i, rng, TransferStatus.CONFIRMED))  # the pool's one confirmed
    store.acknowledge_alerts(ids[::3], T0)
    assert _kept(store) == _exact(store)
    store.set_cursor("chain", 300, "h")
    store.rewind(250, "chain")  # transfers above 250 retracted
    assert _kept(store) == _exact(store)
    for i in range(260, 270):  # re-included after the rollback
        store.upsert_transfer(_row(i, rng, TransferStatus.CONFIRMED))
    store.connection.execute("UPDATE alerts SET severity = 'critical' WHERE rowid % 5 = 0")
    assert _kept(store) == _exact(store)
    store.set_cursor("chain", 5000, "h")  # every stored block far below any rollback
    store.connection.execute("UPDATE outbox SET state = 'delivered', settled_at = '2018-01-26T00:00:00.000000Z'")
    with store.transaction():
        assert prune_transfers(store, T0 + timedelta(minutes=25)) > 0
        assert prune_alerts(store, T0 + timedelta(minutes=120), None)[0] > 0
    assert _kept(store) == _exact(store)
    store.acknowledge_all_alerts(T0)
    assert _kept(store) == _exact(store)
    assert store.alert_severity_counts(unacked_only=True) == {}
    store.close()


def test_an_upgraded_store_starts_from_its_rows(tmp_path: Path) -> None:
    """A v5 store with rows and acknowledgements is counted once by the upgrade, then kept."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, COMPONENT, CORE_MIGRATIONS, target=5)
    migrate(conn, ACK_COMPONENT, ACK_MIGRATIONS, target=1)
    for i in range(40):
        status = "retracted" if i % 9 == 0 else "confirmed"
        conn.execute(
            "INSERT INTO transfers (identity, hash, height, sender, recipient, xem, fee, tx_time, status, first_seen)"
            " VALUES (?, ?, ?, ?, ?, 1, 1, '2018-01-26T00:00:00.000000Z', ?, '2018-01-26T00:00:00.000000Z')",
            (f"t{i}", f"t{i}", i, ADDRS[0], ADDRS[1], status),
        )
        conn.execute(
            "INSERT INTO alerts (alert_id, rule, stage, severity, json, created_at)"
            " VALUES (?, 'price_drop', 'confirmed', ?, '{}', '2018-01-26T00:00:00.000000Z')",
            (f"a{i}", "warning" if i % 2 else "critical"),
        )
        if i % 4 == 0:
            conn.execute("INSERT INTO alert_acks (alert_id, acked_at) VALUES (?, 'x')", (f"a{i}",))
    conn.close()
    store = Store.open(path)
    store.ensure_ack_table()
    assert _kept(store) == _exact(store) == ({"critical": 20, "warning": 20}, {"critical": 10, "warning": 20}, 35)
    store.upsert_transfer(_row(99, random.Random(1)))
    store.acknowledge_all_alerts(T0)
    assert _kept(store) == _exact(store) == ({"critical": 20, "warning": 20}, {}, 36)
    store.close()


def _old_last_moves(store: Store, addresses: list[str]) -> dict[str, tuple[datetime, int, bool]]:
    """The definition before schema v6: every movement ranked by time, then identity."""
    out = {}
    for address in addresses:
        rows = store.connection.execute(
            "SELECT tx_time, identity, xem, sender = ? AS outgoing FROM transfers"
            " WHERE status != 'retracted' AND (sender = ? OR recipient = ?)"
            " ORDER BY tx_time DESC, identity DESC LIMIT 1", (address, address, address),
        ).fetchall()
        if rows:
            at = from_db_time(rows[0][0])
            assert at is not None
            out[address] = (at, rows[0][2], bool(rows[0][3]))
    return out


def test_last_moves_are_the_newest_transfer_of_each_address(tmp_path: Path) -> None:
    rng = random.Random(11)
    store = Store.open(tmp_path / "s.sqlite3")
    for i in range(400):
        store.upsert_transfer(_row(i, rng, TransferStatus.UNCONFIRMED if i % 13 == 0 else TransferStatus.CONFIRMED))
    for i in range(0, 400, 17):
        store.mark_retracted(f"t{i:04d}")
    asked = [*ADDRS, "NZ" + "9" * 38]  # one address that never moved
    got = {a: (m.at, m.micro_xem, m.outgoing) for a, m in store.last_moves(asked).items()}
    assert got == _old_last_moves(store, asked) and len(got) == len(ADDRS)
    every = {a: (m.at, m.micro_xem, m.outgoing) for a, m in store.last_moves(None).items()}
    assert every == got
    many = [*asked, *(f"NQ{i:038d}" for i in range(6000))]  # above one batch of the lookup
    assert {a: (m.at, m.micro_xem, m.outgoing) for a, m in store.last_moves(many).items()} == got
    assert store.last_moves([]) == {}
    store.close()
