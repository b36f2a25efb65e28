"""Store reads for the faces: filtered, keyset-paged alerts and transfers, last movements,
and the dashboard's alert acknowledgements.

Paging is by key, never by offset: a page ends with the key of its last row and the next page
starts strictly after it, so rows arriving meanwhile neither repeat nor vanish from a listing.
Acknowledgements live in their own table (component ``dashboard`` in ``schema_versions``),
created on first write, so a store opened read-only still reads everything else.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from nemwatch.core.alert import Alert
from nemwatch.core.store.base import StoreBase
from nemwatch.core.store.chain import _transfer
from nemwatch.core.store.migrations import migrate
from nemwatch.core.store.outbox import _alert
from nemwatch.core.store.rows import TransferRow, TransferStatus, from_db_time, to_db_time

ACK_COMPONENT = "dashboard"
ACK_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE IF NOT EXISTS alert_acks (
            alert_id  TEXT PRIMARY KEY,
            acked_at  TEXT NOT NULL
        )
        """,
    ),
    # v2: acknowledged alerts still in the log, per severity (``acked:<severity>`` in the core's
    # ``row_counts``), kept by triggers, so the unread count reads two small rows
    (
        "DELETE FROM row_counts WHERE name LIKE 'acked:%'",
        "INSERT INTO row_counts (name, n) SELECT 'acked:' || a.severity, count(*) FROM alert_acks k "
        "JOIN alerts a ON a.alert_id = k.alert_id GROUP BY a.severity",
        """
        CREATE TRIGGER count_ack_insert AFTER INSERT ON alert_acks
        WHEN EXISTS (SELECT 1 FROM alerts WHERE alert_id = new.alert_id)
        BEGIN
            INSERT INTO row_counts (name, n)
            VALUES ('acked:' || (SELECT severity FROM alerts WHERE alert_id = new.alert_id), 1)
            ON CONFLICT (name) DO UPDATE SET n = n + 1;
        END
        """,
        """
        CREATE TRIGGER count_ack_delete AFTER DELETE ON alert_acks
        WHEN EXISTS (SELECT 1 FROM alerts WHERE alert_id = old.alert_id)
        BEGIN
            UPDATE row_counts SET n = n - 1
             WHERE name = 'acked:' || (SELECT severity FROM alerts WHERE alert_id = old.alert_id);
        END
        """,
        """
        CREATE TRIGGER count_acked_alert_delete AFTER DELETE ON alerts
        WHEN EXISTS (SELECT 1 FROM alert_acks WHERE alert_id = old.alert_id)
        BEGIN
            UPDATE row_counts SET n = n - 1 WHERE name = 'acked:' || old.severity;
        END
        """,
        """
        CREATE TRIGGER count_acked_alert_severity AFTER UPDATE OF severity ON alerts
        WHEN old.severity != new.severity AND EXISTS (SELECT 1 FROM alert_acks WHERE alert_id = new.alert_id)
        BEGIN
            UPDATE row_counts SET n = n - 1 WHERE name = 'acked:' || old.severity;
            INSERT INTO row_counts (name, n) VALUES ('acked:' || new.severity, 1)
            ON CONFLICT (name) DO UPDATE SET n = n + 1;
        END
        """,
    ),
)
_NO_HEIGHT = 1 << 62  # unconfirmed transfers sort above every confirmed height
_MAX_IN = 900  # bound parameters per IN list (SQLite's limit is far above)


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert with its place in the log: ``key`` pages after it."""

    alert: Alert
    created_at: datetime
    seq: int

    @property
    def key(self) -> tuple[str, int]:
        return (to_db_time(self.created_at), self.seq)


@dataclass(frozen=True, slots=True)
class LastMove:
    """The newest transfer that touched an address (retracted ones excluded)."""

    address: str
    at: datetime
    micro_xem: int
    outgoing: bool


def transfer_key(row: TransferRow) -> tuple[int, str, str]:
    """Where a transfer sits in a newest-first listing; pass it back as ``before``."""
    return (row.height if row.height is not None else _NO_HEIGHT, to_db_time(row.tx_time), row.identity)


def _in(column: str, values: Sequence[object]) -> tuple[str, list[object]]:
    return f" AND {column} IN ({','.join('?' * len(values))})", list(values)


class ReadTables(StoreBase):
    # -- alerts ---------------------------------------------------------------------------

    def _alert_where(
        self,
        rules: Sequence[str],
        severities: Sequence[str],
        stages: Sequence[str],
        address: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> tuple[str, list[object]]:
        sql, params = " WHERE 1 = 1", []
        for column, values in (("rule", rules), ("severity", severities), ("stage", stages)):
            if values:
                part, extra = _in(column, values)
                sql += part
                params += extra
        if address is not None:
            sql += " AND (address = ? OR json_extract(json, '$.counterparty') = ?)"
            params += [address, address]
        if since is not None:
            sql += " AND created_at >= ?"
            params.append(to_db_time(since))
        if until is not None:
            sql += " AND created_at < ?"
            params.append(to_db_time(until))
        return sql, params

    def query_alerts(
        self,
        *,
        rules: Sequence[str] = (),
        severities: Sequence[str] = (),
        stages: Sequence[str] = (),
        address: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: tuple[str, int] | None = None,
        limit: int = 50,
        oldest_first: bool = False,
    ) -> list[StoredAlert]:
        """Alerts matching every given filter, newest first (or oldest first), after ``before``."""
        where, params = self._alert_where(rules, severities, stages, address, since, until)
        if before is not None:
            where += " AND (created_at, rowid) > (?, ?)" if oldest_first else " AND (created_at, rowid) < (?, ?)"
            params += [before[0], before[1]]
        order = "ASC" if oldest_first else "DESC"
        rows = self._read(
            f"SELECT rowid AS seq, json, created_at FROM alerts{where} "
            f"ORDER BY created_at {order}, rowid {order} LIMIT ?",
            (*params, limit),
        )
        out = []
        for r in rows:
            created = from_db_time(r["created_at"])
            assert created is not None
            out.append(StoredAlert(_alert(r), created, r["seq"]))
        return out

    def alert_severity_counts(self, *, unacked_only: bool = False) -> dict[str, int]:
        """Alerts per severity (all of them, or those nobody acknowledged): read from the kept
        counts (schema v6), counted row by row only on an older store opened read-only."""
        if self._has_table("row_counts") and (not unacked_only or not self._has_acks() or self._acks_counted()):
            kept = self._counts("alerts:")
            if unacked_only:
                for severity, n in self._counts("acked:").items():
                    kept[severity] = kept.get(severity, 0) - n
            return {severity: n for severity, n in kept.items() if n > 0}
        sql = "SELECT severity, count(*) AS n FROM alerts"
        if unacked_only and self._has_acks():
            sql += " WHERE alert_id NOT IN (SELECT alert_id FROM alert_acks)"
        return {r["severity"]: r["n"] for r in self._read(sql + " GROUP BY severity")}

    def _counts(self, prefix: str) -> dict[str, int]:
        rows = self._read(
            "SELECT name, n FROM row_counts WHERE name > ? AND name < ?", (prefix, prefix + "\uffff")
        )
        return {r["name"][len(prefix):]: int(r["n"]) for r in rows}

    def _has_table(self, name: str) -> bool:
        return bool(self._read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def _acks_counted(self) -> bool:
        return bool(self._read("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'count_ack_insert'"))

    # -- acknowledgements -----------------------------------------------------------------

    def _has_acks(self) -> bool:
        return bool(self._read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alert_acks'"))

    def ensure_ack_table(self) -> None:
        with self._lock:
            migrate(self._conn, ACK_COMPONENT, ACK_MIGRATIONS)

    def acknowledge_alerts(self, alert_ids: Iterable[str], at: datetime) -> int:
        """Mark alerts acknowledged (idempotent); returns how many were newly acknowledged."""
        self.ensure_ack_table()
        stamp = to_db_time(at)
        with self.transaction():
            return sum(
                self._conn.execute(
                    "INSERT OR IGNORE INTO alert_acks (alert_id, acked_at) "
                    "SELECT alert_id, ? FROM alerts WHERE alert_id = ?",
                    (stamp, alert_id),
                ).rowcount
                for alert_id in alert_ids
            )

    def acknowledge_all_alerts(self, at: datetime) -> int:
        self.ensure_ack_table()
        return self._write(
            "INSERT OR IGNORE INTO alert_acks (alert_id, acked_at) SELECT alert_id, ? FROM alerts", (to_db_time(at),)
        )

    def acknowledged(self, alert_ids: Sequence[str]) -> set[str]:
        """Which of ``alert_ids`` were acknowledged."""
        if not alert_ids or not self._has_acks():
            return set()
        found: set[str] = set()
        for i in range(0, len(alert_ids), _MAX_IN):
            chunk = list(alert_ids[i : i + _MAX_IN])
            rows = self._read(
                f"SELECT alert_id FROM alert_acks WHERE alert_id IN ({','.join('?' * len(chunk))})", tuple(chunk)
            )
            found.update(r["alert_id"] for r in rows)
        return found

    # -- transfers ------------------------------------------------------------------------

    def transfers_page(
        self,
        *,
        address: str | None = None,
        before: tuple[int, str, str] | None = None,
        limit: int = 50,
        statuses: Iterable[TransferStatus] = (TransferStatus.CONFIRMED, TransferStatus.UNCONFIRMED),
    ) -> list[TransferRow]:
        """Transfers (of one address, or all stored ones), newest first, after ``before``
        (a ``transfer_key``). Unconfirmed ones come first: they are the newest."""
        wanted = [s.value for s in statuses]
        where, params = _in("status", wanted)
        sql = "SELECT * FROM transfers WHERE 1 = 1" + where
        if address is not None:
            sql += " AND (sender = ? OR recipient = ?)"
            params += [address, address]
        hkey = f"coalesce(height, {_NO_HEIGHT})"
        if before is not None:
            sql += f" AND ({hkey}, tx_time, identity) < (?, ?, ?)"
            params += list(before)
        sql += f" ORDER BY {hkey} DESC, tx_time DESC, identity DESC LIMIT ?"
        return [_transfer(r) for r in self._read(sql, (*params, limit))]

    def count_transfers(self, address: str | None = None) -> int:
        if address is None:
            if self._has_table("row_counts"):
                kept = self._read("SELECT n FROM row_counts WHERE name = 'transfers'")
                return int(kept[0]["n"]) if kept else 0
            return int(self._read("SELECT count(*) AS n FROM transfers WHERE status != 'retracted'")[0]["n"])
        rows = self._read(
            "SELECT count(*) AS n FROM transfers WHERE status != 'retracted' AND (sender = ? OR recipient = ?)",
            (address, address),
        )
        return int(rows[0]["n"])

    def last_moves(self, addresses: Sequence[str] | None = None) -> dict[str, LastMove]:
        """Each address's newest transfer in or out (all addresses when None): by time, then
        identity; a transfer to itself counts as outgoing.

        For given addresses, two index steps per address (``transfers_last_out`` / ``_in``,
        schema v6: the partial indexes on (sender or recipient, tx_time, identity) of transfers
        not retracted), so 10,000 addresses take milliseconds on a store of millions of rows."""
        if addresses is None:
            return self._all_last_moves()
        wanted = list(dict.fromkeys(addresses))
        out: dict[str, LastMove] = {}
        pick = "SELECT rowid FROM transfers WHERE {col} = a.value AND status != 'retracted' " \
               "ORDER BY tx_time DESC, identity DESC LIMIT 1"
        for i in range(0, len(wanted), 5000):
            rows = self._read(
                "WITH picks AS (SELECT a.value AS address,"
                f" ({pick.format(col='sender')}) AS out_id, ({pick.format(col='recipient')}) AS in_id"
                " FROM json_each(?) AS a)"
                " SELECT picked.address, t.tx_time, t.identity, t.xem, 1 AS outgoing FROM picks picked"
                " JOIN transfers t ON t.rowid = picked.out_id"
                " UNION ALL SELECT picked.address, t.tx_time, t.identity, t.xem, 0 FROM picks picked"
                " JOIN transfers t ON t.rowid = picked.in_id",
                (json.dumps(wanted[i : i + 5000]),),
            )
            best: dict[str, sqlite3.Row] = {}
            for r in rows:
                held = best.get(r["address"])
                if held is None or (r["tx_time"], r["identity"], r["outgoing"]) > (
                    held["tx_time"], held["identity"], held["outgoing"]
                ):
                    best[r["address"]] = r
            for address, r in best.items():
                at = from_db_time(r["tx_time"])
                assert at is not None
                out[address] = LastMove(address, at, r["xem"], bool(r["outgoing"]))
        return out

    def balance_moves_since_read(self, addresses: Sequence[str] | None = None) -> dict[str, int]:
        """Net micro-XEM that confirmed transfers moved for each account above the height of
        its last balance read (``set_balance``): amounts received minus amounts sent and their
        fees, as ``rules.explained_change`` counts a balance change. Only accounts with a
        balance read at a known height appear (0 when nothing moved since); all of them when
        ``addresses`` is None. Two index steps an account (``transfers_by_sender`` and
        ``_by_recipient`` on (address, height)); about 0.2 s for 10,000 accounts."""
        moved = (
            "SELECT a.address,"
            " coalesce((SELECT sum(t.xem) FROM transfers t WHERE t.recipient = a.address"
            "  AND t.height > a.balance_height AND t.status = 'confirmed'), 0)"
            " - coalesce((SELECT sum(t.xem + t.fee) FROM transfers t WHERE t.sender = a.address"
            "  AND t.height > a.balance_height AND t.status = 'confirmed'), 0)"
            " FROM accounts a WHERE a.balance_height IS NOT NULL"
        )
        if addresses is None:
            return {row[0]: int(row[1]) for row in self._read(moved)}
        wanted = list(dict.fromkeys(addresses))
        out: dict[str, int] = {}
        for i in range(0, len(wanted), 5000):
            rows = self._read(
                moved + " AND a.address IN (SELECT value FROM json_each(?))", (json.dumps(wanted[i : i + 5000]),)
            )
            out.update({row[0]: int(row[1]) for row in rows})
        return out

    def _all_last_moves(self) -> dict[str, LastMove]:
        rows = self._read(
            "WITH moves AS ("
            " SELECT sender AS address, tx_time, xem, 1 AS outgoing, identity FROM transfers WHERE status != 'retracted'"
            " UNION ALL SELECT recipient, tx_time, xem, 0, identity FROM transfers WHERE status != 'retracted'),"
            " ranked AS (SELECT *, row_number() OVER (PARTITION BY address"
            " ORDER BY tx_time DESC, identity DESC, outgoing DESC) AS rn FROM moves)"
            " SELECT address, tx_time, xem, outgoing FROM ranked WHERE rn = 1"
        )
        out: dict[str, LastMove] = {}
        for r in rows:
            at = from_db_time(r["tx_time"])
            assert at is not None
            out[r["address"]] = LastMove(r["address"], at, r["xem"], bool(r["outgoing"]))
        return out


def is_readonly_error(err: BaseException) -> bool:
    return isinstance(err, sqlite3.OperationalError) and "readonly" in str(err).replace("-", "").lower()


__all__ = ["LastMove", "ReadTables", "StoredAlert", "is_readonly_error", "transfer_key"]
