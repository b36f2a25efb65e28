"""Opening the state database read-only, from a second process (``nemwatch --attach``).

The connection uses SQLite's ``mode=ro`` URI and ``query_only``: it never migrates, never
creates a file, never takes the write lock, so a dashboard attached over ssh cannot disturb a
running ``nemwatch watch``. In WAL mode a reader and the writer do not block each other; every
statement (or read transaction) sees the last committed state.

The schema must be exactly the one this version knows: an older file is upgraded only by the
writer (run ``nemwatch watch`` or ``nemwatch check`` of this version once), a newer one needs a
newer nemwatch. Both are refused with ``SchemaError`` saying so; a missing file with
``StoreError``.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from nemwatch.core.store.base import DEFAULT_BUSY_TIMEOUT_MS, StoreError
from nemwatch.core.store.migrations import SchemaError


def _uri(path: Path) -> str:
    return "file:" + quote(str(path.resolve())) + "?mode=ro"


def read_version(conn: sqlite3.Connection, component: str) -> int:
    """The stored version of ``component`` without creating anything (0: none recorded)."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'"
    ).fetchone()
    if not has_table:
        return 0
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
    return int(row[0]) if row else 0


def check_version(conn: sqlite3.Connection, component: str, expected: int, name: str) -> int:
    """Refuse a database whose ``component`` schema is not ``expected``; returns the version."""
    found = read_version(conn, component)
    if found == expected:
        return found
    if found == 0:
        raise SchemaError(
            f"{name} holds no nemwatch {component} tables: start `nemwatch watch` with this state directory first"
        )
    if found < expected:
        raise SchemaError(
            f"{name}: the {component} schema is at version {found}, older than this nemwatch ({expected}); "
            "a read-only open cannot upgrade it: run `nemwatch watch` (or `nemwatch check`) of this version once"
        )
    raise SchemaError(
        f"{name}: the {component} schema is at version {found}, newer than this nemwatch knows ({expected}); "
        "attach with the nemwatch version that writes it"
    )


def connect_readonly(
    path: str | os.PathLike[str],
    *,
    component: str,
    expected: int,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
) -> tuple[sqlite3.Connection, Path]:
    """A read-only connection to an existing database whose ``component`` is at ``expected``."""
    db_path = Path(path)
    if not db_path.is_file():
        raise StoreError(
            f"no state database at {db_path}: is `nemwatch watch` running with this --state / [state] dir?"
        )
    try:
        conn = sqlite3.connect(_uri(db_path), uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the state database {db_path.name} read-only: {exc}") from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA query_only = ON")
        try:
            check_version(conn, component, expected, db_path.name)
        except sqlite3.DatabaseError as exc:  # not a database, or unreadable
            raise StoreError(f"cannot read the state database {db_path.name}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn, db_path


__all__ = ["check_version", "connect_readonly", "read_version"]
