"""Store tables that follow the chain: the recent block window, transfers, cursors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from nemwatch.core.store.base import StoreBase
from nemwatch.core.store.rows import (
    BlockRow,
    Cursor,
    TransferRow,
    TransferStatus,
    detail_from_json,
    detail_to_json,
    from_db_time,
    levies_from_json,
    levies_to_json,
    mosaics_from_json,
    mosaics_to_json,
    to_db_time,
)

# Blocks kept below the newest one: more than NIS's 360-block rewrite limit.
BLOCK_WINDOW = 400

_KEEP_CONFIRMED = "(transfers.status = 'confirmed' AND excluded.status = 'unconfirmed')"


def _block(row: sqlite3.Row) -> BlockRow:
    when = from_db_time(row["timestamp"])
    assert when is not None
    return BlockRow(row["height"], row["hash"], row["prev_hash"], row["signature"], when)


def _transfer(row: sqlite3.Row) -> TransferRow:
    tx_time = from_db_time(row["tx_time"])
    first_seen = from_db_time(row["first_seen"])
    assert tx_time is not None and first_seen is not None
    return TransferRow(
        identity=row["identity"],
        hash=row["hash"],
        inner_hash=row["inner_hash"],
        height=row["height"],
        sender=row["sender"],
        recipient=row["recipient"],
        initiator=row["initiator"],
        xem=row["xem"],
        fee=row["fee"],
        mosaics=mosaics_from_json(row["mosaics"]),
        message=row["message"],
        message_type=row["message_type"],
        tx_time=tx_time,
        status=TransferStatus(row["status"]),
        first_seen=first_seen,
        kind=row["kind"],
        levies=levies_from_json(row["levies"]),
        detail=detail_from_json(row["detail"]),
    )


class ChainTables(StoreBase):
    block_window: int = BLOCK_WINDOW

    # -- blocks ---------------------------------------------------------------------------

    def record_block(self, block: BlockRow) -> None:
        """Store (or replace) the block at its height and prune below the window."""
        with self.transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO blocks (height, hash, prev_hash, signature, timestamp) "
                "VALUES (?, ?, ?, ?, ?)",
                (block.height, block.hash, block.prev_hash, block.signature, to_db_time(block.timestamp)),
            )
            self._conn.execute("DELETE FROM blocks WHERE height <= ?", (block.height - self.block_window,))

    def block_at(self, height: int) -> BlockRow | None:
        rows = self._read("SELECT * FROM blocks WHERE height = ?", (height,))
        return _block(rows[0]) if rows else None

    def recent_blocks(self, limit: int | None = None) -> list[BlockRow]:
        """The stored window, lowest height first (the newest ``limit`` when given)."""
        rows = self._read(
            "SELECT * FROM (SELECT * FROM blocks ORDER BY height DESC LIMIT ?) ORDER BY height",
            (-1 if limit is None else limit,),
        )
        return [_block(r) for r in rows]

    def delete_blocks_from(self, height: int) -> int:
        """Forget the blocks at ``height`` and above (a rollback rewinds to ``height - 1``)."""
        return self._write("DELETE FROM blocks WHERE height >= ?", (height,))

    # -- transfers ------------------------------------------------------------------------

    def upsert_transfer(self, row: TransferRow) -> None:
        """Insert a transfer or move it to its new state; ``first_seen`` of a known one is kept.

        Re-inclusion after a rollback brings a retracted transfer back with its new height. A
        confirmed transfer seen again in the unconfirmed pool (a late pool read) stays confirmed.
        """
        self._write(
            "INSERT INTO transfers (identity, hash, inner_hash, height, sender, recipient, initiator, "
            "xem, fee, mosaics, message, message_type, tx_time, status, first_seen, kind, levies, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (identity) DO UPDATE SET "
            "hash = CASE WHEN {keep} THEN transfers.hash ELSE excluded.hash END, "
            "height = CASE WHEN {keep} THEN transfers.height ELSE excluded.height END, "
            "fee = CASE WHEN {keep} THEN transfers.fee ELSE excluded.fee END, "
            "status = CASE WHEN {keep} THEN transfers.status ELSE excluded.status END, "
            "levies = CASE WHEN {keep} THEN transfers.levies ELSE excluded.levies END".format(keep=_KEEP_CONFIRMED),
            (
                row.identity,
                row.hash,
                row.inner_hash,
                row.height,
                row.sender,
                row.recipient,
                row.initiator,
                row.xem,
                row.fee,
                mosaics_to_json(row.mosaics),
                row.message,
                row.message_type,
                to_db_time(row.tx_time),
                row.status.value,
                to_db_time(row.first_seen),
                row.kind,
                levies_to_json(row.levies),
                detail_to_json(row.detail),
            ),
        )

    def get_transfer(self, identity: str) -> TransferRow | None:
        rows = self._read("SELECT * FROM transfers WHERE identity = ?", (identity,))
        return _transfer(rows[0]) if rows else None

    def mark_retracted(self, identity: str) -> bool:
        """Mark a transfer retracted (it vanished in a rollback); False when none is stored."""
        changed = self._write(
            "UPDATE transfers SET status = 'retracted' WHERE identity = ? AND status != 'retracted'",
            (identity,),
        )
        return changed > 0

    def transfers_from(self, height: int) -> list[TransferRow]:
        """Confirmed transfers at ``height`` and above: what a rollback to ``height - 1`` voids."""
        rows = self._read(
            "SELECT * FROM transfers WHERE status = 'confirmed' AND height >= ? ORDER BY height, identity",
            (height,),
        )
        return [_transfer(r) for r in rows]

    def transfers_of(
        self,
        address: str,
        *,
        above: int | None = None,
        upto: int | None = None,
        statuses: Iterable[TransferStatus] = (TransferStatus.CONFIRMED,),
    ) -> list[TransferRow]:
        """Transfers sent or received by ``address`` with ``above < height <= upto`` (bounds optional)."""
        wanted = [s.value for s in statuses]
        marks = ",".join("?" * len(wanted))
        sql = f"SELECT * FROM transfers WHERE (sender = ? OR recipient = ?) AND status IN ({marks})"
        params: list[object] = [address, address, *wanted]
        if above is not None:
            sql += " AND height > ?"
            params.append(above)
        if upto is not None:
            sql += " AND height <= ?"
            params.append(upto)
        sql += " ORDER BY coalesce(height, 1 << 62), tx_time, identity"
        return [_transfer(r) for r in self._read(sql, tuple(params))]

    def unconfirmed_transfers(self) -> list[TransferRow]:
        rows = self._read("SELECT * FROM transfers WHERE status = 'unconfirmed' ORDER BY first_seen, identity")
        return [_transfer(r) for r in rows]

    # -- cursors --------------------------------------------------------------------------

    def set_cursor(self, name: str, height: int, hash: str | None = None) -> None:
        self._write(
            "INSERT INTO cursors (name, height, hash) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET height = excluded.height, hash = excluded.hash",
            (name, height, hash),
        )

    def get_cursor(self, name: str) -> Cursor | None:
        rows = self._read("SELECT name, height, hash FROM cursors WHERE name = ?", (name,))
        return Cursor(rows[0]["name"], rows[0]["height"], rows[0]["hash"]) if rows else None
