"""Reading past the 25-entry cap of ``/account/unconfirmedTransactions``.

NIS answers ``/account/unconfirmedTransactions`` with the 25 pool transactions of the account
with the newest ``timeStamp`` (``AccountController.MAX_UNCONFIRMED_TRANSACTIONS``), and takes no
paging parameter. A busy hot wallet can have more than 25 (deposits keep arriving), and a
transaction's ``timeStamp`` is chosen by whoever signs it: a thief can date a withdrawal
hours back so that it sorts below the deposits and never shows.

When the answer is full, the rest of the pool is read from ``POST /transactions/unconfirmed``,
the endpoint nodes use to sync pools with each other: it returns every pool transaction whose
hash short id (the first 8 bytes of the hash, a big-endian signed long) is not in the request.
So each round sends the short ids of everything already seen and gets only what is new; the
rounds stop when one brings nothing new. The answer is ``{"entity": {"data": [tx...]},
"signature": ...}`` (the node's signature over the request's random challenge; not needed
here: every entry's own signer signature is verified, as for the capped answer).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from nemwatch.core.models import TYPE_MULTISIG_COSIGNATURE, Network, Transaction, Transfer
from nemwatch.core.nem import codec
from nemwatch.core.nem import nisjson as j

UNCONFIRMED_CAP = 25  # NIS AccountController.MAX_UNCONFIRMED_TRANSACTIONS
MAX_POOL_ROUNDS = 8
POOL_SYNC_PATH = "/transactions/unconfirmed"


def short_id(tx_hash: str) -> int:
    """NIS ``Hash.getShortId``: the first 8 bytes of the hash as a big-endian signed long."""
    return int.from_bytes(bytes.fromhex(tx_hash)[:8], "big", signed=True)


def pool_request(known_hashes: Iterable[str], challenge: bytes | None = None) -> dict[str, Any]:
    """The body of ``POST /transactions/unconfirmed`` (an ``AuthenticatedUnconfirmedTransactionsRequest``)."""
    data = challenge if challenge is not None else os.urandom(64)
    return {
        "challenge": {"data": data.hex()},
        "entity": {"hashShortIds": [{"hashShortId": short_id(h)} for h in sorted(set(known_hashes))]},
    }


@j.untrusted
def parse_pool_answer(obj: Any, network: Network = Network.MAINNET) -> tuple[Transaction, ...]:
    """The transactions of an ``AuthenticatedResponse``; cosignatures (4098) are left out, as
    NIS leaves them out of the per-account answer (they travel inside their multisig wrapper)."""
    entity = j.as_dict(j.required(j.as_dict(obj, "answer"), "entity"), "entity")
    items = [
        {"meta": {"data": None}, "transaction": tx}
        for tx in j.array(entity, "data")
        if not (isinstance(tx, dict) and tx.get("type") == TYPE_MULTISIG_COSIGNATURE)
    ]
    return codec.parse_unconfirmed({"data": items}, network)


def involves(tx: Transaction, address: str) -> bool:
    """Would NIS list ``tx`` for ``address``? (sender, cosigner who signed, or recipient)."""
    if address in (tx.sender, tx.initiator):
        return True
    return isinstance(tx, Transfer) and tx.recipient == address


__all__ = ["MAX_POOL_ROUNDS", "POOL_SYNC_PATH", "UNCONFIRMED_CAP", "involves", "parse_pool_answer", "pool_request", "short_id"]
