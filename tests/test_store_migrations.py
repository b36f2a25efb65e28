"""Schema versions: a v1 database upgrades to the current schema with its data intact."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.store import CORE_MIGRATIONS, CORE_VERSION, SchemaError, Store, migrate, schema_version
from nemwatch.core.store.rows import to_db_time

T0 = datetime(2018, 1, 25, 15, 2, 13, tzinfo=UTC)


def _v1_database(path: Path) -> Alert:
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, "core", CORE_MIGRATIONS, target=1) == 1
    multisig = Alert(
        alert_id=make_alert_id("mainnet", "outflow", "inner", Stage.CONFIRMED),
        rule="outflow",
        stage=Stage.CONFIRMED,
        severity=Severity.CRITICAL,
        detected_at=T0,
        summary="old alert",
        tx_hash="outer",
        inner_hash="inner",
    )
    conn.execute(
        "INSERT INTO alerts (alert_id, rule, stage, severity, address, json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (multisig.alert_id, "outflow", "confirmed", "critical", None, multisig.to_json_line(), to_db_time(T0)),
    )
    conn.execute(
        "INSERT INTO outbox (alert_id, sink, state, attempts, next_attempt_at) VALUES (?, 'stdout', 'pending', 0, ?)",
        (multisig.alert_id, to_db_time(T0)),
    )
    conn.execute("INSERT INTO cursors (name, height, hash) VALUES ('chain', 1500000, 'abc')")
    conn.execute(
        "INSERT INTO transfers (identity, hash, height, sender, recipient, xem, fee, tx_time, status, first_seen) "
        "VALUES ('t1', 't1', 1499999, 'NSENDER', 'NRECIPIENT', 5, 1, ?, 'confirmed', ?)",
        (to_db_time(T0), to_db_time(T0)),
    )
    conn.close()
    return multisig


def test_upgrade_from_v1_to_current(tmp_path: Path) -> None:
    path = tmp_path / "nemwatch.sqlite3"
    old = _v1_database(path)
    store = Store.open(path)
    assert store.schema_version() == CORE_VERSION == 6
    # v2 backfilled the identity column from the stored JSON
    assert store.alerts_for_identity("inner") == [old]
    assert store.get_cursor("chain").height == 1_500_000
    [due] = store.pending_deliveries(T0)
    assert due.alert == old
    # v3 added the journal bookkeeping
    store.journal_record(old.alert_id, 10, T0)
    assert store.journal_has(old.alert_id)
    # v4: movements carry a kind (old rows are transfers), levies and a detail; mosaic definitions
    [moved] = store.transfers_of("NSENDER")
    assert (moved.kind, moved.levies, moved.detail, moved.levy_xem) == ("transfer", (), (), 0)
    assert store.mosaic_definitions() == []
    # v5: the old confirmed alert still waits for its settled stage (its transfer is not stored)
    assert store.connection.execute("SELECT awaiting FROM alerts").fetchone()[0] == 1
    assert store.integrity_check() == "ok"
    store.close()


def _alert(identity: str, stage: Stage, rule: str = "outflow", minute: int = 0) -> Alert:
    return Alert(
        alert_id=make_alert_id("mainnet", rule, identity, stage), rule=rule, stage=stage, severity=Severity.WARNING,
        detected_at=T0.replace(minute=minute), summary=f"{rule} {identity}", tx_hash=identity, height=100,
    )


def _insert_v4_alert(conn: sqlite3.Connection, alert: Alert) -> None:
    conn.execute(
        "INSERT INTO alerts (alert_id, rule, stage, severity, address, identity, json, created_at) "
        "VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
        (alert.alert_id, alert.rule, alert.stage.value, alert.severity.value, alert.tx_hash, alert.to_json_line(),
         to_db_time(alert.detected_at)),
    )


def _insert_v4_transfer(conn: sqlite3.Connection, identity: str, height: int | None, status: str) -> None:
    conn.execute(
        "INSERT INTO transfers (identity, hash, height, sender, recipient, xem, fee, tx_time, status, first_seen) "
        "VALUES (?, ?, ?, 'NSENDER', 'NRECIPIENT', 5, 1, ?, ?, ?)",
        (identity, identity, height, to_db_time(T0), status, to_db_time(T0)),
    )


def test_upgrade_from_v4_marks_what_awaits_settlement(tmp_path: Path) -> None:
    """v5 finds the confirmed alerts with no settled or retracted follow-up, and keeps them so."""
    from nemwatch.core.store.settling import due_for_settlement

    path = tmp_path / "nemwatch.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, "core", CORE_MIGRATIONS, target=4) == 4
    for identity in ("waits", "settled", "voided"):
        _insert_v4_transfer(conn, identity, 100, "confirmed")
    _insert_v4_transfer(conn, "pooled", None, "unconfirmed")
    waits = _alert("waits", Stage.CONFIRMED)
    for alert in (
        waits,
        _alert("settled", Stage.CONFIRMED), _alert("settled", Stage.SETTLED, minute=20),
        _alert("voided", Stage.CONFIRMED), _alert("voided", Stage.RETRACTED, minute=5),
        _alert("pooled", Stage.UNCONFIRMED),
        _alert("waits", Stage.CONFIRMED, rule="price_above"),  # not a settling rule
    ):
        _insert_v4_alert(conn, alert)
    conn.close()

    store = Store.open(path)
    assert store.schema_version() == CORE_VERSION
    awaiting = [r[0] for r in store.connection.execute("SELECT alert_id FROM alerts WHERE awaiting = 1")]
    assert awaiting == [waits.alert_id]
    assert [a for a, _ in due_for_settlement(store, 120)] == [waits]
    assert [r.identity for r in store.unconfirmed_transfers()] == ["pooled"]
    # from now on the triggers keep it: a settled alert ends the wait, a new confirmed one begins one
    store.add_alerts([_alert("waits", Stage.SETTLED, minute=30), _alert("pooled", Stage.CONFIRMED, minute=31)], ["stdout"])
    assert due_for_settlement(store, 120) == []
    store.connection.execute("UPDATE transfers SET status = 'confirmed', height = 101 WHERE identity = 'pooled'")
    assert [(a.tx_hash, h) for a, h in due_for_settlement(store, 120)] == [("pooled", 101)]
    assert store.integrity_check() == "ok"
    store.close()


def test_one_time_encoding_across_the_file(tmp_path: Path) -> None:
    """Every stored time, in every component's table, is fixed-width UTC text after the upgrade
    (the price tables of version 1 held epoch microseconds)."""
    from nemwatch.core.price.store import MIGRATIONS as PRICE_MIGRATIONS
    from nemwatch.core.price.store import PriceStore
    from nemwatch.core.store.rows import from_db_time

    path = tmp_path / "nemwatch.sqlite3"
    old = _v1_database(path)
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, "price", PRICE_MIGRATIONS, target=1)
    us = int(T0.timestamp()) * 1_000_000
    conn.execute("INSERT INTO price_ticks VALUES ('zaif', 'xem_jpy', ?, '88.1', 0, NULL, NULL, NULL, NULL)", (us,))
    conn.execute("INSERT INTO price_trades VALUES ('zaif', 'xem_jpy', '7', ?, '88.5', '10', 'bid')", (us + 1,))
    conn.execute("INSERT INTO price_candles VALUES ('zaif', 'xem_jpy', 60, ?, '1', '2', '0.5', '1.5', '9', NULL)", (us,))
    conn.execute("INSERT INTO price_coverage VALUES ('zaif', 'xem_jpy', 'trades', ?, ?)", (us, us + 60_000_000))
    conn.close()
    store = Store.open(path)
    store.journal_record(old.alert_id, 10, T0)
    store.mark_delivered(old.alert_id, "stdout", T0)
    store.upsert_account("NSENDER", label=None, urgent=False, now=T0)
    store.set_last_activity("NSENDER", T0)
    prices = PriceStore(path)
    assert prices.latest_tick("xem_jpy").at == T0  # type: ignore[union-attr]
    time_columns = {
        "transfers": ("tx_time", "first_seen"), "accounts": ("added_at", "last_activity"),
        "alerts": ("created_at",), "outbox": ("next_attempt_at", "settled_at"), "journal": ("written_at",),
        "price_ticks": ("at",), "price_trades": ("at",), "price_candles": ("start",),
        "price_coverage": ("start", "end"),
    }
    for table, columns in time_columns.items():
        for column in columns:
            values = store.connection.execute(f"SELECT typeof({column}), {column} FROM {table}").fetchall()
            assert values, (table, column)
            for kind, value in values:
                assert kind == "text", (table, column, kind)
                assert from_db_time(value) is not None and len(value) == 27, (table, column, value)
    prices.close()
    store.close()


def test_other_components_keep_their_own_version(tmp_path: Path) -> None:
    path = tmp_path / "nemwatch.sqlite3"
    store = Store.open(path)
    price_steps = (("CREATE TABLE ticks (source TEXT, price TEXT)",), ("ALTER TABLE ticks ADD COLUMN at TEXT",))
    assert migrate(store.connection, "price", price_steps) == 2
    assert schema_version(store.connection, "price") == 2
    assert store.schema_version() == CORE_VERSION
    store.close()
    reopened = Store.open(path)
    assert reopened.schema_version("price") == 2
    reopened.close()


def test_a_failing_step_leaves_the_previous_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    steps = (("CREATE TABLE a (x)",), ("CREATE TABLE b (y)", "CREATE TABLE a (x)"))
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, "demo", steps)
    assert schema_version(conn, "demo") == 1
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'b'").fetchone()[0] == 0
    conn.close()


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nemwatch.sqlite3"
    Store.open(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE schema_versions SET version = 99 WHERE component = 'core'")
    conn.close()
    with pytest.raises(SchemaError, match="newer"):
        Store.open(path)
