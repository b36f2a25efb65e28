"""Checks of a valid config against the machine it runs on, and advice about what it lacks.

``load_config`` checks what a file says; these look further, and run where it matters
(``nemwatch config validate`` and the start of ``watch``/``check``) rather than on every load,
so that ``config show`` still works on a copy of a server's config:

- ``host_problems``: a ``command:`` sink whose program does not exist or cannot be run
  (``command:/no/such/hook``) would dead-letter every alert; it is refused up front.
- ``advice``: warnings that do not stop nemwatch, e.g. a config that watches no address.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

from nemwatch.config.defaults import BUILTIN_DEFAULT_NAME
from nemwatch.config.errors import ConfigError
from nemwatch.config.model import Config
from nemwatch.core.text import sanitize


def _origin(config: Config) -> str:
    return str(config.source) if config.source is not None else BUILTIN_DEFAULT_NAME


def program_problem(program: str) -> str | None:
    """Why ``program`` (a command sink's first word) cannot be run, or None when it can."""
    shown = sanitize(program, max_len=120)
    if os.sep not in program:
        return None if shutil.which(program) else f"command sink program '{shown}' is not on PATH"
    path = Path(program).expanduser()
    if not path.exists():
        return f"command sink program '{shown}' does not exist"
    if path.is_dir():
        return f"command sink program '{shown}' is a directory"
    if not os.access(path, os.X_OK):
        return f"command sink program '{shown}' is not executable (chmod +x)"
    return None


def host_problems(config: Config) -> list[ConfigError]:
    """Problems of ``config`` on this machine, one ``ConfigError`` each (empty when none)."""
    found = []
    for i, sink in enumerate(config.alerts.sinks):
        if not sink.startswith("command:"):
            continue
        argv = shlex.split(sink[len("command:") :])  # validated: balanced, not empty
        problem = program_problem(argv[0])
        if problem:
            found.append(ConfigError(_origin(config), f"alerts.sinks[{i}]", problem))
    return found


def advice(config: Config) -> list[str]:
    """Warnings about a usable config, each one line starting ``nemwatch: warning:``."""
    lines = []
    if not config.watches:
        lines.append(
            f"nemwatch: warning: {_origin(config)}: no [[watch]] address: nothing will raise a "
            "transfer alert (only node, delivery and price alerts)"
        )
    return lines
