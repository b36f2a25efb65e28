"""Watches and labels added at run time (the dashboard's ``a`` and ``l``), kept across restarts.

The config stays the user's file: nemwatch never rewrites it. What a face adds while running is
kept here instead, in its own schema component (``runtime_edits`` in ``schema_versions``,
migrated like the core's, so it never collides with another part's steps), and every watcher
opening this state directory applies it on top of the config: ``nemwatch watch``, the dashboard,
and a dashboard attached read-only. Taint sources marked at run time are kept by the taint watch
(``core.store.taint``), not here.

A store opened read-only is never migrated: a file without these tables reads as empty.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from nemwatch.core.store.db import Store
from nemwatch.core.store.migrations import migrate
from nemwatch.core.store.rows import to_db_time

COMPONENT = "runtime_edits"

RUNTIME_EDIT_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # v1: addresses watched and labels set from a face while it ran
    (
        """
        CREATE TABLE runtime_watches (
            address   TEXT PRIMARY KEY,
            label     TEXT,
            added_at  TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE runtime_labels (
            address  TEXT PRIMARY KEY,
            name     TEXT NOT NULL,
            kind     TEXT NOT NULL,
            set_at   TEXT NOT NULL
        )
        """,
    ),
)


@dataclass(frozen=True, slots=True)
class RuntimeWatch:
    address: str
    label: str | None


@dataclass(frozen=True, slots=True)
class RuntimeLabel:
    address: str
    name: str
    kind: str


class RuntimeEdits:
    """The run-time watches and labels of one ``Store``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        if not store.read_only:
            migrate(store.connection, COMPONENT, RUNTIME_EDIT_MIGRATIONS)

    def add_watch(self, address: str, label: str | None, *, now: datetime) -> None:
        """Keep ``address`` watched (a later call updates its label)."""
        with self._store.transaction():
            self._store.connection.execute(
                "INSERT INTO runtime_watches (address, label, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT (address) DO UPDATE SET label = coalesce(excluded.label, label)",
                (address, label, to_db_time(now)),
            )

    def remove_watch(self, address: str) -> bool:
        with self._store.transaction():
            return self._store.connection.execute(
                "DELETE FROM runtime_watches WHERE address = ?", (address,)
            ).rowcount > 0

    def set_label(self, address: str, name: str, kind: str, *, now: datetime) -> None:
        with self._store.transaction():
            self._store.connection.execute(
                "INSERT INTO runtime_labels (address, name, kind, set_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (address) DO UPDATE SET name = excluded.name, kind = excluded.kind, set_at = excluded.set_at",
                (address, name, kind, to_db_time(now)),
            )

    def watches(self) -> list[RuntimeWatch]:
        """In the order they were added."""
        rows = self._rows("SELECT address, label FROM runtime_watches ORDER BY added_at, address")
        return [RuntimeWatch(r[0], r[1]) for r in rows]

    def labels(self) -> list[RuntimeLabel]:
        rows = self._rows("SELECT address, name, kind FROM runtime_labels ORDER BY address")
        return [RuntimeLabel(r[0], r[1], r[2]) for r in rows]

    def _rows(self, sql: str) -> list[sqlite3.Row]:
        try:
            return self._store._read(sql)  # noqa: SLF001 (same package: the store's locked read)
        except sqlite3.OperationalError as err:
            if "no such table" in str(err):  # read-only, never migrated: nothing added yet
                return []
            raise
