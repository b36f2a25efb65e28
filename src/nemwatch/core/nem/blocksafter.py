"""``POST /local/chain/blocks-after {"height": h}``: up to ten blocks after ``h`` in one answer.

NIS answers with ``{"data": [ExplorerBlockViewModel, ...]}``, each item being
``{"block": <Block as /block/at/public serves it>, "hash": "<block hash>", "difficulty": n,
"txes": [{"tx": <transaction>, "hash": "<hash>", "innerHash": "<inner hash>"}, ...]}`` (the
``innerHash`` only on a multisig wrapper), for the heights ``h + 1`` up to ``h + 10`` that the
node has. It is a ``@TrustedApi``: a node answers it only to its own host and the IPs its
operator listed, everyone else gets 401.

Nothing the node says about hashes is taken on its word: every block is parsed as
``codec.parse_block`` parses ``/block/at/public`` (its hash computed here, the harvester's
signature checked), and the hashes the node sends beside it must be the ones computed; a node
that sends others gave an unusable answer (``ParseError``, which the client reports as
``MalformedResponse``). A block whose hash cannot be computed here (a transaction type
nemwatch cannot serialize) keeps ``hash = None``: nothing links to it, so the follower reads
that height the slow way.
"""

from __future__ import annotations

from typing import Any

from nemwatch.core.models import Block, Network
from nemwatch.core.nem import codec
from nemwatch.core.nem import nisjson as j
from nemwatch.core.nem.nisjson import ParseError

__all__ = ["BLOCKS_AFTER_PATH", "BLOCKS_AFTER_LIMIT", "parse_blocks_after"]

BLOCKS_AFTER_PATH = "/local/chain/blocks-after"
BLOCKS_AFTER_LIMIT = 10  # NIS's ChainController answers at most this many blocks


@j.untrusted
def parse_blocks_after(obj: Any, after: int, network: Network = Network.MAINNET) -> tuple[Block, ...]:
    """The blocks of a blocks-after answer for ``after``: consecutive from ``after + 1``."""
    items = j.as_list(j.as_dict(obj, "blocks-after").get("data"), "blocks-after data")
    if len(items) > BLOCKS_AFTER_LIMIT:
        raise ParseError(f"blocks-after: {len(items)} blocks, NIS sends at most {BLOCKS_AFTER_LIMIT}")
    blocks: list[Block] = []
    for offset, item in enumerate(items):
        d = j.as_dict(item, "blocks-after item")
        height = after + 1 + offset
        block = codec.parse_block(d.get("block"), height, network)  # raises when not the next height
        served = j.hex_field(d, "hash", 32).hex()
        if block.hash is not None and served != block.hash:
            raise ParseError(f"blocks-after: block {height}: the hash sent with it is not the block's hash")
        txes = j.array(d, "txes")
        if block.hash is not None:  # every transaction serialized here: their hashes are known
            _check_txes(txes, block)
        blocks.append(block)
    return tuple(blocks)


def _check_txes(txes: list[Any], block: Block) -> None:
    if len(txes) != len(block.transactions):
        raise ParseError(f"blocks-after: block {block.height}: txes does not list the block's transactions")
    for entry, tx in zip(txes, block.transactions, strict=True):
        e = j.as_dict(entry, "blocks-after txes item")
        if tx.hash and j.hex_field(e, "hash", 32).hex() != tx.hash:
            raise ParseError(f"blocks-after: block {block.height}: a transaction hash sent is not the transaction's")
        inner = e.get("innerHash")
        if tx.inner_hash and inner is not None and j.hex_value(inner, "innerHash", 32).hex() != tx.inner_hash:
            raise ParseError(f"blocks-after: block {block.height}: an inner hash sent is not the transaction's")
