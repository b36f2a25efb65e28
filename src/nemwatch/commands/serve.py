"""``nemwatch serve``: the dashboard in a browser through textual-serve, on localhost only.

Each browser tab starts its own dashboard process. So that N viewers never mean N times the
node and price traffic, the served dashboard attaches read-only to the store of a running
``nemwatch watch`` (``--demo`` serves the self-contained demo instead). textual-serve has no
authentication: it binds to the loopback interface only; reach it from elsewhere through
``ssh -L 8000:localhost:8000`` or an authenticating reverse proxy.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from nemwatch.commands.options import config_option, state_option

LOOPBACK = ("localhost", "127.0.0.1", "::1")


def served_command(config_path: Path | None, state_dir: Path | None, demo: bool) -> str:
    parts = [sys.executable, "-m", "nemwatch"]
    if demo:
        parts += ["demo"]
    else:
        parts += ["tui", "--attach"]
        if config_path is not None:
            parts += ["--config", str(config_path.resolve())]
        if state_dir is not None:
            parts += ["--state", str(state_dir.resolve())]
    return shlex.join(parts)


@click.command()
@config_option
@state_option
@click.option("--host", default="localhost", show_default=True, type=click.Choice(LOOPBACK),
              help="Loopback address to bind (never a public one: there is no authentication).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", is_flag=True, help="Serve the 2018 demo instead of attaching to `nemwatch watch`.")
def serve(config_path: Path | None, state_dir: Path | None, host: str, port: int, demo: bool) -> None:
    """Serve the dashboard to a browser on localhost (read-only, attached to `nemwatch watch`)."""
    try:
        from textual_serve.server import Server
    except ImportError:
        click.echo("nemwatch serve needs textual-serve: pip install textual-serve", err=True)
        sys.exit(2)
    command = served_command(config_path, state_dir, demo)
    click.echo(f"nemwatch serve: http://{host}:{port}/ (localhost only; Ctrl+C stops)", err=True)
    Server(command, host=host, port=port, title="nemwatch").serve()
