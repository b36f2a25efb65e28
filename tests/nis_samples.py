"""Real NIS JSON samples (tests/fixtures/nis) and builders for synthetic NIS transactions."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "nis"

# Public keys seen in the real samples.
KEY_NAX3 = "051beb2871a4dad21bb8b241a49837442a46a5628fc0c3951ae322121508a4a1"  # NAX3EP4E...
KEY_MULTISIG = "fbae41931de6a0cc25153781321f3de0806c7ba9a191474bb9a838118c8de4d3"  # NAGJG3QF...
KEY_COSIGNER = "aa455d831430872feb0c6ae14265209182546c985a321c501be7fdc96ed04757"
ADDR_NAX3 = "NAX3EP4EKUMLH4T3N7GJSTQDG2AMUK5T26P5EA2M"
ADDR_MULTISIG = "NAGJG3QFWYZ37LMI7IQPSGQNYADGSJZGJRD2DIYA"
NAMESPACE_SINK = "NAMESPACEWH4MKFMBCVFERDPOOP4FK7MTBXDPZZA"
MOSAIC_SINK = "NBMOSAICOD4F54EE5CDMR23CCBGOAM2XSIUX6TRS"

MAINNET_V1 = 0x68000001
MAINNET_V2 = 0x68000002
TESTNET_V1 = 0x98000001 - 2**32  # the signed int32 NIS writes: -1744830463
TESTNET_V2 = 0x98000002 - 2**32


def load(name: str) -> Any:
    """A fresh copy of a fixture (tests may mutate it)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.glob("*.json"))


def tx(type_: int, version: int = MAINNET_V1, *, signer: str = KEY_NAX3, **fields: Any) -> dict[str, Any]:
    """A NIS transaction object (no signature unless given in ``fields``)."""
    base = {
        "timeStamp": 100,
        "fee": 150000,
        "type": type_,
        "deadline": 3700,
        "version": version,
        "signer": signer,
    }
    base.update(fields)
    return base


def transfer(amount: int, mosaics: list[tuple[str, str, int]] | None = None, **fields: Any) -> dict[str, Any]:
    """A transfer: v1 when ``mosaics`` is None, else v2 with those (namespace, name, quantity)."""
    extra: dict[str, Any] = {"recipient": ADDR_NAX3, "amount": amount, "message": {}}
    version = MAINNET_V1
    if mosaics is not None:
        version = MAINNET_V2
        extra["mosaics"] = [
            {"quantity": q, "mosaicId": {"namespaceId": ns, "name": name}} for ns, name, q in mosaics
        ]
    extra.update(fields)
    return tx(257, version, **extra)


def pair(transaction: dict[str, Any], hash_hex: str = "ab" * 32, inner: str | None = None) -> dict[str, Any]:
    """A TransactionMetaDataPair around ``transaction``."""
    return {
        "meta": {
            "innerHash": {} if inner is None else {"data": inner},
            "id": 42,
            "hash": {"data": hash_hex},
            "height": 1000,
        },
        "transaction": copy.deepcopy(transaction),
    }


def multisig(inner: dict[str, Any], cosignature_fees: tuple[int, ...] = (), **fields: Any) -> dict[str, Any]:
    """A 4100 wrapper signed by KEY_COSIGNER around ``inner`` (whose signer is the multisig)."""
    signatures = [
        tx(
            4098,
            signer=KEY_NAX3,
            fee=fee,
            otherHash={"data": "cd" * 32},
            otherAccount=ADDR_MULTISIG,
            signature="11" * 64,
        )
        for fee in cosignature_fees
    ]
    return tx(4100, signer=KEY_COSIGNER, otherTrans=inner, signatures=signatures, **fields)
