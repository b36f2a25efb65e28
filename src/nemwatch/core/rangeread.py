"""Read a range of heights once each, spread over several nodes at once.

Each node works its own share of the range concurrently with the others (``INFLIGHT`` requests
at a time), always taking the lowest heights still unread, so copies arrive roughly in order
and from every node in turn. How fast each node goes is its own rate budget: the client's
per-node token bucket paces every request, so a node is never asked faster than configured.

A node that serves ``/local/chain/blocks-after`` gets up to ten consecutive heights per request;
a node that refuses it (``Unsupported``: the client remembers that after one probe) gets one
``/block/at/public`` per height. A node that fails (an error after the client's retries, or no
block where it was asked) is asked nothing more in this range and what it held goes back to
the others. Copies come out of ``results()`` as ``(node, blocks)``; it ends when every height
was served or no node is left to ask.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from nemwatch.core.models import Block
from nemwatch.core.nem.errors import Unsupported
from nemwatch.redact import redact_url

log = logging.getLogger("nemwatch.catchup")

__all__ = ["BULK", "INFLIGHT", "RangeReader"]

BULK = 10  # blocks NIS answers blocks-after with
INFLIGHT = 2  # requests a node has under way at once (its token bucket still paces them)


class RangeReader:
    """Heights ``first .. last`` from ``nodes`` (see the module docstring)."""

    def __init__(self, source: Any, nodes: Sequence[str], first: int, last: int, *, inflight: int = INFLIGHT) -> None:
        self._source = source
        self._nodes = tuple(nodes)
        self._pending = list(range(first, last + 1))  # a heap: sorted is a heap
        self._inflight = max(1, inflight)
        self._bulk: Callable[..., Awaitable[Sequence[Block]]] | None = getattr(source, "blocks_after", None)
        serves = getattr(source, "serves_blocks_after", None)
        self._no_bulk = {n for n in self._nodes if self._bulk is None or (serves is not None and serves(n) is False)}
        self._probing: set[str] = set()  # nodes whose first blocks-after is under way (one probe each)
        self._bulk_ok: set[str] = set()  # nodes that answered blocks-after in this range
        self._out: dict[str, str] = {}  # node -> why it is asked nothing more
        self._queue: asyncio.Queue[tuple[str, tuple[Block, ...]] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._busy = 0  # heights taken and not yet given back or served
        self.requests = 0

    @property
    def out(self) -> dict[str, str]:
        return dict(self._out)

    async def results(self) -> AsyncIterator[tuple[str, tuple[Block, ...]]]:
        """Copies as they arrive, until every height is served or no node is left."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._work(node)) for node in self._nodes for _ in range(self._inflight)
            ]
            running = len(self._tasks)
        while True:
            item = await self._queue.get()
            if item is None:
                running -= 1
                if running == 0:
                    return
                continue
            yield item

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):  # stopping: errors are moot
                await task

    def _take(self, node: str) -> list[int]:
        if not self._pending or node in self._probing:
            return []  # (while a node's first blocks-after is under way its other worker waits)
        first = heapq.heappop(self._pending)
        chunk = [first]
        if node not in self._no_bulk:
            while self._pending and self._pending[0] == chunk[-1] + 1 and len(chunk) < BULK:
                chunk.append(heapq.heappop(self._pending))
        return chunk

    def _give_back(self, heights: Sequence[int]) -> None:
        for height in heights:
            heapq.heappush(self._pending, height)

    async def _read(self, node: str, chunk: list[int]) -> tuple[Block, ...]:
        self.requests += 1
        if node not in self._no_bulk and self._bulk is not None:
            probe = node not in self._bulk_ok
            if probe:
                self._probing.add(node)
            try:
                blocks = await self._bulk(chunk[0] - 1, node=node)
            except Unsupported:
                self._no_bulk.add(node)
                raise
            finally:
                self._probing.discard(node)
            self._bulk_ok.add(node)
            wanted = set(chunk)
            return tuple(b for b in blocks if b.height in wanted)
        return (await self._source.block_at(chunk[0], node=node),)

    async def _work(self, node: str) -> None:
        try:
            while node not in self._out:
                chunk = self._take(node)
                if not chunk:
                    if self._busy == 0:
                        return
                    await asyncio.sleep(0.01)  # another request of the range may give heights back
                    continue
                self._busy += 1
                try:
                    blocks = await self._read(node, chunk)
                except asyncio.CancelledError:
                    self._give_back(chunk)
                    raise
                except Unsupported:
                    self._give_back(chunk)  # read one by one from now on (the client remembers)
                    continue
                except Exception as err:  # this node is done for this range; the others go on
                    self._give_back(chunk)
                    self._out.setdefault(node, f"{type(err).__name__}: {err}"[:200])
                    log.info("catch-up: %s asked nothing more this pass: %s", redact_url(node), self._out[node])
                    return
                finally:
                    self._busy -= 1
                served = {b.height for b in blocks}
                missing = [h for h in chunk if h not in served]
                self._give_back(missing)
                if missing and chunk[0] in missing:
                    self._out.setdefault(node, f"no block {chunk[0]} served")
                if blocks:
                    await self._queue.put((node, blocks))
        finally:
            await self._queue.put(None)
