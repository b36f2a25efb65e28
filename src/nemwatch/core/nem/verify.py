"""A transaction's own signatures, checked from the NIS binary form it was parsed with.

A node can sign a block it made up with its own harvester key, but it cannot sign a transfer
for somebody else's account. So every transaction that would raise an alert or move taint is
checked against its own signer before anything believes it, whatever block carried it:

- a plain transaction: the signer's signature over the transaction without its signature;
- a multisig wrapper (4100): the initiating cosigner's signature over the wrapper (which
  covers the inner transaction), and every cosignature (4098) attached to it: each one's
  signature over itself, and each one must name the inner transaction's hash and the
  multisig account the inner transaction comes from.

The check reads ``TxBase.signed_form`` (``EncodedTx.signed``, kept by the codec for block
members), so it needs no JSON and no SDK object: about the cost of the Ed25519 checks.
What it cannot tell from one transaction alone: whether the signers of a multisig wrapper
are cosignatories of the account (that is account state, not a signature).
"""

from __future__ import annotations

import struct
from dataclasses import replace

from symbolchain.CryptoTypes import PublicKey, Signature
from symbolchain.nem.KeyPair import Verifier

from nemwatch.core.models import TYPE_MULTISIG, Network, Transaction
from nemwatch.core.nem.address import from_public_key

__all__ = ["check", "verify_signed_form"]

# verifiable header: type 4, version 4, timeStamp 4, signer 4+32, signature 4+64, fee 8, deadline 4
_SIGNER = slice(16, 48)
_SIGNATURE = slice(52, 116)
_SIGNATURE_START = 48
_SIGNATURE_END = 116
_HEADER_END = 128
# a cosignature's body: otherHash (4 outer + 4 size + 32), multisig address (4 size + 40)
_OTHER_HASH = slice(_HEADER_END + 8, _HEADER_END + 40)
_MULTISIG_ADDRESS = slice(_HEADER_END + 44, _HEADER_END + 84)
# an inner (non-verifiable) transaction: type 4, version 4, timeStamp 4, signer 4+32
_INNER_SIGNER = slice(16, 48)


def _verified(public_key: bytes, data: bytes, signature: bytes) -> bool:
    try:
        verifier = Verifier(PublicKey(public_key))
        return bool(verifier.verify(data, Signature(signature)))
    except (ValueError, TypeError):  # not a usable key or signature: nothing verifies
        return False


def _one(entity: bytes, end: int) -> bool:
    """The signature of the verifiable entity ``entity`` over its bytes up to ``end``."""
    if len(entity) < _HEADER_END or end > len(entity) or end < _HEADER_END:
        return False
    unsigned = entity[:_SIGNATURE_START] + entity[_SIGNATURE_END:end]
    return _verified(entity[_SIGNER], unsigned, entity[_SIGNATURE])


def _int32(data: bytes, at: int) -> int:
    if at + 4 > len(data):
        raise ValueError("truncated")
    return int(struct.unpack_from("<I", data, at)[0])


def _multisig(data: bytes, network: Network) -> bool:
    from nemwatch.core.nem.txhash import keccak256  # the same Keccak the hashes use

    inner_size = _int32(data, _HEADER_END)
    inner_start = _HEADER_END + 4
    inner_end = inner_start + inner_size
    if inner_end > len(data) or inner_size < 48:
        return False
    if not _one(data, inner_end):
        return False
    inner = data[inner_start:inner_end]
    inner_hash = keccak256(inner)
    account = from_public_key(inner[_INNER_SIGNER].hex(), network).encode("ascii")
    count = _int32(data, inner_end)
    at = inner_end + 4
    for _ in range(count):
        size = _int32(data, at)
        cosignature = data[at + 4 : at + 4 + size]
        at += 4 + size
        if len(cosignature) != size or size < _MULTISIG_ADDRESS.stop:
            return False
        if cosignature[_OTHER_HASH] != inner_hash or cosignature[_MULTISIG_ADDRESS] != account:
            return False  # a cosignature of something else, pasted on
        if not _one(cosignature, size):
            return False
    return at == len(data)


def verify_signed_form(data: bytes, network: Network = Network.MAINNET) -> bool:
    """True when every signature in a transaction's NIS binary form verifies (see the module
    docstring); False for anything malformed."""
    try:
        if len(data) < _HEADER_END:
            return False
        if _int32(data, 0) == TYPE_MULTISIG:
            return _multisig(data, network)
        return _one(data, len(data))
    except ValueError:
        return False


def check(tx: Transaction, network: Network = Network.MAINNET) -> Transaction:
    """``tx`` with ``signature_valid`` set from its own signatures (unchanged when already
    known). Without a signed form (a type nemwatch cannot serialize, or no signature) nothing
    can be checked and ``signature_valid`` stays None: "not proved", which callers must not
    take for "verified"."""
    if tx.signature_valid is not None or tx.signed_form is None:
        return tx
    return replace(tx, signature_valid=verify_signed_form(tx.signed_form, network))
