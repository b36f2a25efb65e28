"""Valid mainnet addresses for tests that need many distinct watched addresses."""

from __future__ import annotations

import base64
import random

import sha3


def addresses(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct checksum-valid mainnet addresses (random bodies, Keccak checksum)."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        body = bytes([0x68]) + rng.randbytes(20)
        address = base64.b32encode(body + sha3.keccak_256(body).digest()[:4]).decode("ascii")
        if address not in out:
            out.append(address)
    return out
