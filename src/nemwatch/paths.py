"""Where nemwatch keeps its files: the config file and the state directory.

The config file is ``$NEMWATCH_CONFIG`` when set, else ``config.toml`` in the platform config
directory (``~/.config/nemwatch`` on Linux). State (the SQLite database, the alert journal)
lives in the platform state directory (``~/.local/state/nemwatch`` on Linux) unless the config
names another one; it is created private to the user (mode 0700).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "nemwatch"
CONFIG_ENV = "NEMWATCH_CONFIG"
CONFIG_FILE_NAME = "config.toml"
DB_FILE_NAME = "nemwatch.sqlite3"
JOURNAL_FILE_NAME = "alerts.jsonl"


def platform_config_path() -> Path:
    """``config.toml`` in the platform config directory, whether or not it exists."""
    return platformdirs.user_config_path(APP_NAME) / CONFIG_FILE_NAME


def config_path() -> Path:
    """The config file nemwatch reads when none is named: ``$NEMWATCH_CONFIG`` or the platform one."""
    from_env = os.environ.get(CONFIG_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return platform_config_path()


def state_dir(override: str | os.PathLike[str] | None = None, *, create: bool = True) -> Path:
    """The state directory: ``override`` when given, else the platform state directory.

    With ``create`` (the default) the directory is made if missing, with mode 0700; an existing
    directory keeps its mode.
    """
    path = Path(override).expanduser() if override is not None else platformdirs.user_state_path(APP_NAME)
    if create and not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask
    return path


def default_db_path(state_dir: Path) -> Path:
    """The SQLite database inside ``state_dir``."""
    return state_dir / DB_FILE_NAME


def default_journal_path(state_dir: Path) -> Path:
    """The local alert journal (JSON lines) inside ``state_dir``."""
    return state_dir / JOURNAL_FILE_NAME
