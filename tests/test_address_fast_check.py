"""The direct base32 + Keccak address check agrees with the NEM SDK's own check."""

from __future__ import annotations

import base64
import random

import pytest
import sha3
from symbolchain.nem.Network import Network as SdkNetwork

from nemwatch.core.models import Network
from nemwatch.core.nem.address import AddressError, _b32decode, checksum_ok, network_of, validate


def _addresses(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        network = SdkNetwork.MAINNET if i % 2 else SdkNetwork.TESTNET
        body = bytes([network.identifier]) + rng.randbytes(20)
        raw = body + sha3.keccak_256(body).digest()[:4]
        out.append(base64.b32encode(raw).decode())
    return out


def test_decode_matches_base64_on_addresses_and_rejects_the_same() -> None:
    for address in _addresses(200, 1):
        assert _b32decode(address) == base64.b32decode(address)
    for bad in ("A" * 39 + "1", "a" * 40, "A" * 39 + "0"):
        with pytest.raises(ValueError):
            _b32decode(bad)


@pytest.mark.parametrize("seed", [2, 3])
def test_checksum_agrees_with_the_sdk_on_good_and_corrupted_addresses(seed: int) -> None:
    rng = random.Random(seed)
    for address in _addresses(100, seed):
        network = Network.MAINNET if address.startswith("N") else Network.TESTNET
        sdk = SdkNetwork.MAINNET if network is Network.MAINNET else SdkNetwork.TESTNET
        assert validate(address, network) == address
        assert network_of(address) is network
        pos = rng.randrange(1, 40)
        swapped = "B" if address[pos] != "B" else "C"
        typo = address[:pos] + swapped + address[pos + 1 :]
        sdk_ok = sdk.is_valid_address_string(typo)
        assert checksum_ok(base64.b32decode(typo)) == sdk_ok
        if not sdk_ok:
            with pytest.raises(AddressError, match="checksum does not match"):
                validate(typo, network)
