"""``Store``: the state database (``state_dir/nemwatch.sqlite3``) as one object."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from nemwatch.core.alert import Alert
from nemwatch.core.store.accounts import AccountTables
from nemwatch.core.store.base import DEFAULT_BUSY_TIMEOUT_MS
from nemwatch.core.store.chain import ChainTables
from nemwatch.core.store.mosaics import MosaicTables
from nemwatch.core.store.outbox import AlertTables
from nemwatch.core.store.readonly import connect_readonly
from nemwatch.core.store.reads import ReadTables
from nemwatch.core.store.rows import BlockRow, Cursor, TransferRow


class Store(ChainTables, AlertTables, AccountTables, ReadTables, MosaicTables):
    """The state database. Every method is short and synchronous; writes outside a
    ``transaction()`` block are each atomic on their own."""

    read_only = False  # True when opened with ``open_readonly``: every write raises

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "FULL",
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        block_window: int | None = None,
    ) -> Store:
        """Open (creating it private to the user if missing) and migrate the database."""
        conn, db_path = cls._connect(path, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)
        store = cls(conn, db_path)
        if block_window is not None:
            store.block_window = block_window
        return store

    @classmethod
    def open_readonly(cls, path: str | os.PathLike[str], *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Store:
        """Open an existing database read-only, e.g. one a running ``nemwatch watch`` writes.

        No migration and no file is created; a missing file raises ``StoreError``, a schema
        older or newer than this version ``SchemaError`` (see ``core.store.readonly``).
        """
        from nemwatch.core.store.schema import COMPONENT, CORE_VERSION

        conn, db_path = connect_readonly(path, component=COMPONENT, expected=CORE_VERSION, busy_timeout_ms=busy_timeout_ms)
        store = cls(conn, db_path)
        store.read_only = True
        return store

    def commit_block(
        self,
        block: BlockRow | None,
        transfers: Sequence[TransferRow],
        alerts: Iterable[Alert],
        sinks: Iterable[str],
        cursor: Cursor,
    ) -> list[Alert]:
        """One processed block, atomically: its header, its transfers, the alerts they cause
        (queued for ``sinks``) and the cursor. Either all of it is stored or none of it.

        ``block`` may be None (e.g. an unconfirmed-pool pass that moves no chain cursor height).
        Returns the alerts that were new.
        """
        with self.transaction():
            if block is not None:
                self.record_block(block)
            for row in transfers:
                self.upsert_transfer(row)
            added = self.add_alerts(alerts, sinks)
            self.set_cursor(cursor.name, cursor.height, cursor.hash)
        return added

    def rewind(self, ancestor: int, cursor_name: str) -> list[TransferRow]:
        """Undo everything above ``ancestor`` after a rollback, atomically: delete the blocks
        above it, mark their confirmed transfers retracted, move the cursor back to it.

        Returns the transfers that were retracted (the engine decides which alerts follow).
        """
        with self.transaction():
            voided = self.transfers_from(ancestor + 1)
            for row in voided:
                self.mark_retracted(row.identity)
            self.delete_blocks_from(ancestor + 1)
            parent = self.block_at(ancestor)
            self.set_cursor(cursor_name, ancestor, parent.hash if parent is not None else None)
        return voided
