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
    assert store.schema_version() == CORE_VERSION == 4
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
    assert store.integrity_check() == "ok"
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
