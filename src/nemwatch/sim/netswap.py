"""Show a mainnet chain as if it were testnet (the "wrong network" fault).

An address keeps its key hash and gets the other network byte and a new checksum; a
``version`` gets the other network byte; ``networkId`` flips sign. Signatures and hashes are
left as they are: a client that checks the network first never gets that far.
"""

from __future__ import annotations

import base64
from typing import Any

import sha3

from nemwatch.core.models import Network

_ADDRESS_KEYS = frozenset({"recipient", "otherAccount", "address", "rentalFeeSink", "creationFeeSink"})


def convert_address(address: str, network: Network) -> str:
    """The same key hash on ``network``: version byte swapped, checksum recomputed."""
    raw = base64.b32decode(address)
    body = bytes([network.address_byte]) + raw[1:21]
    return base64.b32encode(body + sha3.keccak_256(body).digest()[:4]).decode("ascii")


def convert_version(version: int, network: Network) -> int:
    raw = (network.address_byte << 24) | (version & 0xFFFFFF)
    return raw - (1 << 32) if raw >= (1 << 31) else raw


def swap(value: Any, network: Network) -> Any:
    """A deep copy of a NIS JSON value as a node of ``network`` would write it."""
    if isinstance(value, list):
        return [swap(v, network) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in _ADDRESS_KEYS and isinstance(item, str) and len(item) == 40:
            out[key] = convert_address(item, network)
        elif key == "version" and isinstance(item, int) and not isinstance(item, bool):
            out[key] = convert_version(item, network)
        elif key == "networkId" and isinstance(item, int):
            out[key] = network.network_id
        else:
            out[key] = swap(item, network)
    return out
