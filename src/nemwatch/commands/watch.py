"""``nemwatch watch`` and ``nemwatch check``: the headless alert mode."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from nemwatch.commands.options import config_option, load, state_option
from nemwatch.headless.runner import Service, configure_logging, run_watch

log = logging.getLogger("nemwatch.headless")


@click.command()
@config_option
@state_option
@click.option("--once", is_flag=True, help="Run one cycle and exit.")
@click.option("-v", "--verbose", count=True, help="More log detail on stderr (-vv: HTTP too).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
def watch(config_path: Path | None, state_dir: Path | None, once: bool, verbose: int, quiet: bool) -> None:
    """Follow the chain and emit alerts: one JSON object per alert per line on stdout.

    Logs go to stderr. SIGTERM/SIGINT stop cleanly; SIGHUP reloads the config.
    """
    configure_logging(verbose, quiet)
    config = load(config_path, state_dir)
    sys.exit(asyncio.run(_watch(config, once, config_path)))


async def _watch(config, once: bool, config_path: Path | None) -> int:  # type: ignore[no-untyped-def]
    service = Service.build(config)
    log.info(
        "watching %d addresses on %s via %d node(s); state in %s",
        len(service.engine.watch), config.network.name.value, len(config.network.nodes), config.state_dir(),
    )
    try:
        await run_watch(service, once=once, config_path=config_path)
    except Exception as err:
        log.error("stopped: %s: %s", type(err).__name__, err)
        return 2
    finally:
        await service.close()
        if not once:
            left = service.undelivered
            log.info("stopped cleanly%s", f"; {left} deliveries wait in the outbox for the next run" if left else "")
    return 0


@click.command()
@config_option
@state_option
@click.option("-v", "--verbose", count=True, help="More log detail on stderr.")
def check(config_path: Path | None, state_dir: Path | None, verbose: int) -> None:
    """Run one cycle and exit: 0 healthy and no alert, 1 alerts, 2 cannot work.

    For cron and monitoring systems. New alerts go to the configured sinks as in ``watch``;
    a one-line status goes to stderr.
    """
    configure_logging(verbose, quiet=verbose == 0)
    config = load(config_path, state_dir)
    sys.exit(asyncio.run(_check(config)))


async def _check(config) -> int:  # type: ignore[no-untyped-def]
    service = Service.build(config)
    try:
        stats = await run_watch(service, once=True, config_path=None)
    except Exception as err:
        print(f"nemwatch check: CANNOT WORK: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    finally:
        await service.close()
    if stats is None or stats.head is None:
        print("nemwatch check: CANNOT WORK: no node answered with a usable height", file=sys.stderr)
        return 2
    status = (
        f"height {stats.head:,}, cursor {stats.cursor:,}, {stats.healthy_nodes}/"
        f"{stats.healthy_nodes + stats.troubled_nodes} nodes healthy, {len(stats.alerts)} new alert(s)"
    )
    if stats.alerts:
        print(f"nemwatch check: ALERT: {status}", file=sys.stderr)
        return 1
    print(f"nemwatch check: OK: {status}", file=sys.stderr)
    return 0
