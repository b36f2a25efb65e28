"""NEM addresses: normalize, validate (checksum and network byte), pretty form, key -> address.

All cryptography goes through the official NEM SDK (``symbol-sdk-python``), which uses the
original Keccak (not FIPS SHA3) exactly as NIS does.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from symbolchain.CryptoTypes import PublicKey
from symbolchain.nem.Network import Address as SdkAddress
from symbolchain.nem.Network import Network as SdkNetwork

from nemwatch.core.models import Network

_SDK_NETWORKS = {Network.MAINNET: SdkNetwork.MAINNET, Network.TESTNET: SdkNetwork.TESTNET}
_BYTE_TO_NETWORK = {0x68: Network.MAINNET, 0x98: Network.TESTNET}


class AddressError(ValueError):
    """An address that cannot be used; ``str(err)`` says why in one line."""


def normalize(text: str) -> str:
    """Strip blanks, drop dashes, uppercase: 'nc4c6p-suw5cl-...' -> 'NC4C6PSUW5CL...'."""
    return "".join(text.split()).replace("-", "").upper()


@lru_cache(maxsize=65536)
def _b32decode(address: str) -> bytes:
    """base64.b32decode is pure Python: a config of 10,000 addresses decoded each one three times
    (network, validation, model checks); the cache makes that once."""
    return base64.b32decode(address)


def network_of(address: str) -> Network | None:
    """The network a normalized, well-formed address belongs to (by its version byte)."""
    try:
        raw = _b32decode(address)
    except (binascii.Error, ValueError):
        return None
    return _BYTE_TO_NETWORK.get(raw[0]) if raw else None


def validate(text: str, network: Network = Network.MAINNET) -> str:
    """Return the normalized address or raise ``AddressError`` with the reason."""
    if not isinstance(text, str):
        raise AddressError("address must be a string")
    address = normalize(text)
    if len(address) != 40:
        raise AddressError(f"address must have 40 characters without dashes, got {len(address)}")
    try:
        raw = _b32decode(address)
    except (binascii.Error, ValueError):
        raise AddressError("address has characters outside the base32 alphabet (A-Z, 2-7)") from None
    found = _BYTE_TO_NETWORK.get(raw[0])
    if found is None:
        raise AddressError(f"address has an unknown network byte 0x{raw[0]:02x}")
    if found is not network:
        raise AddressError(f"{found.value} address used on {network.value}")
    if not _sdk_valid(address, network):
        raise AddressError("address checksum does not match (a typo?)")
    return address


@lru_cache(maxsize=65536)
def _sdk_valid(address: str, network: Network) -> bool:
    return bool(_SDK_NETWORKS[network].is_valid_address_string(address))


def is_valid(text: str, network: Network = Network.MAINNET) -> bool:
    try:
        validate(text, network)
    except AddressError:
        return False
    return True


def pretty(address: str) -> str:
    """Dash-grouped display form: NC4C6P-SUW5CL-TDT5SX-AGJDQJ-GZNESK-FK5MCN-77OG."""
    a = normalize(address)
    return "-".join(a[i : i + 6] for i in range(0, len(a), 6))


@lru_cache(maxsize=65536)
def from_public_key(public_key: str, network: Network = Network.MAINNET) -> str:
    """Derive the address of a hex public key (Keccak-256 -> RIPEMD-160 -> checksum)."""
    try:
        key = PublicKey(public_key)
    except (ValueError, TypeError) as err:
        raise AddressError(f"not a 32-byte hex public key: {err}") from None
    return str(_SDK_NETWORKS[network].public_key_to_address(key))


def to_sdk(address: str) -> SdkAddress:
    return SdkAddress(address)
