"""A node that serves a block it made up: the ``forge`` fault.

NIS1 blocks carry the harvester's signature, and a node can harvest with its own key. So a
dishonest node can serve, at some height, a block of its own: the same parent, the real
block's transactions minus the ones it wants to hide, plus transfers it invents, signed as a
whole with its own key. Everything about such a block verifies except the invented transfers'
own signatures: the node has no key of the accounts it makes them come from, so it signs
them with its own (what a forger would do with the key it has).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from nemwatch.core.models import Network
from nemwatch.core.nem import txhash
from nemwatch.sim.keys import SimKey
from nemwatch.sim.txbuild import TxBuilder


@dataclass(frozen=True, slots=True)
class Invented:
    """A transfer the forger makes up: from the account of ``sender_public_key``."""

    sender_public_key: str
    recipient: str
    xem: int  # micro-XEM


@dataclass(frozen=True, slots=True)
class Forgery:
    hide: tuple[str, ...] = ()  # hashes of the real block's transactions left out
    invent: tuple[Invented, ...] = ()


def forge_block(real: dict[str, Any], forgery: Forgery, forger: SimKey, network: Network) -> dict[str, Any]:
    """The forged NIS JSON of ``real`` (a ``SimBlock.to_json()``), signed by ``forger``."""
    block = copy.deepcopy(real)
    hidden = set(forgery.hide)
    kept = [tx for tx in block["transactions"] if txhash.transaction_hash(tx, network) not in hidden]
    builder = TxBuilder(network)
    for n, item in enumerate(forgery.invent):
        made = builder.transfer(forger, item.recipient, timestamp=block["timeStamp"] - 1 - n, xem=item.xem)
        body = dict(made.json)
        body["signer"] = item.sender_public_key  # claimed to come from there; signed by the forger
        kept.append(body)
    block["transactions"] = kept
    block["signer"] = forger.public_key
    payload = txhash.block_signing_bytes(block, network)
    block["signature"] = forger.key_pair.sign(payload).bytes.hex()
    return block


__all__ = ["Forgery", "Invented", "forge_block"]
