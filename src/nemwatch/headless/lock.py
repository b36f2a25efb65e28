"""One watcher per state directory: an exclusive ``fcntl`` lock on ``watch.lock`` in it.

Two ``nemwatch watch`` processes on one state directory would both advance the cursor and
deliver every alert twice. The second is refused with one clear line naming the directory and
the pid of the holder. The lock is an advisory ``flock`` held by the open file: it goes away
with the process, whatever way it ends, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

LOCK_FILE_NAME = "watch.lock"


class StateLocked(Exception):
    """Another process holds the state directory; ``str(err)`` is the line to print."""


class StateLock:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_FILE_NAME
        self._file: IO[str] | None = None

    def acquire(self, what: str = "nemwatch watch") -> StateLock:
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()[:40]
            handle.close()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise StateLocked(
                f"nemwatch: state directory {self.path.parent} is in use by another nemwatch watch{who}; "
                f"stop it first, or give this {what} another --state"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()
        self._file = None

    def __enter__(self) -> StateLock:
        return self if self._file is not None else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
