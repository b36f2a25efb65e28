"""``nemwatch check``: does each node's websocket push answer?

One session attempt per node, at the same time, bounded: a node whose push reaches "subscribed"
within the budget is live; otherwise the cause (upgrade refused with its HTTP status, the
connection refused, no SockJS open frame, the budget ran out). The push is a wake-up hint, so
its state is reported and never changes ``check``'s exit code: a watcher whose nodes serve no
push polls every ``poll_seconds`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from nemwatch.core.nem.push import PushChannel, PushEvent, PushHub, PushState

PROBE_SECONDS = 3.0


async def probe_channel(channel: PushChannel, budget: float = PROBE_SECONDS) -> str | None:
    """None when a fresh session with ``channel``'s node and settings subscribed within
    ``budget`` seconds, else why not."""
    subscribed = asyncio.Event()

    def seen(event: PushEvent) -> None:
        if isinstance(event, PushState) and event.live:
            subscribed.set()

    trial = PushChannel(channel.node, channel.url, channel.network, addresses=tuple, emit=seen,
                        settings=channel.settings)
    session = asyncio.ensure_future(trial.session_once())
    waiter = asyncio.ensure_future(subscribed.wait())
    try:
        done, _ = await asyncio.wait({session, waiter}, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            return None
        if session in done:
            err = session.exception()
            return trial.cause_of(err) if err is not None else "closed before subscribing"
        return f"no answer within {budget:g} s"
    finally:
        for task in (session, waiter):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def probe_push(hub: PushHub, budget: float = PROBE_SECONDS) -> Mapping[str, str | None]:
    """Every node's probe (node name -> None when live, else the cause), at the same time."""
    names = list(hub.channels)
    results = await asyncio.gather(*(probe_channel(hub.channels[n], budget) for n in names))
    return dict(zip(names, results, strict=True))


def push_summary(results: Mapping[str, str | None]) -> str:
    live = sum(1 for cause in results.values() if cause is None)
    return f"push {live}/{len(results)} live"


__all__ = ["PROBE_SECONDS", "probe_channel", "probe_push", "push_summary"]
