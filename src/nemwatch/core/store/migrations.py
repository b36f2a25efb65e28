"""Forward-only schema migrations, one version counter per component.

Several parts of nemwatch keep tables in the same SQLite file (the core, the price side). Each
keeps its version in ``schema_versions(component TEXT PRIMARY KEY, version INT)`` and its own
list of steps; ``migrate`` applies the missing steps of one component, each step with its
version bump in one transaction, so a crash mid-upgrade leaves a consistent older version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

SCHEMA_VERSIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INT NOT NULL)"
)


class SchemaError(RuntimeError):
    """The database cannot be used by this version of nemwatch."""


def schema_version(conn: sqlite3.Connection, component: str) -> int:
    """The version of ``component`` in this database; 0 when it has none yet."""
    conn.execute(SCHEMA_VERSIONS_DDL)
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
    return int(row[0]) if row else 0


def migrate(
    conn: sqlite3.Connection,
    component: str,
    steps: Sequence[Sequence[str]],
    *,
    target: int | None = None,
) -> int:
    """Bring ``component`` up to ``target`` (default: the last step) and return the new version.

    ``conn`` must be in autocommit mode (``isolation_level=None``) and outside a transaction.
    Raises ``SchemaError`` when the database is newer than ``steps`` knows.
    """
    if conn.in_transaction:
        raise SchemaError("migrate() must run outside a transaction")
    goal = len(steps) if target is None else target
    if not 0 <= goal <= len(steps):
        raise SchemaError(f"no such {component} schema version: {goal}")
    current = schema_version(conn, component)
    if current > len(steps):
        raise SchemaError(
            f"the {component} schema is at version {current}, newer than this nemwatch knows ({len(steps)})"
        )
    while current < goal:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have upgraded meanwhile.
            current = schema_version(conn, component)
            if current < goal:
                for statement in steps[current]:
                    conn.execute(statement)
                current += 1
                conn.execute(
                    "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                    "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                    (component, current),
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return current
