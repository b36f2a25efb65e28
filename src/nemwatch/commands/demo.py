"""``nemwatch demo``: the 2018 theft on the local simulator, end to end, no network needed."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

import click


@click.command()
@click.option(
    "--speed", type=float, default=None,
    help="Simulated seconds per real second (0: as fast as possible). "
    "Default: 1800 headless, 300 in the dashboard.",
)
@click.option(
    "--until", "until", default=None, metavar="TIME",
    help="Stop at this simulated time (ISO 8601; without an offset it is JST), or 'end': through the last "
    "exchange arrival of the chase (2018-02-09). Default: 2018-01-26 12:30 JST.",
)
@click.option(
    "--headless", is_flag=True,
    help="No dashboard: print the alerts as JSON lines (the headless format of nemwatch watch).",
)
@click.option("--json", "as_json", is_flag=True, help="The same as --headless (its former name).")
@click.option("--no-mouse", is_flag=True, help="Dashboard without mouse reporting.")
def demo(speed: float | None, until: str | None, as_json: bool, headless: bool, no_mouse: bool) -> None:
    """Replay the 2018 Coincheck theft on a local NIS1 simulator and show what nemwatch raises.

    On a terminal it opens the dashboard; with --headless (or --json) it prints the alerts as
    JSON lines on stdout and the summary (ending with the taint picture per model) on stderr;
    without a terminal it prints them as text, with the summary at the end.
    """
    from nemwatch import demo as player
    from nemwatch.commands.dashboard import has_terminal

    dashboard = not (headless or as_json) and has_terminal()
    if speed is None:
        speed = 300.0 if dashboard else 1800.0
    if speed < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--speed")
    try:
        stop = player.parse_until(until) if until else None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--until") from None
    if dashboard:
        from nemwatch.commands.dashboard import open_demo

        sys.exit(open_demo(speed, stop, no_mouse=no_mouse))
    if as_json or headless:
        sys.exit(_headless(speed, stop))
    sys.exit(player.run(speed, stop, False))


def _headless(speed: float, stop: datetime | None) -> int:
    """JSON lines on stdout, nothing else there; the summary on stderr, once the run ends."""
    from nemwatch import demo as player

    report = asyncio.run(
        player.play(out=sys.stdout, speed=speed, until=stop or player.DEFAULT_UNTIL, as_json=True)
    )
    sys.stdout.flush()
    sys.stderr.write(player._summary(report))
    sys.stderr.flush()
    return 0
