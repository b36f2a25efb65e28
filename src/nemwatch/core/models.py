"""Typed, immutable domain objects shared by every part of nemwatch.

Money is integers: micro-XEM (1 XEM = 1_000_000) in ``int``; JPY in ``Decimal``.
Times are timezone-aware UTC datetimes. Addresses are normalized 40-character strings
(uppercase, no dashes); public keys and hashes are lowercase hex.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum

MICRO_XEM = 1_000_000
XEM_MOSAIC_ID = "nem:xem"


def format_xem(micro: int) -> str:
    """Micro-XEM as a decimal string with 6 decimals: 868000000 -> '868.000000'."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO_XEM)
    return f"{sign}{whole}.{frac:06d}"


class Network(str, Enum):
    MAINNET = "mainnet"
    TESTNET = "testnet"

    @property
    def address_byte(self) -> int:
        return 0x68 if self is Network.MAINNET else 0x98

    @property
    def network_id(self) -> int:
        """The signed network byte that ``/node/info`` reports."""
        return 104 if self is Network.MAINNET else -104

    @property
    def prefix(self) -> str:
        return "N" if self is Network.MAINNET else "T"


class MessageType(str, Enum):
    PLAIN = "plain"
    HEX = "hex"
    ENCRYPTED = "encrypted"


@dataclass(frozen=True, slots=True)
class Message:
    """A transfer message. ``text`` is decoded but NOT sanitized: it is attacker-written.

    Sanitize with ``nemwatch.core.text.sanitize`` before it reaches a terminal, a log or a sink.
    For ``HEX`` messages (plain payload starting with 0xfe) ``text`` is the hex of the rest;
    for ``ENCRYPTED`` it is empty.
    """

    type: MessageType
    payload: bytes
    text: str


@dataclass(frozen=True, slots=True)
class MosaicAmount:
    """A mosaic quantity in its smallest units."""

    namespace: str
    name: str
    quantity: int

    @property
    def id(self) -> str:
        return f"{self.namespace}:{self.name}"


class TxKind(str, Enum):
    TRANSFER = "transfer"
    IMPORTANCE_TRANSFER = "importance_transfer"
    MULTISIG_MODIFICATION = "multisig_modification"
    PROVISION_NAMESPACE = "provision_namespace"
    MOSAIC_DEFINITION = "mosaic_definition"
    MOSAIC_SUPPLY_CHANGE = "mosaic_supply_change"
    UNKNOWN = "unknown"


# NIS transaction type codes
TYPE_TRANSFER = 257
TYPE_IMPORTANCE_TRANSFER = 2049
TYPE_MULTISIG_MODIFICATION = 4097
TYPE_MULTISIG_COSIGNATURE = 4098
TYPE_MULTISIG = 4100
TYPE_PROVISION_NAMESPACE = 8193
TYPE_MOSAIC_DEFINITION = 16385
TYPE_MOSAIC_SUPPLY_CHANGE = 16386


@dataclass(frozen=True, slots=True)
class TxBase:
    """Fields every parsed transaction carries.

    ``hash`` is the identity: the outer hash (for a multisig wrapper the hash of the 4100
    wrapper); ``inner_hash`` is the hash of the wrapped transaction, or None.
    ``sender`` is the account whose funds move (for multisig: the multisig account, never the
    cosigner); ``initiator`` is the cosigner that signed a 4100 wrapper, else None.
    ``fee`` is the total fee debited from ``sender`` (for multisig: outer + inner + cosignatures).
    ``height`` and ``meta_id`` are None for unconfirmed transactions; ``meta_id`` is node-local.
    """

    hash: str
    inner_hash: str | None
    height: int | None
    meta_id: int | None
    sender: str
    sender_public_key: str
    initiator: str | None
    fee: int
    nem_timestamp: int
    timestamp: datetime
    deadline: int
    version: int
    signature: str | None
    # Does the signer's own signature verify (for multisig: the wrapper's and every
    # cosignature)? Set for unconfirmed entries by the codec and for the block members that
    # match the watch set by ``core.nem.verify.check``; None: not checked (or not checkable).
    signature_valid: bool | None = None
    # The NIS binary form with signatures (``EncodedTx.signed``) when the codec computed it
    # (block members): what ``core.nem.verify`` checks. Not part of the identity.
    signed_form: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def multisig(self) -> bool:
        return self.initiator is not None

    @property
    def identity(self) -> str:
        """The key an alert or a stored row uses: inner hash for multisig, else the hash."""
        return self.inner_hash or self.hash


@dataclass(frozen=True, slots=True)
class Transfer(TxBase):
    """A transfer (type 257, v1 or v2), possibly wrapped in a multisig 4100.

    ``amount`` is the raw NIS field; ``xem`` is the micro-XEM actually moved (the v2 rule:
    ``amount * q(nem:xem) // 10**6``, zero when nem:xem is absent); ``mosaics`` holds the other
    mosaics with their moved quantities (already multiplied by ``amount / 10**6``).
    """

    recipient: str = ""
    amount: int = 0
    xem: int = 0
    mosaics: tuple[MosaicAmount, ...] = ()
    message: Message | None = None

    kind: TxKind = field(default=TxKind.TRANSFER, init=False)


