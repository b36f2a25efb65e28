"""Store table of watched accounts: labels, urgency, last known balance, activity, backfill."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from nemwatch.core.store.base import StoreBase
from nemwatch.core.store.rows import AccountRow, from_db_time, to_db_time


def _account(row: sqlite3.Row) -> AccountRow:
    added = from_db_time(row["added_at"])
    assert added is not None
    return AccountRow(
        address=row["address"],
        label=row["label"],
        urgent=bool(row["urgent"]),
        added_at=added,
        balance=row["balance"],
        balance_height=row["balance_height"],
        last_activity=from_db_time(row["last_activity"]),
        backfilled_until_hash=row["backfilled_until_hash"],
    )


class AccountTables(StoreBase):
    def upsert_account(self, address: str, *, label: str | None, urgent: bool, now: datetime) -> None:
        """Add a watched account or update its label and urgency (its history is kept)."""
        self._write(
            "INSERT INTO accounts (address, label, urgent, added_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (address) DO UPDATE SET label = excluded.label, urgent = excluded.urgent",
            (address, label, int(urgent), to_db_time(now)),
        )

    def remove_account(self, address: str) -> bool:
        return self._write("DELETE FROM accounts WHERE address = ?", (address,)) > 0

    def account(self, address: str) -> AccountRow | None:
        rows = self._read("SELECT * FROM accounts WHERE address = ?", (address,))
        return _account(rows[0]) if rows else None

    def accounts(self) -> list[AccountRow]:
        return [_account(r) for r in self._read("SELECT * FROM accounts ORDER BY added_at, address")]

    def set_balance(self, address: str, balance: int, height: int) -> bool:
        """Record the balance (micro-XEM) a node reported at ``height``; False for an unknown account."""
        return (
            self._write(
                "UPDATE accounts SET balance = ?, balance_height = ? WHERE address = ?",
                (balance, height, address),
            )
            > 0
        )

    def set_last_activity(self, address: str, when: datetime) -> bool:
        """Move the last outgoing activity forward (never back: blocks may be re-read)."""
        stamp = to_db_time(when)
        return (
            self._write(
                "UPDATE accounts SET last_activity = ? WHERE address = ? "
                "AND (last_activity IS NULL OR last_activity < ?)",
                (stamp, address, stamp),
            )
            > 0
        )

    def set_backfilled(self, address: str, until_hash: str | None) -> bool:
        return (
            self._write(
                "UPDATE accounts SET backfilled_until_hash = ? WHERE address = ?", (until_hash, address)
            )
            > 0
        )
