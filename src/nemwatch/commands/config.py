"""``nemwatch config``: check the config file, show where things live, print the effective config."""

from __future__ import annotations

from pathlib import Path

import click

from nemwatch.config import (
    EXIT_CONFIG_ERROR,
    Config,
    ConfigError,
    config_error_exit,
    config_to_toml,
    load_config,
    load_config_or_exit,
    permission_warning,
    resolve_config_path,
)
from nemwatch.config.checks import advice, host_problems
from nemwatch.config.defaults import BUILTIN_DEFAULT_NAME

FILE_ARG = click.argument(
    "file", required=False, type=click.Path(path_type=Path, dir_okay=True, exists=False)
)


def _origin(config: Config) -> str:
    return str(config.source) if config.source is not None else BUILTIN_DEFAULT_NAME


@click.group(name="config")
def config() -> None:
    """Check and show the configuration (TOML; see config.example.toml)."""


@config.command()
@FILE_ARG
def validate(file: Path | None) -> None:
    """Check FILE (default: the config nemwatch would use); exit 2 on a problem.

    Every problem is listed, one line each on stderr; an unknown key comes before the missing
    key it was probably meant to be. A `command:` sink whose program is missing is a problem;
    a config that watches no address gets a warning.
    """
    try:
        cfg = load_config(file)
    except ConfigError as err:
        for line in err.all_lines:
            click.echo(line, err=True)
        raise SystemExit(EXIT_CONFIG_ERROR) from None
    problems = host_problems(cfg)
    if problems:
        for problem in problems:
            click.echo(problem.line, err=True)
        raise SystemExit(EXIT_CONFIG_ERROR)
    for line in filter(None, [permission_warning(cfg), *advice(cfg)]):
        click.echo(line, err=True)
    click.echo(
        f"ok: {_origin(cfg)}: {len(cfg.watches)} watched, "
        f"{len(cfg.taint.sources)} taint sources, {len(cfg.network.nodes)} nodes"
    )


@config.command()
def path() -> None:
    """Print the config file nemwatch would use, the state directory and the database path."""
    file, named = resolve_config_path(None)
    exists = file.is_file()
    note = "exists" if exists else ("missing" if named else "missing; the built-in default is used")
    click.echo(f"config:  {file} ({note})")
    try:
        cfg = load_config(None)
    except ConfigError as err:
        config_error_exit(err)
    click.echo(f"state:   {cfg.state_dir(create=False)}")
    click.echo(f"db:      {cfg.db_path(create=False)}")
    click.echo(f"journal: {cfg.journal_path(create=False)}")


@config.command()
@FILE_ARG
def show(file: Path | None) -> None:
    """Print the effective config of FILE as TOML, with secrets masked."""
    click.echo(config_to_toml(load_config_or_exit(file)), nl=False)
