"""Store reads for the faces: filtered, keyset-paged alerts and transfers, last movements,
and the dashboard's alert acknowledgements.

Paging is by key, never by offset: a page ends with the key of its last row and the next page
starts strictly after it, so rows arriving meanwhile neither repeat nor vanish from a listing.
Acknowledgements live in their own table (component ``dashboard`` in ``schema_versions``),
created on first write, so a store opened read-only still reads everything else.
"""

from __future__ import annotations

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
        """Alerts per severity (all of them, or those nobody acknowledged)."""
        sql = "SELECT severity, count(*) AS n FROM alerts"
        if unacked_only and self._has_acks():
            sql += " WHERE alert_id NOT IN (SELECT alert_id FROM alert_acks)"
        return {r["severity"]: r["n"] for r in self._read(sql + " GROUP BY severity")}

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
            return int(self._read("SELECT count(*) AS n FROM transfers WHERE status != 'retracted'")[0]["n"])
        rows = self._read(
            "SELECT count(*) AS n FROM transfers WHERE status != 'retracted' AND (sender = ? OR recipient = ?)",
            (address, address),
        )
        return int(rows[0]["n"])

    def last_moves(self, addresses: Sequence[str] | None = None) -> dict[str, LastMove]:
        """Each address's newest transfer in or out (all addresses when None)."""
        where, params = "status != 'retracted'", []
        if addresses is not None and len(addresses) <= _MAX_IN:
            if not addresses:
                return {}
            marks = ",".join("?" * len(addresses))
            out_where = f"{where} AND sender IN ({marks})"
            in_where = f"{where} AND recipient IN ({marks})"
            params = [*addresses, *addresses]
        else:
            out_where = in_where = where
        rows = self._read(
            "WITH moves AS ("
            f" SELECT sender AS address, tx_time, xem, 1 AS outgoing, identity FROM transfers WHERE {out_where}"
            f" UNION ALL SELECT recipient, tx_time, xem, 0, identity FROM transfers WHERE {in_where}),"
            " ranked AS (SELECT *, row_number() OVER (PARTITION BY address ORDER BY tx_time DESC, identity DESC) AS rn"
            " FROM moves)"
            " SELECT address, tx_time, xem, outgoing FROM ranked WHERE rn = 1",
            tuple(params),
        )
        wanted = set(addresses) if addresses is not None else None
        out: dict[str, LastMove] = {}
        for r in rows:
            if wanted is not None and r["address"] not in wanted:
                continue
            at = from_db_time(r["tx_time"])
            assert at is not None
            out[r["address"]] = LastMove(r["address"], at, r["xem"], bool(r["outgoing"]))
        return out


def is_readonly_error(err: BaseException) -> bool:
    return isinstance(err, sqlite3.OperationalError) and "readonly" in str(err).replace("-", "").lower()


__all__ = ["LastMove", "ReadTables", "StoredAlert", "is_readonly_error", "transfer_key"]
