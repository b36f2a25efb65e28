"""``journal``: the local alert journal, a JSON-lines file holding each alert exactly once.

Delivery is at-least-once (a crash between "sent" and "marked delivered" repeats the send),
so the journal keeps its own record of what it holds, in the store (table ``journal``: alert
id and the byte offset where its line ends):

1. ``send`` skips an alert the journal already holds (recorded, or found by the recovery scan);
2. otherwise it appends the line, ``fsync``s the file, then records the alert id and offset;
3. the dispatcher marks the outbox row delivered afterwards.

The scan starts at the end of the most recently recorded line.

In memory the sink keeps only the ids the recovery scan found and the last
``memory_ids`` it wrote (default 10,000, ``[retention] journal_ids_in_memory``): older ones are
looked up in the store, so a watcher that runs for months holds a flat set.

A crash after 2's fsync but before its record leaves a line the store does not know. On first
use the sink therefore scans the file from the last recorded offset to its end (only what
was written after the last record, a few lines at most) and adds those alert ids to its index.
A torn last line (a crash during the write) is cut off before anything is appended. A file
smaller than the recorded offset was rotated or truncated: it is scanned from its start, and
the alerts recorded before stay recorded (they are not written again).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from nemwatch.core.alert import Alert
from nemwatch.core.store import Store
from nemwatch.headless.sinks.base import RetryableError, describe


def _scan(path: Path, start: int) -> tuple[dict[str, int], int]:
    """Alert ids in complete lines from ``start`` on (with where each line ends), and the end
    of the last complete line."""
    ids: dict[str, int] = {}
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read()
    end = start
    for raw in data.split(b"\n")[:-1]:  # the piece after the last newline is torn or empty
        end += len(raw) + 1
        try:
            alert_id = json.loads(raw).get("alert_id")
        except (ValueError, AttributeError):
            continue
        if isinstance(alert_id, str):
            ids.setdefault(alert_id, end)
    return ids, end


def _open_private(path: Path) -> int:
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    if created:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the new file's name is durable too
        finally:
            os.close(dir_fd)
    return fd


class JournalSink:
    name = "journal"
    secrets: tuple[str, ...] = ()

    def __init__(
        self, path: str | os.PathLike[str], store: Store, clock: Callable[[], datetime], *, memory_ids: int = 10_000
    ) -> None:
        if memory_ids < 1:
            raise ValueError("memory_ids must be positive")
        self.path = Path(path)
        self._store = store
        self._clock = clock
        self._lock = asyncio.Lock()
        self._recovered: set[str] | None = None
        self._recent: OrderedDict[str, None] = OrderedDict()  # the last ``memory_ids`` written
        self.memory_ids = memory_ids

    def recover(self) -> set[str]:
        """Scan what was written after the last record, record what it finds and cut a torn
        last line. Runs once; returns the alert ids found."""
        if self._recovered is not None:
            return self._recovered
        found: dict[str, int] = {}
        if self.path.exists():
            size = self.path.stat().st_size
            start = self._store.journal_end()
            if start > size:
                start = 0  # rotated or truncated
            found, end = _scan(self.path, start)
            if end < size:
                with open(self.path, "r+b") as fh:
                    fh.truncate(end)
                    fh.flush()
                    os.fsync(fh.fileno())
        with self._store.transaction():
            for alert_id, line_end in found.items():
                self._store.journal_record(alert_id, line_end, self._clock())
        self._recovered = set(found)
        return self._recovered

    def holds(self, alert_id: str) -> bool:
        return alert_id in self.recover() or alert_id in self._recent or self._store.journal_has(alert_id)

    def _remember(self, alert_id: str) -> None:
        self._recent[alert_id] = None
        self._recent.move_to_end(alert_id)
        while len(self._recent) > self.memory_ids:
            self._recent.popitem(last=False)

    @property
    def ids_in_memory(self) -> int:
        return len(self.recover()) + len(self._recent)

    def _append(self, line: bytes) -> int:
        """Append one line durably and return where it ends; a failed write is undone so the
        next line never lands after a fragment."""
        fd = _open_private(self.path)
        try:
            start = os.lseek(fd, 0, os.SEEK_END)
            try:
                written = 0
                while written < len(line):
                    written += os.write(fd, line[written:])
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, start)
                raise
            return start + len(line)
        finally:
            os.close(fd)

    async def send(self, alert: Alert) -> None:
        async with self._lock:
            try:
                if self.holds(alert.alert_id):
                    return
                line = (alert.to_json_line() + "\n").encode()
                end = await asyncio.to_thread(self._append, line)
            except OSError as exc:
                raise RetryableError(f"journal {self.path.name}: {describe(exc, ())}") from None
            # Known in memory first: should the record below fail, a retry still skips it.
            self._remember(alert.alert_id)
            self._store.journal_record(alert.alert_id, end, self._clock())

    async def aclose(self) -> None:
        return None
