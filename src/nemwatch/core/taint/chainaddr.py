"""Addresses of other chains found in message text: which chain, and does the checksum verify.

Base58Check (Bitcoin ``1``/``3``, Litecoin ``L``/``M``, Dash ``X``/``7``), bech32/bech32m
(``bc1``, ``ltc1``) and Ethereum hex (``0x`` + 40 hex digits; EIP-55 case is not checked).
Inputs are short (a regex match of at most 90 characters), so the arithmetic is cheap.
"""

from __future__ import annotations

import hashlib
from enum import Enum

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32)}


class Chain(str, Enum):
    BTC = "btc"
    LTC = "ltc"
    DASH = "dash"
    ETH = "eth"


# Base58Check version byte -> chain (0x05 is also old Litecoin P2SH: reported as BTC)
_VERSIONS = {0x00: Chain.BTC, 0x05: Chain.BTC, 0x30: Chain.LTC, 0x32: Chain.LTC, 0x4C: Chain.DASH, 0x10: Chain.DASH}
_FIRST_CHAR = {"1": Chain.BTC, "3": Chain.BTC, "L": Chain.LTC, "M": Chain.LTC, "X": Chain.DASH, "7": Chain.DASH}


def base58check_version(text: str) -> int | None:
    """The version byte of a Base58Check string whose checksum verifies (25-byte payload), else None."""
    if not 25 <= len(text) <= 35:
        return None
    n = 0
    for ch in text:
        digit = _B58_INDEX.get(ch)
        if digit is None:
            return None
        n = n * 58 + digit
    leading = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    raw = b"\x00" * leading + body
    if len(raw) != 25:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload[0]


def base58_chain(text: str) -> tuple[Chain, bool] | None:
    """(chain, checksum verified) for a Base58 address candidate, or None when it is no address."""
    version = base58check_version(text)
    if version is not None:
        chain = _VERSIONS.get(version)
        return (chain, True) if chain is not None else None
    chain = _FIRST_CHAR.get(text[:1])
    if chain is None:
        return None
    # An unverified candidate must look like an address, not a number or a word.
    if not (any(c.isupper() for c in text) and any(c.islower() for c in text) and any(c.isdigit() for c in text)):
        return None
    return chain, False


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32_valid(text: str) -> bool:
    """True when ``text`` (one case only) is a bech32 or bech32m string whose checksum verifies."""
    if text.lower() != text and text.upper() != text:
        return False
    s = text.lower()
    pos = s.rfind("1")
    if pos < 1 or pos + 7 > len(s) or len(s) > 90:
        return False
    hrp, data = s[:pos], s[pos + 1 :]
    try:
        values = [_BECH32_INDEX[c] for c in data]
    except KeyError:
        return False
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    return _polymod(expanded + values) in (1, 0x2BC830A3)


def bech32_chain(text: str) -> tuple[Chain, bool] | None:
    prefix = text[:4].lower()
    chain = Chain.LTC if prefix == "ltc1" else Chain.BTC if prefix.startswith("bc1") else None
    if chain is None:
        return None
    return chain, bech32_valid(text)
