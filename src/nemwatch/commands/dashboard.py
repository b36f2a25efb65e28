"""``nemwatch`` (no subcommand), ``nemwatch tui`` / ``dashboard``: the Textual dashboard.

It drives the same engine and price feed as ``nemwatch watch`` (``nemwatch.service``), or,
with ``--attach``, reads the store of a running ``nemwatch watch`` without polling any node.
It needs a terminal: without one it refuses and points to ``nemwatch watch``.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from nemwatch.commands.options import config_option, load, state_option

NO_TERMINAL = (
    "nemwatch: the dashboard needs a terminal (stdin and stderr must be one). "
    "To watch without a screen, as a service or in a pipe, run `nemwatch watch`."
)
COLOR_SYSTEMS = ("auto", "standard", "256", "truecolor")


def served() -> bool:
    """Running under textual-serve (its web driver stands in for the terminal)."""
    return os.environ.get("TEXTUAL_DRIVER", "").endswith("WebDriver")


def has_terminal() -> bool:
    if served():
        return True
    try:
        return os.isatty(sys.stdin.fileno()) and os.isatty(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def terminal_options(func: Any) -> Any:
    for option in reversed(
        (
            click.option("--no-mouse", is_flag=True, help="Turn no mouse reporting on (slow links, ssh)."),
            click.option("--bell", is_flag=True, help="Ring the terminal bell on each new critical alert."),
            click.option(
                "--color-system", type=click.Choice(COLOR_SYSTEMS), default="auto", show_default=True,
                help="Colours to use (NO_COLOR is respected in any case).",
            ),
        )
    ):
        func = option(func)
    return func


def prepare_terminal(color_system: str) -> None:
    """Settings Textual reads at import time; logs go to a file, never over the screen."""
    if color_system != "auto":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = color_system


def log_to_file(path: Path) -> None:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "apprise", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def without_stdout_sink(config: Any) -> Any:
    """The dashboard owns the terminal: the ``stdout`` sink would write over it, so it is left
    out (its deliveries stay pending for the next ``nemwatch watch``)."""
    sinks = tuple(s for s in config.alerts.sinks if s.strip() != "stdout")
    return config.model_copy(update={"alerts": config.alerts.model_copy(update={"sinks": sinks})})


def open_dashboard(
    config_path: Path | None, state_dir: Path | None, *, attach: bool, no_mouse: bool, bell: bool, color_system: str
) -> int:
    if not has_terminal():
        click.echo(NO_TERMINAL, err=True)
        return 2
    prepare_terminal(color_system)
    config = load(config_path, state_dir)
    state = config.state_dir()
    log_to_file(state / "dashboard.log")
    from nemwatch.tui.app import NemwatchApp
    from nemwatch.tui.sources import AttachSource, LiveSource, utcnow

    if attach:
        try:
            source: Any = AttachSource(config, utcnow)
        except Exception as err:
            click.echo(f"nemwatch: cannot attach: {err}", err=True)
            return 2
    else:
        from nemwatch.service import Service

        source = LiveSource(Service.build(without_stdout_sink(config)), utcnow)
    app = NemwatchApp(source, keymap=dict(config.keys), bell=bell, export_dir=state / "exports", tty_guard=not served())
    app.run(mouse=not no_mouse)
    return app.return_code or 0


def open_demo(speed: float, until: Any, *, no_mouse: bool) -> int:
    """The 2018 demo in the dashboard: simulator, engine and a temporary store in-process."""
    import tempfile
    from datetime import timedelta, timezone

    from nemwatch.demo import DEFAULT_UNTIL
    from nemwatch.demo_session import DemoSession
    from nemwatch.tui.app import NemwatchApp
    from nemwatch.tui.sources import DemoSource

    with tempfile.TemporaryDirectory(prefix="nemwatch-demo-") as tmp:
        log_to_file(Path(tmp) / "dashboard.log")
        session = DemoSession(until=until or DEFAULT_UNTIL, state_dir=Path(tmp))
        source = DemoSource(session, speed)
        jst = timezone(timedelta(hours=9), "JST")
        app = NemwatchApp(source, tz=jst, export_dir=Path.cwd(), tty_guard=not served(), stale_after=timedelta(minutes=15))
        app.run(mouse=not no_mouse)
    return app.return_code or 0


@click.command()
@config_option
@state_option
@click.option("--attach", is_flag=True, help="Show a running `nemwatch watch` from its store, read-only.")
@terminal_options
def dashboard(
    config_path: Path | None, state_dir: Path | None, attach: bool, no_mouse: bool, bell: bool, color_system: str
) -> None:
    """Open the dashboard: watchlist, taint flow, movements, price, alerts (needs a terminal)."""
    sys.exit(open_dashboard(config_path, state_dir, attach=attach, no_mouse=no_mouse, bell=bell,
                            color_system=color_system))