@dataclass(frozen=True, slots=True)
class ImportanceTransfer(TxBase):
    mode: int = 0  # 1 activate, 2 deactivate
    remote_public_key: str = ""
    kind: TxKind = field(default=TxKind.IMPORTANCE_TRANSFER, init=False)


@dataclass(frozen=True, slots=True)
class CosignatoryModification:
    modification_type: int  # 1 add, 2 delete
    cosignatory_public_key: str


@dataclass(frozen=True, slots=True)
class MultisigModification(TxBase):
    modifications: tuple[CosignatoryModification, ...] = ()
    min_cosignatories_change: int = 0
    kind: TxKind = field(default=TxKind.MULTISIG_MODIFICATION, init=False)


@dataclass(frozen=True, slots=True)
class ProvisionNamespace(TxBase):
    rental_fee_sink: str = ""
    rental_fee: int = 0
    new_part: str = ""
    parent: str | None = None
    kind: TxKind = field(default=TxKind.PROVISION_NAMESPACE, init=False)


@dataclass(frozen=True, slots=True)
class MosaicLevy:
    type: int  # 1 absolute, 2 percentile
    recipient: str
    mosaic_id: str
    fee: int


@dataclass(frozen=True, slots=True)
class LevyCharge:
    """A mosaic levy one transfer pays: ``quantity`` of ``mosaic_id`` (smallest units; micro-XEM
    for ``nem:xem``) from the sender to ``recipient``, on top of what the transfer moves."""

    mosaic_id: str
    quantity: int
    recipient: str
    levied_on: str  # the transferred mosaic whose definition carries the levy


@dataclass(frozen=True, slots=True)
class MosaicDefinitionTx(TxBase):
    creator: str = ""
    mosaic_id: str = ""
    description: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    levy: MosaicLevy | None = None
    creation_fee_sink: str = ""
    creation_fee: int = 0
    kind: TxKind = field(default=TxKind.MOSAIC_DEFINITION, init=False)


@dataclass(frozen=True, slots=True)
class MosaicSupplyChange(TxBase):
    mosaic_id: str = ""
    supply_type: int = 0  # 1 increase, 2 decrease
    delta: int = 0
    kind: TxKind = field(default=TxKind.MOSAIC_SUPPLY_CHANGE, init=False)


@dataclass(frozen=True, slots=True)
class UnknownTx(TxBase):
    type_code: int = 0
    kind: TxKind = field(default=TxKind.UNKNOWN, init=False)


Transaction = (
    Transfer
    | ImportanceTransfer
    | MultisigModification
    | ProvisionNamespace
    | MosaicDefinitionTx
    | MosaicSupplyChange
    | UnknownTx
)


@dataclass(frozen=True, slots=True)
class Block:
    """A block. ``hash`` is computed locally (NIS does not send it) or None when unknown.

    ``signed`` says whether the harvester's signature verifies over the block as parsed (None
    when a transaction could not be serialized, so it could not be checked): a node can lie
    about a height, but it cannot sign a block it invented for the harvester it names.
    """

    height: int
    nem_timestamp: int
    timestamp: datetime
    signer_public_key: str
    harvester: str
    prev_block_hash: str
    signature: str
    version: int
    type: int
    transactions: tuple[Transaction, ...]
    hash: str | None = None
    signed: bool | None = None

    @property
    def transfers(self) -> tuple[Transfer, ...]:
        return tuple(t for t in self.transactions if isinstance(t, Transfer))


@dataclass(frozen=True, slots=True)
class MultisigInfo:
    cosignatories_count: int
    min_cosignatories: int


@dataclass(frozen=True, slots=True)
class AccountInfo:
    address: str
    balance: int
    vested_balance: int
    importance: float
    public_key: str | None
    label: str | None
    harvested_blocks: int
    multisig: MultisigInfo | None
    status: str | None = None
    remote_status: str | None = None
    cosignatories: tuple[str, ...] = ()
    cosignatory_of: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NodeStatus:
    code: int
    type: int
    message: str

    @property
    def synchronized(self) -> bool:
        return self.code == 6


@dataclass(frozen=True, slots=True)
class NodeInfo:
    network_id: int
    version: str
    features: int
    application: str | None
    host: str
    port: int
    name: str
    public_key: str


@dataclass(frozen=True, slots=True)
class PriceTick:
    """One price observation. ``price`` is JPY (or the quote currency) per XEM."""

    source: str
    pair: str
    price: Decimal
    at: datetime
    indicative: bool = False
    bid: Decimal | None = None
    ask: Decimal | None = None
    volume_24h: Decimal | None = None
    vwap_24h: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Trade:
    source: str
    pair: str
    trade_id: str
    price: Decimal
    amount: Decimal
    at: datetime
    side: str | None = None


@dataclass(frozen=True, slots=True)
class Candle:
    source: str
    pair: str
    start: datetime
    seconds: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    average: Decimal | None = None
