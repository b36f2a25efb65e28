"""``nemwatch demo``: the 2018 theft on the local simulator, end to end, no network needed."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option(
    "--speed", type=float, default=1800.0, show_default=True,
    help="Simulated seconds per real second (0: as fast as possible).",
)
@click.option(
    "--until", "until", default=None, metavar="TIME",
    help="Stop at this simulated time (ISO 8601; without an offset it is JST). Default: 2018-01-26 12:30 JST.",
)
@click.option(
    "--headless", is_flag=True,
    help="No dashboard: print the alerts as JSON lines (the headless format of nemwatch watch).",
)
@click.option("--json", "as_json", is_flag=True, help="The same as --headless (its former name).")
def demo(speed: float, until: str | None, headless: bool, as_json: bool) -> None:
    """Replay the 2018 Coincheck theft on a local NIS1 simulator and show what nemwatch raises."""
    from nemwatch import demo as player

    if speed < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--speed")
    try:
        stop = player.parse_until(until) if until else None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--until") from None
    sys.exit(player.run(speed, stop, as_json or headless))
