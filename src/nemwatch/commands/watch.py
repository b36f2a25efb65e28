"""``nemwatch watch`` and ``nemwatch check``: the headless alert mode."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from nemwatch.commands.options import config_option, load, state_option
from nemwatch.commands.statedir import fail
from nemwatch.config.checks import advice, host_problems
from nemwatch.headless.diagnose import why
from nemwatch.headless.lock import StateLock, StateLocked
from nemwatch.headless.pushprobe import probe_push, push_summary
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
    ready(config)
    with hold_state(config, "nemwatch watch"):
        code = asyncio.run(_watch(config, once, config_path))
    sys.exit(code)


def ready(config) -> None:  # type: ignore[no-untyped-def]
    """Refuse a config this machine cannot run (a missing hook program); warn about gaps."""
    problems = host_problems(config)
    for problem in problems:
        print(problem.line, file=sys.stderr)
    if problems:
        sys.exit(2)
    for line in advice(config):
        print(line, file=sys.stderr)


def hold_state(config, what: str) -> StateLock:  # type: ignore[no-untyped-def]
    """The state directory's lock, or one clear line and exit 2 when another watcher holds it."""
    try:
        return StateLock(config.state_dir()).acquire(what)
    except StateLocked as err:
        fail(str(err))


async def _watch(config, once: bool, config_path: Path | None) -> int:  # type: ignore[no-untyped-def]
    service = Service.build(config)
    log.info(
        "watching %d addresses on %s via %d node(s); state in %s",
        len(service.engine.watch), config.network.name.value, len(config.network.nodes), config.state_dir(),
    )
    try:
        last = await run_watch(service, once=once, config_path=config_path)
    except Exception as err:
        log.error("stopped: %s: %s", type(err).__name__, err)
        if once:
            await _cannot_work("nemwatch watch", f"{type(err).__name__}: {err}", config)
        return 2
    finally:
        await service.close()
        if not once:
            left = service.undelivered
            log.info("stopped cleanly%s", f"; {left} deliveries wait in the outbox for the next run" if left else "")
    if once and (last is None or last.head is None):
        await _cannot_work("nemwatch watch", "no node answered with a usable height", config)
        return 2
    return 0


async def _cannot_work(what: str, reason: str, config) -> None:  # type: ignore[no-untyped-def]
    """Say on stderr why nemwatch cannot work, node by node (DNS, refused, 503, wrong network...)."""
    print(f"{what}: CANNOT WORK: {reason}", file=sys.stderr)
    net = config.network
    print(await why(net.nodes, net.name, timeout=min(net.request_timeout_seconds, 10.0)), file=sys.stderr)


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
    ready(config)
    with hold_state(config, "nemwatch check"):
        code = asyncio.run(_check(config))
    sys.exit(code)


async def _check(config) -> int:  # type: ignore[no-untyped-def]
    service = Service.build(config)
    failure = None
    stats = None
    push: Mapping[str, str | None] = {}
    try:
        stats = await run_watch(service, once=True, config_path=None)
        if service.push is not None and stats is not None and stats.head is not None:
            push = await probe_push(service.push.hub)
    except Exception as err:
        failure = f"{type(err).__name__}: {err}"
    finally:
        await service.close()
    if failure is not None:
        await _cannot_work("nemwatch check", failure, config)
        return 2
    if stats is None or stats.head is None:
        await _cannot_work("nemwatch check", "no node answered with a usable height", config)
        return 2
    status = (
        f"height {stats.head:,}, cursor {stats.cursor:,}, {stats.healthy_nodes}/"
        f"{stats.healthy_nodes + stats.troubled_nodes} nodes healthy, "
        + (f"{push_summary(push)}, " if push else "")
        + f"{len(stats.alerts)} new alert(s)"
    )
    for node, cause in push.items():
        if cause is not None:  # a hint only: the watcher polls this node instead
            print(f"nemwatch check: push from {node}: {cause} (polled every poll_seconds instead)", file=sys.stderr)
    if stats.alerts:
        print(f"nemwatch check: ALERT: {status}", file=sys.stderr)
        return 1
    print(f"nemwatch check: OK: {status}", file=sys.stderr)
    return 0
