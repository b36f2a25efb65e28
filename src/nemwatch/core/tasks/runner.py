"""The engine's side tasks, each an asyncio task of its own beside the block follower.

``nemwatch watch`` and the dashboard (``nemwatch.service_loop``) run the follower (head poll,
blocks, settling, expiry: ``Engine.cycle`` with ``tasks_apart`` set) every ``poll_seconds``,
and beside it, from here:

- the unconfirmed-pool watcher, every ``unconfirmed_poll_seconds`` (``core.tasks.pool``);
- the backfill of newly watched addresses, paced per page (``core.tasks.backfill``);
- the balance reconciler, one batch per ``balance_pass_seconds`` (``core.tasks.reconcile``),
  and the taint watch's between-blocks work (marker mosaics held, inferred exchanges).

Delivery (the outbox dispatcher, one loop per sink) and the price feed run beside them too;
those live outside the core. So a 30 s webhook, a 2,000-page backfill or a balance round
never delays the next block, and an alert is handed to delivery as soon as the transaction
that stored it commits. Each task survives its own failures (logged in one line, retried on
its next turn) and ends when ``stop`` is set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nemwatch.core.engine import Engine

log = logging.getLogger("nemwatch.engine")


async def _pause(sleep: Awaitable[None], stop: asyncio.Event) -> None:
    waiters = {asyncio.ensure_future(sleep), asyncio.ensure_future(stop.wait())}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()


async def _every(
    name: str, engine: Engine, stop: asyncio.Event, seconds: Callable[[], float], work: Callable[[int], Awaitable[None]]
) -> None:
    """Run ``work(head)`` every ``seconds()`` once the follower knows the head, until ``stop``."""
    while not stop.is_set():
        decision = engine._decision
        head = decision.head if decision is not None else None
        if head is not None:
            try:
                await work(head)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # this task's failure is its own: the others go on
                log.error("%s failed: %s: %s", name, type(err).__name__, err)
                log.debug("%s failed", name, exc_info=True)
        await _pause(engine.task_sleep(max(0.05, seconds())), stop)


def side_tasks(engine: Engine, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
    """The coroutines to run beside the follower (see the module docstring)."""
    from nemwatch.core.engine import CycleStats

    s = lambda: engine.settings  # noqa: E731 - a reload replaces the settings

    async def pool(head: int) -> None:
        # this task's own timer paces the look; while the push is live the pass checks the
        # stretched interval itself (core.tasks.pool)
        await engine.pool.run_pass(engine, CycleStats(), force=not engine.pool.push_live())

    async def backfill(head: int) -> None:
        await engine.backfiller.run_pass(engine, head)

    async def reconcile(head: int) -> None:
        stats = CycleStats()
        await engine.reconciler.run_pass(engine, head, stats)
        if engine.taint is not None:  # marker mosaics held, exchanges inferred from history
            await engine.taint.on_cycle(head, stats)

    return [
        _every("unconfirmed pool", engine, stop, lambda: s().unconfirmed_poll_seconds, pool),
        _every("backfill", engine, stop, lambda: s().poll_seconds, backfill),
        _every("balance check", engine, stop, lambda: s().poll_seconds, reconcile),
    ]


__all__ = ["side_tasks"]
