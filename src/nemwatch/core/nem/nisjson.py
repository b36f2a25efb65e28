"""Typed readers for untrusted NIS JSON values; anything malformed raises ``ParseError``.

NIS writes a missing optional object as ``{}``, a missing string or key as ``null``, and simply
leaves out fields a transaction version does not have. These readers make each of those cases
explicit, check types (a JSON ``true`` is not an integer), ranges and hex, and never echo the
offending value in the error text (it is attacker-written).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from nemwatch.core.models import Network
from nemwatch.core.nem import address as nem_address

INT32 = (-(2**31), 2**31 - 1)
UINT31 = (0, 2**31 - 1)  # NIS ints that are never negative (time stamps, modes, types)
UINT63 = (0, 2**63 - 1)  # NIS longs that are never negative (amounts, fees, quantities, ids)

_HEX = re.compile(r"[0-9a-fA-F]*")


_T = TypeVar("_T")


class ParseError(ValueError):
    """NIS JSON that nemwatch cannot accept; ``str(err)`` says what and where in one line."""


def untrusted(func: Callable[..., _T]) -> Callable[..., _T]:
    """Whatever goes wrong on untrusted input leaves as ``ParseError``, never as anything else."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> _T:
        try:
            return func(*args, **kwargs)
        except ParseError:
            raise
        except Exception as err:  # untrusted input: any failure is a parse failure
            raise ParseError(f"malformed NIS JSON ({type(err).__name__})") from None

    return wrapper


def as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"{what}: expected a JSON object")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ParseError(f"{what}: expected a JSON array")
    return value


def required(d: dict[str, Any], key: str) -> Any:
    try:
        return d[key]
    except KeyError:
        raise ParseError(f"missing field {key!r}") from None


def integer(d: dict[str, Any], key: str, bounds: tuple[int, int] = UINT63) -> int:
    return int_value(required(d, key), key, bounds)


def int_value(value: Any, what: str, bounds: tuple[int, int] = UINT63) -> int:
    if type(value) is not int:
        raise ParseError(f"{what}: expected an integer")
    lo, hi = bounds
    if not lo <= value <= hi:
        raise ParseError(f"{what}: integer out of range [{lo}, {hi}]")
    return value


def optional_int(d: dict[str, Any], key: str, bounds: tuple[int, int] = UINT63) -> int | None:
    value = d.get(key)
    return None if value is None else int_value(value, key, bounds)


def text(d: dict[str, Any], key: str) -> str:
    value = required(d, key)
    if not isinstance(value, str):
        raise ParseError(f"{key}: expected a string")
    return value


def optional_text(d: dict[str, Any], key: str) -> str | None:
    """A string that NIS writes as ``null`` (or leaves out) when it has none."""
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"{key}: expected a string or null")
    return value


def hex_value(value: Any, what: str, size: int | None = None) -> bytes:
    """Strict hex (no blanks, even length) to bytes; ``size`` is the required byte length."""
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) % 2:
        raise ParseError(f"{what}: expected a hex string")
    if size is not None and len(value) != 2 * size:
        raise ParseError(f"{what}: expected {size} bytes of hex")
    return bytes.fromhex(value)


def hex_field(d: dict[str, Any], key: str, size: int | None = None) -> bytes:
    return hex_value(required(d, key), key, size)


def public_key(d: dict[str, Any], key: str) -> str:
    """A 32-byte public key as lowercase hex."""
    return hex_field(d, key, 32).hex()


def optional_public_key(d: dict[str, Any], key: str) -> str | None:
    value = d.get(key)
    return None if value is None else hex_value(value, key, 32).hex()


def optional_object(d: dict[str, Any], key: str) -> dict[str, Any] | None:
    """An object that NIS writes as ``{}`` when absent; ``null`` and a missing key mean the same."""
    value = d.get(key)
    if value is None:
        return None
    obj = as_dict(value, key)
    return obj or None


def wrapped_hash(d: dict[str, Any], key: str) -> str | None:
    """A hash written as ``{"data": hex}``; ``{}``, ``null`` or a missing key give None."""
    obj = optional_object(d, key)
    if obj is None:
        return None
    return hex_field(obj, "data", 32).hex()


def array(d: dict[str, Any], key: str, *, optional: bool = False) -> list[Any]:
    if optional:
        value = d.get(key)
        if value is None:
            return []
    else:
        value = required(d, key)
    return as_list(value, key)


def address(d: dict[str, Any], key: str, network: Network) -> str:
    return address_value(required(d, key), key, network)


def address_value(value: Any, what: str, network: Network) -> str:
    if not isinstance(value, str):
        raise ParseError(f"{what}: expected an address string")
    valid, reason = _checked_address(value, network)
    if reason:
        raise ParseError(f"{what}: {reason}")
    return valid


@lru_cache(maxsize=65536)
def _checked_address(value: str, network: Network) -> tuple[str, str]:
    """(normalized address, "") or ("", why it is invalid); blocks repeat addresses a lot."""
    if len(value) > 64:
        return "", "address too long"
    try:
        return nem_address.validate(value, network), ""
    except nem_address.AddressError as err:
        return "", str(err)


def address_of_key(public_key_hex: str, network: Network) -> str:
    """The address of an already validated hex public key (cached)."""
    return nem_address.from_public_key(public_key_hex, network)


def utf8(value: str, what: str) -> bytes:
    """The UTF-8 bytes NIS serializes a string as (lone surrogates are malformed)."""
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError(f"{what}: not encodable as UTF-8") from None


def mosaic_id(value: Any, what: str) -> tuple[str, str]:
    """``{"namespaceId": "nem", "name": "xem"}`` -> ``("nem", "xem")``."""
    obj = as_dict(value, what)
    return text(obj, "namespaceId"), text(obj, "name")


def entity_version(d: dict[str, Any], network: Network) -> int:
    """The structure version of an entity after checking its network byte against ``network``.

    NIS packs the network byte in the top 8 bits of the int32 ``version`` (0x68 mainnet,
    0x98 testnet, which JSON shows negative) and the structure version in the low 24 bits.
    """
    version = integer(d, "version", INT32) & 0xFFFFFFFF
    network_byte = version >> 24
    if network_byte != network.address_byte:
        raise ParseError(
            f"version: network byte 0x{network_byte:02x} does not belong to {network.value}"
        )
    return version & 0xFFFFFF
