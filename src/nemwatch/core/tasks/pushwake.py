"""The websocket push wired into the engine: a wake-up hint, REST the source of truth.

``PushWake.run`` starts the push channels (``core.nem.push.PushHub``) and reads their events:

- ``PushedHeight``: the node's pushed height stands in for its REST height answer
  (``HeightPoll.pushed``) and ``wake`` is set, so the follower runs at once: it decides the head
  from every node's word (a lone node's height is never the head: ``core.head``, and the head's
  block must be served over REST), reads the new block over REST and commits it when two nodes
  agree, as for a polled height. A pushed height at or below what the node said before is a
  rollback hint: every node is asked over REST and the follower checks the stored block at
  that height against the nodes' (``check_pushed_rollback``), rewinding when it changed.
- ``PushedTransaction`` for a watched address: the unconfirmed path of the pool watcher at once
  (``PoolWatch.consider``, alert stage ``unconfirmed``), only when the transaction's own
  signature verifies; anything else is ignored and counted.
- ``PushState``: a node that (re)connected or went down is asked over REST at the next cycle,
  which comes at once: what it pushed while away is read from the follower's cursor over REST
  (nothing is lost in a push gap), and a node whose push is down is polled every
  ``poll_seconds`` again. While a node's push is live, its REST height poll and the pool look
  stretch to ``safety_seconds`` (``HeightPoll``, ``PoolWatch``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from nemwatch.core.nem.push import PushedHeight, PushedTransaction, PushHub, PushState
from nemwatch.redact import redact_url

if TYPE_CHECKING:
    from nemwatch.core.engine import CycleStats, Engine

log = logging.getLogger("nemwatch.engine")


class PushWake:
    def __init__(self, engine: Engine, hub: PushHub, *, safety_seconds: float = 60.0) -> None:
        self.engine = engine
        self.hub = hub
        self.wake = asyncio.Event()  # set: the follower should run a cycle now
        self.rollback_at: int | None = None  # the lowest height a node re-applied (a rollback hint)
        self.ignored = 0  # pushed transactions ignored (bad signature, not watched)
        self.alerted = 0  # pushed transactions that went through the unconfirmed path
        engine.heightpoll.live = hub.live
        engine.heightpoll.safety_every = safety_seconds
        engine.pool.push_live = hub.any_live
        engine.pool.safety_every = safety_seconds
        engine.push = self  # the follower's rollback check reads ``rollback_at``

    @staticmethod
    def addresses(engine: Engine) -> Callable[[], Sequence[str]]:
        """The addresses each channel subscribes: the urgent ones (as the pool watcher reads)."""
        return lambda: list(engine.watch.urgent)

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: the channels run, their events are handled in order."""
        self.hub.start()
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                got = asyncio.ensure_future(self.hub.events.get())
                await asyncio.wait({got, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if not got.done():
                    got.cancel()
                    break
                try:
                    await self.handle(got.result())
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # one bad event must not end the push
                    log.error("push event failed: %s: %s", type(err).__name__, err)
        finally:
            stopped.cancel()
            await self.hub.aclose()
            self.engine.heightpoll.live = lambda url: False
            self.engine.pool.push_live = lambda: False

    async def handle(self, event: PushedHeight | PushedTransaction | PushState) -> None:
        poll = self.engine.heightpoll
        if isinstance(event, PushState):
            log.info("push from %s %s (%s)", redact_url(event.node), "live" if event.live else "down", event.cause)
            poll.flag(event.node)
            self.wake.set()
        elif isinstance(event, PushedHeight):
            if poll.pushed(event.node, event.height):
                self.rollback_at = event.height if self.rollback_at is None else min(self.rollback_at, event.height)
                log.warning("%s pushed height %d, at or below its last: checking for a rollback",
                            redact_url(event.node), event.height)
            self.wake.set()
        else:
            await self._transaction(event)

    async def _transaction(self, event: PushedTransaction) -> None:
        from nemwatch.core.engine import CycleStats

        engine, tx = self.engine, event.transaction
        if tx.signature_valid is not True or event.address not in engine.watch or not engine.watch.involves(tx):
            self.ignored += 1
            if tx.signature_valid is not True:
                log.warning("pushed %s from %s does not verify against its signer; ignored",
                            tx.hash, redact_url(event.node))
            return
        self.alerted += 1
        await engine.pool.consider(engine, [tx], engine.clock(), CycleStats())


async def check_pushed_rollback(engine: Engine, head: int, stats: CycleStats) -> None:
    """A node pushed a height at or below its last (``PushWake.rollback_at``): is the stored
    block there still the nodes' block? If not, rewind and re-read as for any fork."""
    push = getattr(engine, "push", None)
    hint = push.rollback_at if push is not None else None
    if hint is None:
        return
    push.rollback_at = None
    from nemwatch.core.engine import CHAIN_CURSOR, tip_changed_at

    cursor = engine.store.get_cursor(CHAIN_CURSOR)
    refs = engine.chain.refs
    if cursor is None or not refs:
        return
    height = max(hint, min(refs))
    if height > cursor.height or height not in refs:
        return
    if await tip_changed_at(engine.chain, engine.read_block, height):
        await engine._rollback(cursor.height, head, stats)


__all__ = ["PushWake", "check_pushed_rollback"]
