"""Imported labels (``nemwatch labels import``) in the state database.

They live in their own table with their own schema component (``labels`` in
``schema_versions``), migrated forward like the core's, so they survive restarts and reloads and
never collide with the core's migrations. A tag is identified as in a TagPack by (address,
name, source): importing the same pack twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from nemwatch.core.store.db import Store
from nemwatch.core.store.migrations import migrate
from nemwatch.core.store.rows import to_db_time
from nemwatch.core.taint.labels import Label, LabelKind, LabelOrigin

COMPONENT = "labels"

LABEL_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # v1: one row per imported tag
    (
        """
        CREATE TABLE imported_labels (
            address     TEXT NOT NULL,
            name        TEXT NOT NULL,
            source      TEXT NOT NULL DEFAULT '',
            kind        TEXT NOT NULL,
            confidence  TEXT,
            lastmod     TEXT,
            pack_title  TEXT NOT NULL DEFAULT '',
            imported_at TEXT NOT NULL,
            PRIMARY KEY (address, name, source)
        )
        """,
    ),
)


class LabelTable:
    """The imported labels of one ``Store``; writes go through the store's transactions."""

    def __init__(self, store: Store) -> None:
        self._store = store
        migrate(store.connection, COMPONENT, LABEL_MIGRATIONS)

    def add(self, labels: Iterable[Label], *, pack_title: str = "", now: datetime | None = None) -> int:
        """Store ``labels`` (origin becomes ``import``); a tag already stored is updated in
        place (kind, confidence, lastmod). Returns how many were new."""
        stamp = to_db_time(now or datetime.now(UTC))
        new = 0
        conn = self._store.connection
        with self._store.transaction():
            for x in labels:
                exists = conn.execute(
                    "SELECT 1 FROM imported_labels WHERE address = ? AND name = ? AND source = ?",
                    (x.address, x.name, x.source or ""),
                ).fetchone()
                conn.execute(
                    "INSERT INTO imported_labels (address, name, source, kind, confidence, lastmod, pack_title, imported_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (address, name, source) DO UPDATE SET"
                    " kind = excluded.kind, confidence = excluded.confidence, lastmod = excluded.lastmod,"
                    " pack_title = excluded.pack_title",
                    (
                        x.address, x.name, x.source or "", x.kind.value, x.confidence,
                        x.lastmod.isoformat() if x.lastmod else None, pack_title, stamp,
                    ),
                )
                new += exists is None
        return new

    def all(self) -> tuple[Label, ...]:
        """Every imported label, by address then name."""
        rows = self._store._read(  # noqa: SLF001 (same package: the store's locked read)
            "SELECT address, name, source, kind, confidence, lastmod FROM imported_labels ORDER BY address, name, source"
        )
        return tuple(
            Label(
                address=r[0], name=r[1], source=r[2] or None, kind=LabelKind(r[3]), origin=LabelOrigin.IMPORT,
                confidence=r[4], lastmod=date.fromisoformat(r[5]) if r[5] else None,
            )
            for r in rows
        )

    def remove(self, address: str) -> int:
        """Forget every imported label of ``address``; returns how many went."""
        with self._store.transaction():
            return self._store.connection.execute("DELETE FROM imported_labels WHERE address = ?", (address,)).rowcount

    def clear(self) -> int:
        with self._store.transaction():
            return self._store.connection.execute("DELETE FROM imported_labels").rowcount
