"""The ``nemwatch`` command line.

Each subcommand lives in its own module under ``nemwatch.commands`` and is imported only when
it runs, so ``nemwatch --help`` and the headless mode start fast.
"""

from __future__ import annotations

import importlib
from pathlib import Path

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
    "export": "nemwatch.commands.export:export",
    "outbox": "nemwatch.commands.outbox:outbox",
    "tui": "nemwatch.commands.dashboard:dashboard",
    "dashboard": "nemwatch.commands.dashboard:dashboard",
    "serve": "nemwatch.commands.serve:serve",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands with their whole first sentence, wrapped, never cut off with '...'."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=300)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attr = COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nemwatch")
@click.option("--config", "-c", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Config file, as for `watch` (the dashboard when no command is given).")
@click.option("--state", "state_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="State directory, as for `watch`.")
@click.option("--attach", is_flag=True, help="Dashboard of a running `nemwatch watch`, from its store, read-only.")
@click.option("--no-mouse", is_flag=True, help="Dashboard without mouse reporting (slow links, ssh).")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, state_dir: Path | None, attach: bool, no_mouse: bool) -> None:
    """nemwatch: watch NEM (NIS1) addresses, tainted funds and the XEM/JPY price.

    With no command, on a terminal: the dashboard (same as `nemwatch tui`); otherwise this help.
    """
    if ctx.invoked_subcommand is not None:
        return
    from nemwatch.commands.dashboard import has_terminal, open_dashboard

    if not has_terminal():
        click.echo(ctx.get_help())
        ctx.exit(0)
    ctx.exit(open_dashboard(config_path, state_dir, attach=attach, no_mouse=no_mouse, bell=False, color_system="auto"))


if __name__ == "__main__":
    main()
