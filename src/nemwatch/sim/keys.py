"""Deterministic key pairs for simulated accounts.

A simulated account's private key is ``sha256(seed + "/" + label)`` (or ``sha256(key_seed)``
when the scenario fixes one), so every run of a scenario has the same addresses, signatures
and hashes. These keys are public knowledge: they exist only on the simulated chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from symbolchain.CryptoTypes import PrivateKey
from symbolchain.nem.KeyPair import KeyPair

from nemwatch.core.models import Network
from nemwatch.core.nem import address as nem_address


@dataclass(frozen=True, slots=True)
class SimKey:
    """A key pair and the address it gives on the scenario's network."""

    key_pair: KeyPair
    public_key: str  # lowercase hex
    address: str


def private_key_bytes(seed: str, label: str, key_seed: str | None = None) -> bytes:
    material = key_seed if key_seed is not None else f"{seed}/{label}"
    return hashlib.sha256(material.encode("utf-8")).digest()


@lru_cache(maxsize=200_000)
def sim_key(seed: str, label: str, network: Network, key_seed: str | None = None) -> SimKey:
    pair = KeyPair(PrivateKey(private_key_bytes(seed, label, key_seed)))
    public = str(pair.public_key).lower()
    return SimKey(pair, public, nem_address.from_public_key(public, network))
