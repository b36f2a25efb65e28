"""The headless face: run the engine as a long-lived service that emits alerts.

stdout carries one JSON object per alert per line and nothing else (when the ``stdout`` sink is
configured); logs go to stderr. SIGTERM and SIGINT stop cleanly: the cycle in progress commits
or rolls back as a whole, then the outbox is flushed once more. SIGHUP re-reads the config
(watch list, labels, sinks); a config that does not validate is reported and the old one kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from nemwatch.core.engine import CycleStats
from nemwatch.headless.logscrub import FILTER
from nemwatch.service_loop import run_service

# The wiring (config -> store, client, engine, bus, delivery, prices) is shared with the dashboard;
# these names stay importable from here.
from nemwatch.service import (  # noqa: F401
    Service,
    build_sink_names,
    build_watchset,
    engine_settings,
    make_client,
    utcnow,
)

log = logging.getLogger("nemwatch.headless")


async def run_watch(service: Service, *, once: bool, config_path: Path | None) -> CycleStats | None:
    """Run the service loop (``service_loop``) until SIGTERM or SIGINT, re-reading the config on
    SIGHUP; or, ``once``, fetch the price (bounded) and run one cycle. The last cycle's stats."""
    stop = asyncio.Event()
    hup = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    for sig, event in ((signal.SIGTERM, stop), (signal.SIGINT, stop), (signal.SIGHUP, hup)):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals off the main thread
            loop.add_signal_handler(sig, event.set)
            installed.append(sig)
    try:
        if not once:
            return await run_service(service, stop, reload=hup, config_path=config_path)
        await price_once(service)
        try:
            return await service.engine.cycle()
        except Exception as err:
            log.error("cycle failed: %s: %s", type(err).__name__, err)
            raise
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


ONCE_PRICE_BUDGET = 8.0  # seconds a one-cycle run (watch --once, check) gives the price feed


async def price_once(service: Service, budget: float = ONCE_PRICE_BUDGET) -> None:
    """The price for a one-cycle run: nodes first, then a price fetch bounded by ``budget``.

    Without network every price source fails; asking them first would delay the answer that
    matters (no node answers: cannot work) by many seconds. So the nodes are asked for their
    height first (one try each, side by side); only when one answers is the price fetched, and
    then for at most ``budget`` seconds (alerts go out without a JPY amount past it).
    """
    if service.monitor is None:
        return
    heights = getattr(service.client, "heights", None)
    if heights is not None:
        answers = await heights()
        if not any(isinstance(h, int) for h in answers.values()):
            log.warning("no node answers: the price is not fetched this run")
            return
    try:
        async with asyncio.timeout(budget):
            await service.start_price()
            await service.poll_price()
    except TimeoutError:
        log.warning("price: no answer within %g s; alerts of this run carry no JPY amount", budget)


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(FILTER)  # every record, of any logger, is scrubbed of the protected secrets
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if verbose < 2:
        for noisy in ("httpx", "httpcore", "apprise", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
