"""Follow the chain block by block and detect rollbacks.

NIS1 can rewrite up to 360 blocks. A block does not carry its own hash; the next block's
``prevBlockHash`` does. The follower keeps the recent chain (height -> signature, prev hash,
computed hash) and checks every new block against it:

- *linked mode*: when the locally computed block hash has been seen to match the chain (the
  next block's ``prevBlockHash``), a new block whose ``prevBlockHash`` differs from the stored
  hash of its parent reveals a fork at once, at no extra request;
- *re-read mode*: when the computed hash does not match (a node version whose block layout we
  do not reproduce), the stored tip is re-read each time new blocks arrive and compared by
  signature (one extra request per cycle).

A fork's common ancestor is found by binary search over the stored window (signatures match at
and below the ancestor, differ above it), so a 359-block rollback costs about nine reads.

A fork can also reach the oldest block kept: right after the start, only the anchor (the block
at the start height) and the few blocks processed since are kept. The follower then walks back
on the nodes: the new chain's block at the oldest kept height names its parent's hash
(``prevBlockHash``); when it matches the parent hash stored with the old block, the ancestor is
exactly the height below. When it does not, nothing we processed survives: the follower
re-follows from the oldest kept height, as long as the fork is not deeper than NIS can rewrite
(``REWRITE_LIMIT``); a deeper one is refused (``DeepRollbackError``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from nemwatch.core.models import Block

log = logging.getLogger("nemwatch.follow")

BlockReader = Callable[[int], Awaitable[Block]]

REWRITE_LIMIT = 360


class DeepRollbackError(RuntimeError):
    """The chain diverges below everything we keep: deeper than NIS can rewrite."""


@dataclass(frozen=True, slots=True)
class BlockRef:
    height: int
    signature: str
    prev_hash: str
    hash: str | None


@dataclass(frozen=True, slots=True)
class Fork:
    """The chain was rewritten above ``ancestor``: stored heights above it are void."""

    ancestor: int
    old_tip: int
    beyond_window: bool = False  # the fork reached the oldest block kept
    exact: bool = True  # False: the true ancestor is lower; ``ancestor`` is where re-following starts


@dataclass
class RecentChain:
    """The last ``window`` blocks we processed, by height."""

    window: int = REWRITE_LIMIT + 40
    linked: bool | None = None  # None: not yet calibrated
    refs: dict[int, BlockRef] = field(default_factory=dict)

    @property
    def tip(self) -> int | None:
        return max(self.refs) if self.refs else None

    def load(self, refs: Iterable[BlockRef]) -> None:
        for ref in refs:
            self.refs[ref.height] = ref

    def load_rows(self, rows: Iterable[object]) -> None:
        """Load stored block rows (anything with height, signature, prev_hash and hash)."""
        self.load(
            BlockRef(r.height, r.signature, r.prev_hash, r.hash)  # type: ignore[attr-defined]
            for r in rows
        )

    def add(self, block: Block) -> BlockRef:
        ref = BlockRef(block.height, block.signature, block.prev_block_hash, block.hash)
        parent = self.refs.get(block.height - 1)
        if parent is not None and parent.hash is not None and self.linked is None:
            self.linked = parent.hash == block.prev_block_hash
            if not self.linked:
                log.warning(
                    "computed block hashes do not match this chain; rollbacks are detected by re-reading the tip"
                )
        self.refs[block.height] = ref
        for h in [h for h in self.refs if h <= block.height - self.window]:
            del self.refs[h]
        return ref

    def drop_above(self, height: int) -> None:
        for h in [h for h in self.refs if h > height]:
            del self.refs[h]

    def breaks_link(self, block: Block) -> bool:
        """True when ``block`` cannot follow what we stored (linked mode only)."""
        if not self.linked:
            return False
        parent = self.refs.get(block.height - 1)
        return parent is not None and parent.hash is not None and parent.hash != block.prev_block_hash


async def find_ancestor(chain: RecentChain, read: BlockReader, below: int) -> Fork:
    """Binary-search the highest stored height at or below ``below`` whose block is unchanged."""
    old_tip = chain.tip if chain.tip is not None else below
    heights = sorted(h for h in chain.refs if h <= below)
    if not heights:
        if not chain.refs:
            raise DeepRollbackError("no stored block to compare with")
        heights = [min(chain.refs)]
    oldest = await read(heights[0])
    if oldest.signature != chain.refs[heights[0]].signature:
        return walk_back(chain, oldest, old_tip)
    # invariant: heights[:lo] are unchanged, heights[hi + 1:] have changed
    found = heights[0]
    lo, hi = 1, len(heights) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        h = heights[mid]
        same = (await read(h)).signature == chain.refs[h].signature
        if same:
            found = h
            lo = mid + 1
        else:
            hi = mid - 1
    return Fork(ancestor=found, old_tip=old_tip)


def walk_back(chain: RecentChain, new_oldest: Block, old_tip: int) -> Fork:
    """The fork reached the oldest kept block (``new_oldest`` is the nodes' block there now)."""
    height = new_oldest.height
    kept = chain.refs[height]
    if new_oldest.prev_block_hash == kept.prev_hash:
        ancestor, exact = height - 1, True  # its parent is shared: the fork starts right here
    else:
        ancestor, exact = height - 1, False  # lower still; we processed nothing down there
    depth = old_tip - ancestor + (0 if exact else 1)
    if depth > REWRITE_LIMIT:
        raise DeepRollbackError(
            f"the chain differs at height {height}, the oldest block kept, and below: "
            f"at least {depth} blocks deep, more than the {REWRITE_LIMIT} NIS can rewrite"
        )
    log.warning(
        "fork reaches the oldest kept block %d (old tip %d): re-following from %d%s",
        height, old_tip, height, "" if exact else " (the common ancestor is lower)",
    )
    return Fork(ancestor=ancestor, old_tip=old_tip, beyond_window=True, exact=exact)
