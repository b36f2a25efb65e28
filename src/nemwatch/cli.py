"""The ``nemwatch`` command line.

Each subcommand lives in its own module under ``nemwatch.commands`` and is imported only when
it runs, so ``nemwatch --help`` and the headless mode start fast.
"""

from __future__ import annotations

import importlib

import click

from nemwatch import __version__

# name -> "module:attribute" of a click command
COMMANDS: dict[str, str] = {
    "config": "nemwatch.commands.config:config",
    "price": "nemwatch.commands.price:price",
    "vwap": "nemwatch.commands.vwap:vwap",
    "watch": "nemwatch.commands.watch:watch",
    "demo": "nemwatch.commands.demo:demo",
    "check": "nemwatch.commands.watch:check",
    "sim": "nemwatch.commands.sim:command",
    "labels": "nemwatch.commands.labels:labels",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attr = COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nemwatch")
def main() -> None:
    """nemwatch: watch NEM (NIS1) addresses, tainted funds and the XEM/JPY price."""


if __name__ == "__main__":
    main()
