"""The core tables of the state database, as forward migrations.

Each entry of ``CORE_MIGRATIONS`` is one schema version: a tuple of SQL statements that take the
database from the previous version to this one. Version ``n`` is ``CORE_MIGRATIONS[n - 1]``.
Never edit a released step; append a new one. The price side keeps its own steps and its own
row in ``schema_versions`` (see ``nemwatch.core.store.migrations``).

Times are stored as fixed-width UTC text (``2018-01-26T00:02:13.000000Z``) so that text order is
time order. Money is integer micro-XEM.
"""

from __future__ import annotations

COMPONENT = "core"

# v1: the chain window, transfers, watched accounts, cursors, the alert log and its outbox.
_V1 = (
    """
    CREATE TABLE blocks (
        height     INTEGER PRIMARY KEY,
        hash       TEXT,
        prev_hash  TEXT NOT NULL,
        signature  TEXT NOT NULL,
        timestamp  TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE transfers (
        identity      TEXT PRIMARY KEY,
        hash          TEXT NOT NULL,
        inner_hash    TEXT,
        height        INTEGER,
        sender        TEXT NOT NULL,
        recipient     TEXT NOT NULL,
        initiator     TEXT,
        xem           INTEGER NOT NULL,
        fee           INTEGER NOT NULL,
        mosaics       TEXT NOT NULL DEFAULT '[]',
        message       TEXT,
        message_type  TEXT,
        tx_time       TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('unconfirmed', 'confirmed', 'retracted')),
        first_seen    TEXT NOT NULL
    )
    """,
    "CREATE INDEX transfers_by_height ON transfers (height)",
    "CREATE INDEX transfers_by_sender ON transfers (sender, height)",
    "CREATE INDEX transfers_by_recipient ON transfers (recipient, height)",
    """
    CREATE TABLE accounts (
        address                TEXT PRIMARY KEY,
        label                  TEXT,
        urgent                 INTEGER NOT NULL DEFAULT 0,
        balance                INTEGER,
        balance_height         INTEGER,
        last_activity          TEXT,
        backfilled_until_hash  TEXT,
        added_at               TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE cursors (
        name    TEXT PRIMARY KEY,
        height  INTEGER NOT NULL,
        hash    TEXT
    )
    """,
    """
    CREATE TABLE alerts (
        alert_id    TEXT PRIMARY KEY,
        rule        TEXT NOT NULL,
        stage       TEXT NOT NULL,
        severity    TEXT NOT NULL,
        address     TEXT,
        json        TEXT NOT NULL,
        created_at  TEXT NOT NULL
    )
    """,
    "CREATE INDEX alerts_by_time ON alerts (created_at)",
    """
    CREATE TABLE outbox (
        alert_id         TEXT NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
        sink             TEXT NOT NULL,
        state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  TEXT NOT NULL,
        last_error       TEXT,
        PRIMARY KEY (alert_id, sink)
    )
    """,
    "CREATE INDEX outbox_due ON outbox (state, next_attempt_at)",
)

# v2: alerts are looked up by the transaction they are about (inner hash for multisig), and
# the outbox remembers when a row was settled.
_V2 = (
    "ALTER TABLE alerts ADD COLUMN identity TEXT",
    """
    UPDATE alerts
       SET identity = coalesce(json_extract(json, '$.inner_hash'), json_extract(json, '$.tx_hash'))
    """,
    "CREATE INDEX alerts_by_identity ON alerts (identity)",
    "ALTER TABLE outbox ADD COLUMN settled_at TEXT",
)

# v3: the local alert journal's bookkeeping: which alert ids the JSONL file holds, and where
# each line ends, so a restart only scans what was written after the last record.
_V3 = (
    """
    CREATE TABLE journal (
        alert_id    TEXT PRIMARY KEY,
        end_offset  INTEGER NOT NULL,
        written_at  TEXT NOT NULL
    )
    """,
)

# v4: every transaction that debits a watched account is stored as a movement, not only
# transfers: its kind, the mosaic levies it paid and what it changed (``detail``, JSON). Mosaic
# definitions (divisibility, levy) learned from the chain or a node, to price levies.
_V4 = (
    "ALTER TABLE transfers ADD COLUMN kind TEXT NOT NULL DEFAULT 'transfer'",
    "ALTER TABLE transfers ADD COLUMN levies TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE transfers ADD COLUMN detail TEXT",
    """
    CREATE TABLE mosaic_definitions (
        mosaic_id       TEXT PRIMARY KEY,
        divisibility    INTEGER,
        levy_type       INTEGER,
        levy_recipient  TEXT,
        levy_mosaic     TEXT,
        levy_fee        INTEGER,
        height          INTEGER,
        learned_at      TEXT NOT NULL
    )
    """,
)

# The rules whose ``confirmed`` alert is followed by a ``settled`` one (core.store.settling).
_SETTLING_RULES = "('outflow', 'inflow', 'multisig_change', 'importance_transfer')"

