"""Helpers shared by the benchmark driver (``run.py``) and its worker (``worker.py``).

Kept free of the simulator so that a worker process imports only what a watcher imports.
"""

from __future__ import annotations

import base64
import math
import random
import resource
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

MAINNET_BYTE = 0x68


def synthetic_addresses(count: int, seed: int = 2018) -> list[str]:
    """``count`` distinct checksum-valid mainnet addresses that belong to nobody in the scenario.

    A NEM address is base32(network byte + RIPEMD-160 of the key's Keccak-256 + 4-byte
    checksum), the checksum being the first 4 bytes of Keccak-256 over the first 21 bytes. Any
    20 random bytes make a valid address; no key derivation is needed, which keeps 100,000 of
    them to a second or two.
    """
    import sha3  # pysha3-compatible Keccak (the original, not FIPS SHA3), as NIS uses

    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        body = bytes([MAINNET_BYTE]) + rng.randbytes(20)
        checksum = sha3.keccak_256(body).digest()[:4]
        address = base64.b32encode(body + checksum).decode("ascii")
        if address not in seen:
            seen.add(address)
            out.append(address)
    return out


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def summary(values: Iterable[float], digits: int = 3) -> dict[str, float | int | None]:
    """count, median, p95, max and mean of ``values``, rounded."""
    data = list(values)

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, digits)

    return {
        "count": len(data),
        "median": r(percentile(data, 50)),
        "p95": r(percentile(data, 95)),
        "max": r(max(data) if data else None),
        "mean": r(sum(data) / len(data) if data else None),
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (10^6 bytes; ``ru_maxrss`` is KiB on Linux,
    bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    unit = 1 if sys.platform == "darwin" else 1024
    return round(peak * unit / 1e6, 1)


def current_rss_mb() -> float | None:
    """The resident set size now in MB (Linux ``/proc``), or None where it cannot be read."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) * 1024 / 1e6, 1)
    except OSError:
        return None
    return None


def read_addresses(path: Path, count: int) -> list[str]:
    """The first ``count`` addresses of a file holding one address a line."""
    out: list[str] = []
    with path.open() as fh:
        for line in fh:
            line = line.strip()
            if line:
                out.append(line)
                if len(out) >= count:
                    break
    if len(out) < count:
        raise SystemExit(f"{path.name} holds {len(out)} addresses, {count} wanted")
    return out
