"""The state directory a command will write to: made (0700) and checked before anything opens it.

A path that cannot be a directory (``--state afile/sub``), a read-only location or a missing
permission is reported as one line, ``nemwatch: state directory <path>: <cause>``, with exit
status 2 ("cannot work"), for every command: never a traceback, and never status 1, which
``nemwatch check`` uses for "alerts".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

EXIT_CANNOT_WORK = 2


class StateDirError(Exception):
    """The state directory cannot be used; ``str(err)`` is the one line to print."""


def _cause(err: OSError) -> str:
    if isinstance(err, NotADirectoryError | FileExistsError):
        return "a part of the path is a file, not a directory"
    if isinstance(err, PermissionError):
        return "permission denied"
    return err.strerror or type(err).__name__


def ensure_state_dir(path: Path, *, create: bool = True) -> Path:
    """``path`` made if missing (mode 0700) and checked to be a writable directory."""
    shown = str(path)
    try:
        if create and not path.is_dir():
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.chmod(0o700)  # mkdir's mode is filtered by the umask
    except OSError as err:
        raise StateDirError(f"nemwatch: state directory {shown}: cannot create it: {_cause(err)}") from None
    if not path.is_dir():
        raise StateDirError(f"nemwatch: state directory {shown}: not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise StateDirError(f"nemwatch: state directory {shown}: not writable by this user")
    return path


def state_dir_or_exit(path: Path) -> Path:
    """``ensure_state_dir`` for commands: on a problem print its line on stderr and exit 2."""
    try:
        return ensure_state_dir(path)
    except StateDirError as err:
        print(err, file=sys.stderr)
        raise SystemExit(EXIT_CANNOT_WORK) from None


def fail(line: str) -> NoReturn:
    """Print ``line`` on stderr and exit 2."""
    print(line, file=sys.stderr)
    raise SystemExit(EXIT_CANNOT_WORK)
