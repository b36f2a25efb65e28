"""Blocks read once each, bound together by their hashes (pure logic, no I/O).

Far behind the head the follower reads each block from ONE node (``core.catchup``) instead of
two. What still makes a block believable is the hash chain: block ``h + 1`` names the hash of
block ``h`` (``prevBlockHash``), and nemwatch computes every block's hash itself from the
block's content, transactions and signatures included. So a node that serves a block which
links to the chain vouches for every block below it: it cannot serve block ``h + 1`` naming
``hash(h)`` unless its own chain holds that very block ``h``.

``HashChain`` takes the copies as they come, from any node, and checks them link by link
from the last committed block (``base``, whose hash is known). Block ``h`` is *endorsed* when
``need`` different nodes served blocks at or above ``h`` in the linked run (or served the
same hash at such a height, ``confirm``): with two or more healthy nodes that is two, the
same rule as reading every block twice, paid once per run instead of once per block.

The first copy that does not link (another ``prevBlockHash``, or a block whose hash cannot be
computed here) *breaks* the chain: nothing at or above it is endorsed, and the follower reads
from the first block not yet endorsed up to that one the slow way, two copies each
(``core.agreement``), asking first the nodes on both sides of the broken link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from nemwatch.core.models import Block

__all__ = ["Break", "Copy", "HashChain", "link_fault"]


@dataclass(frozen=True, slots=True)
class Copy:
    """One node's copy of one block."""

    node: str
    block: Block

    @property
    def height(self) -> int:
        return self.block.height


@dataclass(frozen=True, slots=True)
class Break:
    """The copy at ``height`` (from ``node``) does not link to the one below (from ``below``)."""

    height: int
    node: str
    below: str | None  # the node whose copy of height - 1 it does not link to (None: the committed tip)
    reason: str


def link_fault(block: Block, hash_below: str) -> str:
    """Why ``block`` cannot follow a block whose hash is ``hash_below`` ("" when it can)."""
    if block.hash is None:
        return "its hash cannot be computed here (a transaction nemwatch cannot serialize)"
    if block.prev_block_hash != hash_below:
        return f"it names {block.prev_block_hash[:16]} as the block below, not {hash_below[:16]}"
    return ""


@dataclass
class HashChain:
    """Copies of the blocks above ``base`` (committed, hash ``base_hash``), linked as they come."""

    base: int
    base_hash: str
    need: int = 2  # nodes that must vouch for a block (1 with one healthy node: its word, checked)
    broken: Break | None = None
    _copies: dict[int, Copy] = field(default_factory=dict)
    _confirmed: dict[int, set[str]] = field(default_factory=dict)  # height -> other nodes serving the same hash
    _top: int | None = None  # the highest height linked without a gap from base

    def __post_init__(self) -> None:
        if self.need < 1:
            raise ValueError("need at least one node")
        self._top = self.base

    @property
    def linked_top(self) -> int:
        """The highest height linked to ``base`` without a gap (``base`` when none)."""
        return self._top if self._top is not None else self.base

    def copy_at(self, height: int) -> Copy | None:
        return self._copies.get(height)

    def add(self, node: str, blocks: Iterable[Block]) -> None:
        """Copies ``node`` served; the first copy of a height is kept (a later one confirms it
        when it has the same hash, and is ignored otherwise: the reader asks once per height)."""
        for block in blocks:
            height = block.height
            if height <= self.base:
                continue
            kept = self._copies.get(height)
            if kept is None:
                self._copies[height] = Copy(node, block)
            elif kept.node != node and block.hash is not None and block.hash == kept.block.hash:
                self._confirmed.setdefault(height, set()).add(node)
        self._extend()

    def confirm(self, node: str, block: Block) -> bool:
        """Another node's copy of a linked height: True when it is the same block (it then vouches
        for everything below it too); False when it differs or the height is not linked."""
        kept = self._copies.get(block.height)
        if kept is None or block.height > self.linked_top or block.hash is None or block.hash != kept.block.hash:
            return False
        if node != kept.node:
            self._confirmed.setdefault(block.height, set()).add(node)
        return True

    def _extend(self) -> None:
        top = self.linked_top
        while self.broken is None:
            copy = self._copies.get(top + 1)
            if copy is None:
                break
            below = self._copies.get(top)
            hash_below = below.block.hash if below is not None else self.base_hash
            fault = link_fault(copy.block, hash_below or "")
            if fault:
                self.broken = Break(top + 1, copy.node, below.node if below is not None else None, fault)
                break
            top += 1
        self._top = top

    def endorsed(self) -> int:
        """The highest height up to which every linked block is vouched for by ``need`` nodes
        (``base`` when none is)."""
        seen: set[str] = set()
        for height in range(self.linked_top, self.base, -1):
            seen.add(self._copies[height].node)
            seen.update(self._confirmed.get(height, ()))
            if len(seen) >= self.need:
                return height
        return self.base

    def take(self, upto: int) -> list[Copy]:
        """Remove and return the linked copies ``base + 1 .. upto`` (the caller commits them in
        order); ``base`` moves up to the last one."""
        upto = min(upto, self.linked_top)
        taken = [self._copies.pop(h) for h in range(self.base + 1, upto + 1)]
        for h in range(self.base + 1, upto + 1):
            self._confirmed.pop(h, None)
        if taken:
            self.base = upto
            self.base_hash = taken[-1].block.hash or ""
        return taken

    def copies(self) -> list[Copy]:
        """The copies still held above ``base``, lowest first."""
        return [self._copies[h] for h in sorted(self._copies)]
