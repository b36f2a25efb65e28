"""Catching up: far behind the head, each block is read once and bound by the hash chain.

Reading every block from two nodes (``core.agreement``) costs two requests a block, so at the
polite rate of 5 requests a second per node a watcher one day behind (1,440 blocks) needs
minutes to catch up. When the cursor is more than ``catchup_after_blocks`` below the decided
head, the follower instead:

1. reads the range ahead once per block, spread over the healthy nodes, each within its own
   rate budget (``core.rangeread``: ten blocks a request from nodes that serve NIS's trusted
   ``blocks-after``, else one ``/block/at/public`` each);
2. links the copies with the hashes it computes itself (``core.hashchain``): the first must
   name the committed tip's hash, each next one the hash of the one below; a node that serves
   a linked block vouches for every block below it, so a block is committed once a second node
   served a linked block at or above it (the top of the range: one more copy of the last block
   from another node, which must have the same hash);
3. checks each block before committing it exactly as a reading of one node is checked
   (``agreement.judge``: the harvester's signature, the own signature of every matched
   transaction) and commits it with ``Engine._commit_block``, so the alerts are those of the
   slow path, block for block.

Anything else drops back to the slow path for the blocks concerned, which then raises what it
always raises: a copy that does not link (a rollback, or a node on another chain), a top that
no second node confirms, a block the checks refuse. Those heights are read two copies each,
asking first the nodes on both sides of the broken link (``first_nodes``): a node that serves
another chain is named in a ``node`` dissent alert as the slow path names it, and once the
slow path committed something else than a node's copy, that node gets no more of the range
until the follower has caught up. A rollback (the first copy does not link to the tip) is
found by the slow path's link check and handled by ``Engine._rollback`` as always.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from nemwatch.core import agreement
from nemwatch.core.hashchain import HashChain
from nemwatch.core.models import Block
from nemwatch.core.rangeread import RangeReader
from nemwatch.redact import redact_url

if TYPE_CHECKING:
    from nemwatch.core.engine import CycleStats, Engine

log = logging.getLogger("nemwatch.catchup")

__all__ = ["CatchUp", "SLOW_STRETCH"]

SLOW_STRETCH = 20  # blocks read the slow way after a pass that could commit nothing


class CatchUp:
    """The follower's fast path (see the module docstring); one per engine."""

    def __init__(self) -> None:
        self._first: dict[int, tuple[str, ...]] = {}  # height -> nodes the slow reading asks first
        self._copies: dict[int, tuple[str, str | None]] = {}  # height -> (node, hash) of a copy not committed
        self._slow_until = 0  # heights up to this are read the slow way
        self.distrusted: dict[str, str] = {}  # node -> why it gets no more of the range
        self.requests = 0  # requests the fast path made (the bench reports them)

    def wanted(self, engine: Engine, height: int, head: int) -> bool:
        """Read from ``height`` on the fast way? (far enough behind, and the hash chain usable)."""
        after = engine.settings.catchup_after_blocks
        if after <= 0 or head - height + 1 <= after:
            if self.distrusted and head - height + 1 <= after:
                self.distrusted.clear()  # caught up: every node is trusted again next time
            return False
        if height <= self._slow_until or engine.chain.linked is False or not engine._healthy:
            return False
        tip = engine.chain.refs.get(height - 1)
        return tip is not None and tip.hash is not None

    def slow(self, height: int) -> bool:
        """Must ``height`` be read the slow way now (a fallback in progress)?"""
        return height in self._first or height <= self._slow_until

    def first_nodes(self, height: int) -> tuple[str, ...]:
        """The nodes the slow reading of ``height`` asks first (none: the usual order)."""
        return self._first.pop(height, ())

    async def run(self, engine: Engine, first: int, head: int, stats: CycleStats) -> int:
        """Commit what can be committed from ``first`` on; return the next height to read (read
        the slow way when ``slow(height)``, else the cycle has done its share)."""
        self._review(engine)
        healthy = engine._healthy
        need = 2 if len(healthy) >= 2 else 1
        nodes = [n for n in healthy if n not in self.distrusted]
        tip = engine.chain.refs.get(first - 1)
        if tip is None or tip.hash is None:
            self._slow_until = first
            return first
        if len(nodes) < need:
            self._slow_until = head  # too few nodes left to vouch for a block: two copies each
            return first
        last = min(head, first - 1 + engine.settings.catchup_blocks_per_cycle)
        chain = HashChain(first - 1, tip.hash, need)
        reader = RangeReader(engine.source, nodes, first, last)
        refused: int | None = None  # a height the checks refused
        results = reader.results()
        try:
            async for node, blocks in results:
                chain.add(node, blocks)
                refused = await self._commit(engine, chain, chain.endorsed(), head, stats)
                if refused is not None or chain.broken is not None:
                    break
            if refused is None and chain.broken is None and chain.endorsed() < chain.linked_top == last:
                await self._confirm_top(engine, chain, nodes)
                refused = await self._commit(engine, chain, chain.endorsed(), head, stats)
        finally:
            await results.aclose()
            await reader.close()
            self.requests += reader.requests
        return self._fall_back(engine, chain, refused, first, last, head, reader.out)

    async def _commit(self, engine: Engine, chain: HashChain, upto: int, head: int, stats: CycleStats) -> int | None:
        """Commit the endorsed copies up to ``upto`` in order; the height the checks refuse, if any."""
        for copy in chain.take(upto):
            reading = agreement.judge(
                copy.height, {copy.node: copy.block}, engine.watch.matching, engine.settings.network, several=False
            )
            block = reading.block
            if block is None:  # a harvester or transaction signature fails: the slow path decides
                self._first[copy.height] = (copy.node,)
                self._copies[copy.height] = (copy.node, copy.block.hash)
                return copy.height
            await engine.mosaics.prefetch(engine.source, block.transactions, engine.watch)
            engine._commit_block(block, head, stats)
            engine._vetted = max(engine._vetted, copy.height)
        return None

    async def _confirm_top(self, engine: Engine, chain: HashChain, nodes: list[str]) -> None:
        """One copy of the top block from another node (one the head probe read, if any)."""
        top = chain.linked_top
        held = chain.copy_at(top)
        if held is None:
            return
        for node in (n for n in nodes if n != held.node):
            block: Block | None = engine._probed.pop((top, node), None)
            if block is None:
                try:
                    self.requests += 1
                    block = await engine.source.block_at(top, node=node)
                except Exception as err:  # noqa: BLE001 - another node may confirm it
                    log.info("catch-up: %s could not confirm block %d: %s", redact_url(node), top, err)
                    continue
            if not chain.confirm(node, block):
                self._copies[top] = (held.node, held.block.hash)
                self._first[top] = (node, held.node)
            return

    def _fall_back(
        self, engine: Engine, chain: HashChain, refused: int | None, first: int, last: int, head: int,
        out: dict[str, str],
    ) -> int:
        """Plan the slow reading of what could not be committed; return the next height."""
        if refused is not None:
            self._slow_until = refused
            return refused
        nxt = chain.base + 1
        broken = chain.broken
        if broken is not None:
            for copy in chain.copies():
                if copy.height < broken.height:
                    self._first[copy.height] = tuple(dict.fromkeys((copy.node, broken.node)))
                    self._copies[copy.height] = (copy.node, copy.block.hash)
            self._first[broken.height] = tuple(dict.fromkeys(n for n in (broken.node, broken.below) if n))
            held = chain.copy_at(broken.height)
            if held is not None:
                self._copies[broken.height] = (held.node, held.block.hash)
            self._slow_until = broken.height
            log.info(
                "catch-up: block %d from %s does not link (%s): heights %d-%d are read from two nodes",
                broken.height, redact_url(broken.node), broken.reason, nxt, broken.height,
            )
            return nxt
        if nxt > last:
            return nxt  # the range is committed: this cycle is done
        # not everything read, or the top not confirmed: the slow path takes the rest of the range
        for copy in chain.copies():
            if copy.height <= chain.linked_top:
                self._copies.setdefault(copy.height, (copy.node, copy.block.hash))
                self._first.setdefault(copy.height, (copy.node,))
        stretch = chain.linked_top if chain.linked_top >= nxt else nxt - 1 + SLOW_STRETCH
        self._slow_until = min(head, max(stretch, nxt))
        if out:
            log.info("catch-up: nodes left the range (%s)", "; ".join(f"{redact_url(n)}: {w}" for n, w in out.items()))
        return nxt

    def _review(self, engine: Engine) -> None:
        """A node whose copy lost to what the slow path committed gets no more of the range."""
        tip = engine.chain.tip or 0
        for height in [h for h in self._copies if h <= tip]:
            node, served = self._copies.pop(height)
            ref = engine.chain.refs.get(height)
            lost = ref is not None and ref.hash is not None and served is not None and served != ref.hash
            if lost and node not in self.distrusted:
                self.distrusted[node] = f"served another block {height}"
                log.warning("catch-up: %s served another block %d than the one committed: "
                            "it is read no more until the follower has caught up", redact_url(node), height)
        for height in [h for h in self._first if h <= tip]:
            del self._first[height]

