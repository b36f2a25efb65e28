"""The store's connection: pragmas, transactions, the integrity check.

Settings and why:

- ``journal_mode=WAL``: readers (the dashboard, ``nemwatch check``) never block the writer and
  a committed transaction survives ``kill -9``. WAL needs one host: keep the state directory on
  a local disk, not a network file system.
- ``synchronous=FULL`` (the default here): WAL with ``NORMAL`` already survives an application
  crash, but a power loss or kernel panic may roll back the last commits. With the cursor in the
  same transaction that would only re-poll those blocks, but it could also forget that a
  delivery or a journal line happened and send it again. One fsync per commit costs little at
  one block a minute, so FULL buys durability across power loss for nearly nothing.
- ``foreign_keys=ON``: an outbox row always belongs to a stored alert.
- ``busy_timeout``: the TUI and the daemon may open the same file; a writer waits for the other
  instead of failing at once.

Python's ``sqlite3`` opens transactions implicitly; the store runs in autocommit mode
(``isolation_level=None``) and issues ``BEGIN IMMEDIATE`` itself, so a transaction takes the
write lock at its start and never fails half-way on a lock upgrade.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nemwatch.core.store.migrations import migrate, schema_version
from nemwatch.core.store.schema import COMPONENT, CORE_MIGRATIONS

SYNCHRONOUS_MODES = ("NORMAL", "FULL")
DEFAULT_BUSY_TIMEOUT_MS = 5000


class StoreError(RuntimeError):
    """The state database cannot be opened or used."""


class StoreBase:
    """A connection and its transaction discipline; the table mixins build on it.

    One ``Store`` may be shared by threads: every call holds an internal lock, and
    ``transaction()`` holds it until the transaction ends.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._savepoints = itertools.count(1)

    @classmethod
    def _connect(
        cls,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "FULL",
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> tuple[sqlite3.Connection, Path]:
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            raise StoreError(f"synchronous must be one of {SYNCHRONOUS_MODES}, not {synchronous!r}")
        db_path = Path(path)
        if str(db_path) != ":memory:" and not db_path.exists():
            # Create the file private to the user before SQLite opens it (its -wal and -shm
            # files copy the database file's permissions).
            fd = os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        try:
            conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the state database {db_path.name}: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            journal = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(db_path) != ":memory:" and str(journal).lower() != "wal":
                raise StoreError(f"the state database could not switch to WAL (got {journal})")
            conn.execute(f"PRAGMA synchronous = {mode}")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, COMPONENT, CORE_MIGRATIONS)
        except BaseException:
            conn.close()
            raise
        return conn, db_path

    @property
    def path(self) -> Path:
        return self._path

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, for components that keep their own tables in this file.

        It is in autocommit mode; write through ``transaction()`` so that the store's lock and
        transaction nesting stay correct.
        """
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._depth:
                raise StoreError("close() inside a transaction")
            self._conn.close()

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self, component: str = COMPONENT) -> int:
        with self._lock:
            return schema_version(self._conn, component)

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: ``"ok"`` for a sound file, else SQLite's findings."""
        with self._lock:
            rows = self._conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(r[0]) for r in rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; any exception rolls everything back.

        Nested use is allowed: an inner ``transaction()`` is a savepoint, rolled back alone
        when its block raises (and the exception goes on to the outer block).

        Never ``await`` inside the block: the lock is per thread, so another coroutine of the
        same event loop would write into this transaction.
        """
        with self._lock:
            if self._depth == 0:
                self._conn.execute("BEGIN IMMEDIATE")
                self._depth = 1
                try:
                    yield
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
                else:
                    try:
                        self._conn.execute("COMMIT")
                    except BaseException:
                        if self._conn.in_transaction:
                            self._conn.execute("ROLLBACK")
                        raise
                finally:
                    self._depth = 0
            else:
                name = f"sp{next(self._savepoints)}"
                self._conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    self._conn.execute(f"ROLLBACK TO {name}")
                    self._conn.execute(f"RELEASE {name}")
                    raise
                else:
                    self._conn.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _write(self, sql: str, params: tuple[object, ...] = ()) -> int:
        """One statement in its own transaction (or the caller's); returns the row count."""
        with self.transaction():
            return self._conn.execute(sql, params).rowcount
