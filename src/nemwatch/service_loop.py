"""The one run loop of a watcher, driven alike by ``nemwatch watch`` and the dashboard.

The block follower (engine cycles with ``tasks_apart``: head poll, blocks, settling) every
``poll_seconds``; beside it, each an asyncio task of its own: the unconfirmed-pool watcher,
the backfill, the balance reconciler (``core.tasks.runner``), delivery (one loop per sink,
told after each commit), the price feed (its own ``poll_seconds``), the retention pruner and
the websocket push (``core.tasks.pushwake``), whose pushes end the pause at once.
Nothing slow in one of them delays the next block. A face passes a ``stop`` event, optionally a
``reload`` event (SIGHUP for the headless face) with the config path to re-read, and optionally
``on_price`` to hear of each price poll. Setting ``reload`` or ``stop`` ends the pause between
cycles at once. When the loop ends, the side tasks get a few seconds to finish, then are
cancelled. A failed cycle is logged and published, never raised: the watcher runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from nemwatch.core.engine import CycleStats
from nemwatch.core.tasks.runner import side_tasks
from nemwatch.service import Service

log = logging.getLogger("nemwatch.headless")

SIDE_TASK_GRACE = 10.0  # seconds the price feed and the pruner get to finish once stopped


async def run_service(
    service: Service,
    stop: asyncio.Event,
    *,
    reload: asyncio.Event | None = None,
    config_path: Path | None = None,
    on_price: Callable[[], None] | None = None,
) -> CycleStats | None:
    """Run ``service`` until ``stop`` is set (see the module docstring); the last good cycle's stats."""
    side: list[asyncio.Task[None]] = []
    engine = service.engine
    engine.tasks_apart = True
    side.append(asyncio.create_task(delivery_loop(service, stop)))
    side.extend(asyncio.create_task(work) for work in side_tasks(engine, stop))
    if service.monitor is not None:
        side.append(asyncio.create_task(price_loop(service, stop, on_price)))
    if service.pruner is not None:  # [retention], hourly by default
        side.append(asyncio.create_task(service.pruner.run(stop)))
    push = service.push
    if push is not None:  # [network] push: a pushed block or pool transaction wakes the follower
        side.append(asyncio.create_task(push.run(stop)))
    last: CycleStats | None = None
    try:
        while not stop.is_set():
            if reload is not None and reload.is_set():
                reload.clear()
                await service.reload(config_path)
            if push is not None:
                push.wake.clear()  # a push during the cycle wakes the next one at once
            stats = await service.engine.cycle_or_report()
            last = stats if stats is not None else last
            if stop.is_set():
                break
            if still_catching_up(stats):
                await asyncio.sleep(0)  # behind and moving: the next range at once, not after a poll
                continue
            wake = [stop] if reload is None else [stop, reload]
            if push is not None:
                wake.append(push.wake)
            await pause(service.engine.sleep(service.engine.settings.poll_seconds), wake)
    finally:
        stop.set()
        for task in side:
            try:
                await asyncio.wait_for(task, timeout=SIDE_TASK_GRACE)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        engine.tasks_apart = False
    return last


def still_catching_up(stats: CycleStats | None) -> bool:
    """A cycle that committed blocks and stopped below the head (its per-cycle cap): the next
    cycle follows at once. One that made no progress waits for the poll, so a node that keeps
    failing is never asked in a tight loop."""
    if stats is None or stats.head is None or stats.cursor is None:
        return False
    return stats.blocks > 0 and stats.cursor < stats.head


async def delivery_loop(service: Service, stop: asyncio.Event) -> None:
    """The dispatcher's loops (one per sink) until ``stop``; a reload that replaces the
    dispatcher (its sinks changed) ends the old one's loops and starts the new one's."""
    while not stop.is_set():
        dispatcher = service.dispatcher
        done = asyncio.Event()

        async def watch_swap() -> None:
            while not stop.is_set() and service.dispatcher is dispatcher:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=0.5)
            done.set()

        swap = asyncio.create_task(watch_swap())
        try:
            await dispatcher.run(done)
            if not stop.is_set() and service.dispatcher is dispatcher:
                await pause(service.engine.task_sleep(1.0), [stop])  # never spin
        except Exception as err:  # delivery must not end the watcher: the outbox keeps the rows
            log.error("delivery failed: %s: %s", type(err).__name__, err)
            await pause(service.engine.task_sleep(1.0), [stop])
        finally:
            swap.cancel()


async def price_loop(service: Service, stop: asyncio.Event, on_price: Callable[[], None] | None = None) -> None:
    """Check the price sources and fill the history, then poll every ``[price] poll_seconds``."""
    await service.start_price()
    if on_price is not None:
        on_price()
    while not stop.is_set() and service.monitor is not None:
        await service.poll_price()
        if on_price is not None:
            on_price()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=service.config.price.poll_seconds)


async def pause(sleep: Awaitable[None], wake: list[asyncio.Event]) -> None:
    """Wait for ``sleep`` (the engine's injected sleep) or for any of ``wake`` to be set."""
    waiters = {asyncio.ensure_future(sleep), *(asyncio.ensure_future(e.wait()) for e in wake)}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()
