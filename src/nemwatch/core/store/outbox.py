"""Store tables for alerts: the alert log, the delivery outbox, the journal bookkeeping.

An alert is stored once (``INSERT OR IGNORE`` by ``alert_id``), with one outbox row per sink.
Delivery happens after the commit that stored the alert; each attempt's outcome is written
back here: ``delivered``, ``pending`` again with a later ``next_attempt_at``, or ``dead``.
Error text given to ``mark_failed``/``mark_dead`` must already be redacted: the store cannot
know a sink's secrets.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime

from nemwatch.core.alert import Alert, alert_from_json_dict
from nemwatch.core.store.base import StoreBase
from nemwatch.core.store.rows import Delivery, DeliveryState, OutboxRow, from_db_time, to_db_time

ERROR_MAX_LEN = 500


def alert_identity(alert: Alert) -> str | None:
    """The transaction an alert is about: inner hash for multisig, else the hash."""
    return alert.inner_hash or alert.tx_hash


def _alert(row: sqlite3.Row) -> Alert:
    return alert_from_json_dict(json.loads(row["json"]))


def _outbox(row: sqlite3.Row) -> OutboxRow:
    next_at = from_db_time(row["next_attempt_at"])
    assert next_at is not None
    return OutboxRow(
        alert_id=row["alert_id"],
        sink=row["sink"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=next_at,
        last_error=row["last_error"],
        settled_at=from_db_time(row["settled_at"]),
    )


def _sink_filter(sinks: Iterable[str] | None) -> tuple[str, list[object]]:
    if sinks is None:
        return "", []
    names = list(sinks)
    return f" AND o.sink IN ({','.join('?' * len(names))})", list(names)


class AlertTables(StoreBase):
    # -- the alert log --------------------------------------------------------------------

    def add_alerts(self, alerts: Iterable[Alert], sinks: Iterable[str]) -> list[Alert]:
        """Store alerts not seen before and queue each new one for every sink.

        An alert whose ``alert_id`` is already stored is ignored (a re-processed block or a
        restart never creates a duplicate alert or delivery). Returns the newly added alerts,
        in the given order.
        """
        sink_names = list(dict.fromkeys(sinks))
        added: list[Alert] = []
        with self.transaction():
            for alert in alerts:
                created = to_db_time(alert.detected_at)
                cur = self._conn.execute(
                    "INSERT OR IGNORE INTO alerts (alert_id, rule, stage, severity, address, identity, json, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        alert.alert_id,
                        alert.rule,
                        alert.stage.value,
                        alert.severity.value,
                        alert.address,
                        alert_identity(alert),
                        alert.to_json_line(),
                        created,
                    ),
                )
                if cur.rowcount != 1:
                    continue
                added.append(alert)
                self._conn.executemany(
                    "INSERT OR IGNORE INTO outbox (alert_id, sink, state, attempts, next_attempt_at) "
                    "VALUES (?, ?, 'pending', 0, ?)",
                    [(alert.alert_id, sink, created) for sink in sink_names],
                )
        return added

    def alert_exists(self, alert_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM alerts WHERE alert_id = ?", (alert_id,)))

    def get_alert(self, alert_id: str) -> Alert | None:
        rows = self._read("SELECT json FROM alerts WHERE alert_id = ?", (alert_id,))
        return _alert(rows[0]) if rows else None

    def alerts_for_identity(self, identity: str) -> list[Alert]:
        """Every alert about one transaction (any rule, any stage), oldest first."""
        rows = self._read(
            "SELECT json FROM alerts WHERE identity = ? ORDER BY created_at, rowid", (identity,)
        )
        return [_alert(r) for r in rows]

    def recent_alerts(self, limit: int = 50) -> list[Alert]:
        """The newest alerts first (the dashboard's alert list)."""
        rows = self._read("SELECT json FROM alerts ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,))
        return [_alert(r) for r in rows]

    # -- the outbox -----------------------------------------------------------------------

    def pending_deliveries(
        self, now: datetime, limit: int = 100, sinks: Iterable[str] | None = None
    ) -> list[Delivery]:
        """Outbox rows due at ``now`` (oldest alert first), for the given sinks when named.

        Rows for a sink no longer configured stay pending and are delivered if it comes back.
        """
        where, params = _sink_filter(sinks)
        rows = self._read(
            "SELECT o.sink, o.attempts, a.json, a.created_at FROM outbox o JOIN alerts a USING (alert_id) "
            f"WHERE o.state = 'pending' AND o.next_attempt_at <= ?{where} "
            "ORDER BY a.created_at, a.rowid, o.sink LIMIT ?",
            (to_db_time(now), *params, limit),
        )
        out = []
        for r in rows:
            created = from_db_time(r["created_at"])
            assert created is not None
            out.append(Delivery(_alert(r), r["sink"], r["attempts"], created))
        return out

    def next_attempt_at(self, sinks: Iterable[str] | None = None) -> datetime | None:
        """When the earliest pending row falls due (None when nothing is pending)."""
        where, params = _sink_filter(sinks)
        rows = self._read(
            f"SELECT min(o.next_attempt_at) AS t FROM outbox o WHERE o.state = 'pending'{where}", tuple(params)
        )
        return from_db_time(rows[0]["t"]) if rows else None

    def mark_delivered(self, alert_id: str, sink: str, at: datetime) -> bool:
        """Record a successful attempt; False when the row was not pending."""
        return self._settle(alert_id, sink, DeliveryState.DELIVERED, None, at)

    def mark_dead(self, alert_id: str, sink: str, error: str, at: datetime) -> bool:
        """Give up on a delivery (a permanent error, or retried for too long)."""
        return self._settle(alert_id, sink, DeliveryState.DEAD, error, at)

    def mark_failed(self, alert_id: str, sink: str, error: str, next_attempt_at: datetime) -> bool:
        """Record a failed attempt and when to try again (the row stays pending)."""
        changed = self._write(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
            "WHERE alert_id = ? AND sink = ? AND state = 'pending'",
            (error[:ERROR_MAX_LEN], to_db_time(next_attempt_at), alert_id, sink),
        )
        return changed > 0

    def _settle(
        self, alert_id: str, sink: str, state: DeliveryState, error: str | None, at: datetime
    ) -> bool:
        changed = self._write(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = coalesce(?, last_error), "
            "settled_at = ? WHERE alert_id = ? AND sink = ? AND state = 'pending'",
            (
                state.value,
                error[:ERROR_MAX_LEN] if error is not None else None,
                to_db_time(at),
                alert_id,
                sink,
            ),
        )
        return changed > 0

    def outbox_rows(self, alert_id: str | None = None) -> list[OutboxRow]:
        if alert_id is None:
            rows = self._read("SELECT * FROM outbox ORDER BY rowid")
        else:
            rows = self._read("SELECT * FROM outbox WHERE alert_id = ? ORDER BY sink", (alert_id,))
        return [_outbox(r) for r in rows]

    def outbox_counts(self) -> dict[str, int]:
        """Rows per state: ``{"pending": n, "delivered": n, "dead": n}``."""
        counts = {s.value: 0 for s in DeliveryState}
        for r in self._read("SELECT state, count(*) AS n FROM outbox GROUP BY state"):
            counts[r["state"]] = r["n"]
        return counts

    # -- the local journal's bookkeeping --------------------------------------------------

    def journal_has(self, alert_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM journal WHERE alert_id = ?", (alert_id,)))

    def journal_record(self, alert_id: str, end_offset: int, at: datetime) -> None:
        """Remember that the journal holds ``alert_id`` in a line ending at byte ``end_offset``."""
        self._write(
            "INSERT OR IGNORE INTO journal (alert_id, end_offset, written_at) VALUES (?, ?, ?)",
            (alert_id, end_offset, to_db_time(at)),
        )

    def journal_end(self) -> int:
        """Where the most recently recorded line ends: the journal is known up to this byte."""
        rows = self._read("SELECT end_offset FROM journal ORDER BY rowid DESC LIMIT 1")
        return int(rows[0]["end_offset"]) if rows else 0

    # -- dead letters ---------------------------------------------------------------------

    def dead_letters(self, sink: str | None = None, limit: int = 500) -> list[tuple[OutboxRow, Alert]]:
        """Dead-lettered deliveries with their alerts, newest first (``nemwatch outbox``)."""
        where, params = _sink_filter(None if sink is None else [sink])
        rows = self._read(
            "SELECT o.*, a.json FROM outbox o JOIN alerts a USING (alert_id) "
            f"WHERE o.state = 'dead'{where} ORDER BY o.settled_at DESC, o.rowid DESC LIMIT ?",
            (*params, limit),
        )
        return [(_outbox(r), _alert(r)) for r in rows]

    def requeue_dead(self, now: datetime, alert_ids: Iterable[str] | None = None, sink: str | None = None) -> int:
        """Put dead letters back in the outbox, due at ``now`` with their attempts reset; all of
        them, or those of ``alert_ids`` and/or ``sink``. Returns how many were requeued."""
        clauses, params = ["state = 'dead'"], [to_db_time(now)]
        if alert_ids is not None:
            ids = list(alert_ids)
            clauses.append(f"alert_id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        if sink is not None:
            clauses.append("sink = ?")
            params.append(sink)
        return self._write(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, settled_at = NULL "
            f"WHERE {' AND '.join(clauses)}",
            tuple(params),
        )

    def dead_episode_start(self, sink: str) -> str | None:
        """The alert id of the first dead letter of ``sink`` since its last delivery: the start of
        an episode of broken delivery still going on; None when the sink's last outcome was good."""
        rows = self._read(
            "SELECT alert_id FROM outbox WHERE sink = ? AND state = 'dead' AND settled_at > coalesce("
            "(SELECT max(settled_at) FROM outbox WHERE sink = ? AND state = 'delivered'), '') "
            "ORDER BY settled_at, rowid LIMIT 1",
            (sink, sink),
        )
        return rows[0]["alert_id"] if rows else None

    def dead_letter_sink(self, sink: str, note: str, at: datetime) -> int:
        """Dead-letter every pending row of ``sink`` (a sink removed from the config) with ``note``."""
        return self._write(
            "UPDATE outbox SET state = 'dead', last_error = ?, settled_at = ? WHERE sink = ? AND state = 'pending'",
            (note[:ERROR_MAX_LEN], to_db_time(at), sink),
        )
