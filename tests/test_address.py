"""NEM addresses: validation, normalization, network, public key -> address."""

from __future__ import annotations

import pytest

from nemwatch.core.models import Network
from nemwatch.core.nem import address
from nemwatch.core.nem.address import AddressError

THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
HOT_WALLET = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"

# public key -> (mainnet address, testnet address); the sinks are vanity keys NIS hard-codes.
KEYS = {
    "051beb2871a4dad21bb8b241a49837442a46a5628fc0c3951ae322121508a4a1": ("NAX3EP4EKUMLH4T3N7GJSTQDG2AMUK5T26P5EA2M", None),
    "fbae41931de6a0cc25153781321f3de0806c7ba9a191474bb9a838118c8de4d3": ("NAGJG3QFWYZ37LMI7IQPSGQNYADGSJZGJRD2DIYA", None),
    "3e82e1c1e4a75adaa3cba8c101c3cd31d9817a2eb966eb3b511fb2ed45b8e262": (
        "NAMESPACEWH4MKFMBCVFERDPOOP4FK7MTBXDPZZA",
        "TAMESPACEWH4MKFMBCVFERDPOOP4FK7MTDJEYP35",
    ),
    "53e140b5947f104cabc2d6fe8baedbc30ef9a0609c717d9613de593ec2a266d3": (
        "NBMOSAICOD4F54EE5CDMR23CCBGOAM2XSIUX6TRS",
        "TBMOSAICOD4F54EE5CDMR23CCBGOAM2XSJBR5OLC",
    ),
}


@pytest.mark.parametrize("valid", [THIEF, HOT_WALLET, "NAX3EP4EKUMLH4T3N7GJSTQDG2AMUK5T26P5EA2M"])
def test_valid_mainnet_addresses(valid: str) -> None:
    assert address.validate(valid) == valid
    assert address.is_valid(valid)
    assert address.network_of(valid) is Network.MAINNET


def test_dashed_lowercase_and_blank_forms_normalize() -> None:
    assert address.validate("NC4C6P-SUW5CL-TDT5SX-AGJDQJ-GZNESK-FK5MCN-77OG") == THIEF
    assert address.validate(THIEF.lower()) == THIEF
    assert address.validate(f"  {THIEF[:20]} {THIEF[20:]}\n") == THIEF
    assert address.pretty(THIEF) == "NC4C6P-SUW5CL-TDT5SX-AGJDQJ-GZNESK-FK5MCN-77OG"
    assert address.normalize(address.pretty(THIEF)) == THIEF


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OH", "checksum"),  # last character changed
        ("NCKMNCU3STBWBR7E3XD2LR7WSIXF5IVJIDBHBZQT", "checksum"),  # the docs sample that fails
        ("TAMESPACEWH4MKFMBCVFERDPOOP4FK7MTDJEYP35", "testnet address used on mainnet"),
        (THIEF[:39], "40 characters"),
        (THIEF + "A", "40 characters"),
        ("NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77O1", "base32"),  # 1 is not in the alphabet
        ("NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77O0", "base32"),
        ("MC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG", "network byte"),  # mijin-looking
        ("", "40 characters"),
    ],
)
def test_invalid_addresses_say_why(bad: str, reason: str) -> None:
    with pytest.raises(AddressError, match=reason):
        address.validate(bad)
    assert not address.is_valid(bad)


def test_testnet_address_on_testnet_and_network_of() -> None:
    testnet = "TAMESPACEWH4MKFMBCVFERDPOOP4FK7MTDJEYP35"
    assert address.validate(testnet, Network.TESTNET) == testnet
    assert address.network_of(testnet) is Network.TESTNET
    with pytest.raises(AddressError, match="mainnet address used on testnet"):
        address.validate(THIEF, Network.TESTNET)
    assert address.network_of("not base32!") is None


def test_non_string_is_refused() -> None:
    with pytest.raises(AddressError):
        address.validate(12345)  # type: ignore[arg-type]


@pytest.mark.parametrize(("key", "expected"), list(KEYS.items()))
def test_public_key_to_address(key: str, expected: tuple[str, str | None]) -> None:
    mainnet, testnet = expected
    assert address.from_public_key(key) == mainnet
    assert address.from_public_key(key.upper()) == mainnet
    assert address.validate(mainnet) == mainnet
    if testnet is not None:
        assert address.from_public_key(key, Network.TESTNET) == testnet


@pytest.mark.parametrize("bad_key", ["", "abc", "zz" * 32, "ab" * 31, "ab" * 33])
def test_bad_public_keys(bad_key: str) -> None:
    with pytest.raises(AddressError):
        address.from_public_key(bad_key)


def test_to_sdk_round_trip() -> None:
    assert str(address.to_sdk(THIEF)) == THIEF
