"""Options several commands share."""

from __future__ import annotations

from pathlib import Path

import click

from nemwatch.config import Config, load_config_or_exit
from nemwatch.commands.statedir import state_dir_or_exit
from nemwatch.config.model import StateConfig

config_option = click.option(
    "--config", "-c", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Config file (default: $NEMWATCH_CONFIG, then the platform config, then the built-in default).",
)
state_option = click.option(
    "--state", "state_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="State directory (SQLite database, journal); overrides [state] dir.",
)


def load(config_path: Path | None, state_dir: Path | None) -> Config:
    """The config (one clear line and exit 2 on a problem), with ``--state`` applied and the
    state directory made and checked (one clear line and exit 2 when it cannot be used)."""
    config = load_config_or_exit(config_path)
    if state_dir is not None:
        state_dir = state_dir_or_exit(state_dir.expanduser()).resolve()
        config = config.model_copy(update={"state": StateConfig(dir=state_dir)})
    else:
        state_dir_or_exit(config.state_dir(create=False))
    return config