# v5: what the engine asks every cycle is answered from small partial indexes, not full scans,
# so a store of a busy year (a million transfers, hundreds of thousands of alerts) stays fast:
# - ``alerts.awaiting`` is 1 while a ``confirmed`` alert of a settling rule has no ``settled`` or
#   ``retracted`` follow-up yet (kept by the two triggers), indexed where it is 1;
# - unconfirmed transfers, pending outbox rows, and the newest-first transfer listing have their
#   own indexes; alerts are counted per severity from an index.
# Times stay fixed-width UTC text (``to_db_time``) in every table of the file.
_V5 = (
    "ALTER TABLE alerts ADD COLUMN awaiting INTEGER",
    f"""
    UPDATE alerts SET awaiting = 1
     WHERE stage = 'confirmed' AND rule IN {_SETTLING_RULES} AND identity IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM alerts s
                        WHERE s.identity = alerts.identity AND s.rule = alerts.rule
                          AND s.stage IN ('settled', 'retracted') AND s.rowid > alerts.rowid)
    """,
    "CREATE INDEX alerts_awaiting ON alerts (identity) WHERE awaiting = 1",
    f"""
    CREATE TRIGGER alerts_awaiting_begin AFTER INSERT ON alerts
    WHEN new.stage = 'confirmed' AND new.rule IN {_SETTLING_RULES} AND new.identity IS NOT NULL
    BEGIN
        UPDATE alerts SET awaiting = 1 WHERE rowid = new.rowid;
    END
    """,
    """
    CREATE TRIGGER alerts_awaiting_end AFTER INSERT ON alerts
    WHEN new.stage IN ('settled', 'retracted') AND new.identity IS NOT NULL
    BEGIN
        UPDATE alerts SET awaiting = NULL
         WHERE identity = new.identity AND awaiting = 1 AND rule = new.rule AND rowid < new.rowid;
    END
    """,
    "CREATE INDEX transfers_unconfirmed ON transfers (first_seen, identity) WHERE status = 'unconfirmed'",
    "CREATE INDEX transfers_newest ON transfers (coalesce(height, 4611686018427387904), tx_time, identity)",
    "CREATE INDEX transfers_by_time ON transfers (tx_time)",
    "CREATE INDEX outbox_pending ON outbox (sink, next_attempt_at) WHERE state = 'pending'",
    "CREATE INDEX outbox_settled ON outbox (state, settled_at)",
    "DROP INDEX outbox_due",
    "CREATE INDEX alerts_by_severity ON alerts (severity)",
)

# v6: what the dashboard counts every refresh is kept, not counted: ``row_counts`` holds the
# transfers not retracted (``transfers``) and the alerts per severity (``alerts:<severity>``),
# kept by triggers across inserts, status and severity changes and deletes (retention, rewinds);
# the dashboard's acknowledgement step keeps ``acked:<severity>`` the same way. Each account's
# newest movement in and out is one step down an index (``core.store.reads.last_moves``).
_V6 = (
    "CREATE TABLE row_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT INTO row_counts (name, n) SELECT 'transfers', count(*) FROM transfers WHERE status != 'retracted'",
    "INSERT INTO row_counts (name, n) SELECT 'alerts:' || severity, count(*) FROM alerts GROUP BY severity",
    """
    CREATE TRIGGER count_transfer_insert AFTER INSERT ON transfers WHEN new.status != 'retracted'
    BEGIN
        INSERT INTO row_counts (name, n) VALUES ('transfers', 1) ON CONFLICT (name) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER count_transfer_delete AFTER DELETE ON transfers WHEN old.status != 'retracted'
    BEGIN
        UPDATE row_counts SET n = n - 1 WHERE name = 'transfers';
    END
    """,
    """
    CREATE TRIGGER count_transfer_status AFTER UPDATE OF status ON transfers
    WHEN (old.status = 'retracted') != (new.status = 'retracted')
    BEGIN
        INSERT INTO row_counts (name, n) VALUES ('transfers', CASE WHEN new.status = 'retracted' THEN -1 ELSE 1 END)
        ON CONFLICT (name) DO UPDATE SET n = n + excluded.n;
    END
    """,
    """
    CREATE TRIGGER count_alert_insert AFTER INSERT ON alerts
    BEGIN
        INSERT INTO row_counts (name, n) VALUES ('alerts:' || new.severity, 1)
        ON CONFLICT (name) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER count_alert_delete AFTER DELETE ON alerts
    BEGIN
        UPDATE row_counts SET n = n - 1 WHERE name = 'alerts:' || old.severity;
    END
    """,
    """
    CREATE TRIGGER count_alert_severity AFTER UPDATE OF severity ON alerts WHEN old.severity != new.severity
    BEGIN
        UPDATE row_counts SET n = n - 1 WHERE name = 'alerts:' || old.severity;
        INSERT INTO row_counts (name, n) VALUES ('alerts:' || new.severity, 1)
        ON CONFLICT (name) DO UPDATE SET n = n + 1;
    END
    """,
    "CREATE INDEX transfers_last_out ON transfers (sender, tx_time, identity) WHERE status != 'retracted'",
    "CREATE INDEX transfers_last_in ON transfers (recipient, tx_time, identity) WHERE status != 'retracted'",
)

CORE_MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5, _V6)
CORE_VERSION = len(CORE_MIGRATIONS)
