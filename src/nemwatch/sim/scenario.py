"""Scenario model: accounts, mosaics, scheduled transfers, a price path and a scale knob.

A scenario is a plain description; ``nemwatch.sim.plan.compile_scenario`` turns it into signed
transactions (and refuses one whose transfers would overdraw an account). Scenarios come from
TOML files (``nemwatch.sim.scenario_toml``) or from ``ScenarioBuilder`` in tests::

    sb = ScenarioBuilder("t", start=datetime(2018, 1, 26, tzinfo=UTC))
    sb.account("hot", role="hot_wallet", xem=1_000)
    sb.account("thief", role="thief")
    sb.transfer(60, "hot", "thief", xem=10, message="hi")   # 60 s after start
    scenario = sb.build()

Amounts in XEM are given as int, str or Decimal (at most 6 decimals) and kept as int
micro-XEM; a float is refused. Times are timezone-aware and kept in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from nemwatch.core.models import MICRO_XEM, XEM_MOSAIC_ID, Network
from nemwatch.sim.txbuild import Signing, split_mosaic_id


class ScenarioError(ValueError):
    """A scenario that cannot be played; ``str(err)`` says what and where in one line."""


class Role(str, Enum):
    HOT_WALLET = "hot_wallet"
    THIEF = "thief"
    SECOND_HOP = "second_hop"
    INTERMEDIATE = "intermediate"
    RELAY = "relay"
    EXCHANGE = "exchange"
    COSIGNER = "cosigner"
    BYSTANDER = "bystander"
    TAGGER = "tagger"
    HARVESTER = "harvester"
    USER = "user"


def to_micro(value: Any, what: str = "xem") -> int:
    """XEM (int, str or Decimal, <= 6 decimals) -> int micro-XEM. Floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ScenarioError(f"{what}: give XEM as an integer or a decimal string, not a {type(value).__name__}")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, (str, Decimal)):
        try:
            amount = Decimal(str(value).replace("_", "").strip())
        except InvalidOperation:
            raise ScenarioError(f"{what}: {value!r} is not a number") from None
    else:
        raise ScenarioError(f"{what}: expected XEM as int or string")
    if not amount.is_finite() or amount < 0:
        raise ScenarioError(f"{what}: must be a non-negative amount")
    micro = amount * MICRO_XEM
    if micro != micro.to_integral_value():
        raise ScenarioError(f"{what}: more than 6 decimals")
    return int(micro)


def to_utc(value: Any, what: str = "time") -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(f"{what}: {value!r} is not an ISO 8601 time") from None
    if not isinstance(value, datetime):
        raise ScenarioError(f"{what}: expected a datetime")
    if value.tzinfo is None:
        raise ScenarioError(f"{what}: give a timezone (e.g. +09:00 for JST)")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """A simulated account. ``cosigners`` (labels) make it a multisig account."""

    label: str
    role: Role
    balance: int = 0  # micro-XEM at the start
    key_seed: str | None = None
    cosigners: tuple[str, ...] = ()
    min_cosigners: int = 0
    note: str = ""
    real_address: str | None = None  # the mainnet address of the real account this stands for

    @property
    def multisig(self) -> bool:
        return bool(self.cosigners)


@dataclass(frozen=True, slots=True)
class MosaicSpec:
    """A mosaic that exists at the start, its whole supply held by ``owner`` (a label)."""

    id: str
    owner: str
    supply: int  # whole units
    divisibility: int = 0
    transferable: bool = True
    description: str = ""

    @property
    def atomic_supply(self) -> int:
        return self.supply * 10**self.divisibility


@dataclass(frozen=True, slots=True)
class TransferSpec:
    """One scheduled transfer. ``recipient`` is a label or a raw address.

    For a multisig ``sender`` set ``via`` (the initiating cosigner); ``cosigners`` lists who
    adds cosignatures (default: the next ``min_cosigners - 1`` cosigners).
    """

    at: datetime
    sender: str
    recipient: str
    xem: int = 0
    mosaics: tuple[tuple[str, int], ...] = ()
    message: bytes | None = None
    message_type: int = 1
    via: str | None = None
    cosigners: tuple[str, ...] | None = None
    version: int | None = None
    note: str = ""
    deadline_seconds: int | None = None  # after ``at``; NIS allows up to 24 h (default: 1 h)


@dataclass(frozen=True, slots=True)
class ScaleSpec:
    """Generate ``transfers`` extra transfers over ``accounts`` extra accounts from ``seed``.

    ``signing="unsigned_fast"`` keeps hashes genuine but fills signatures deterministically
    (see ``nemwatch.sim.txbuild``); ``taint_share_permille`` of the generated transfers start
    from the scenario's thief-side accounts (thief, second hops, intermediates, relays) using
    only funds those accounts do not need for their scheduled transfers.
    """

    transfers: int
    accounts: int
    seed: int = 1
    signing: Signing = "signed"
    taint_share_permille: int = 50


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    network: Network
    start: datetime
    accounts: tuple[AccountSpec, ...]
    transfers: tuple[TransferSpec, ...]
    mosaics: tuple[MosaicSpec, ...] = ()
    block_interval: int = 60
    speed: float = 1.0
    seed: str = "nemwatch-sim"
    start_height: int = 1
    harvesters: int = 3
    max_block_transactions: int = 120
    price_path: list[tuple[datetime, Decimal]] = field(default_factory=list)
    price_trades_per_minute: int = 0
    price_trade_xem: tuple[Decimal, Decimal] = (Decimal(100), Decimal(10_000))
    price_candles: str | None = None  # a candle file in sim/data the market replays (see sim.candles)
    scale: ScaleSpec | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "network", Network(self.network))
        except ValueError:
            raise ScenarioError(f"unknown network {self.network!r} (mainnet or testnet)") from None
        object.__setattr__(self, "start", to_utc(self.start, "start"))
        check_scenario(self)

    def account(self, label: str) -> AccountSpec:
        for spec in self.accounts:
            if spec.label == label:
                return spec
        raise KeyError(label)

    def by_role(self, role: Role | str) -> list[AccountSpec]:
        role = Role(role)
        return [a for a in self.accounts if a.role is role]

    @property
    def end(self) -> datetime:
        """The time of the last scheduled transfer (or the start)."""
        return max((t.at for t in self.transfers), default=self.start)

    def scaled(
        self,
        transfers: int,
        accounts: int,
        seed: int = 1,
        signing: Signing = "signed",
        taint_share_permille: int = 50,
    ) -> Scenario:
        spec = ScaleSpec(transfers, accounts, seed, signing, taint_share_permille)
        return replace(self, name=f"{self.name}@{transfers}", scale=spec)


def check_scenario(s: Scenario) -> None:
    """Structural checks (labels, references, multisig, mosaics, times); balances are checked
    when the scenario is compiled, because fees depend on the signed transactions."""
    if s.block_interval < 1:
        raise ScenarioError("block_interval must be at least 1 second")
    if s.speed <= 0:
        raise ScenarioError("speed must be positive")
    if s.start_height < 1:
        raise ScenarioError("start_height must be positive")
    if not 1 <= s.max_block_transactions <= 10_000:
        raise ScenarioError("max_block_transactions must be in 1..10000")
    labels: dict[str, AccountSpec] = {}
    for a in s.accounts:
        if not a.label or a.label in labels:
            raise ScenarioError(f"account label {a.label!r} is empty or used twice")
        labels[a.label] = a
    for a in s.accounts:
        for c in a.cosigners:
            if c not in labels:
                raise ScenarioError(f"account {a.label}: unknown cosigner {c!r}")
            if labels[c].multisig:
                raise ScenarioError(f"account {a.label}: cosigner {c!r} is itself multisig")
        if a.multisig and not 1 <= a.min_cosigners <= len(a.cosigners):
            raise ScenarioError(f"account {a.label}: min_cosigners must be 1..{len(a.cosigners)}")
        if len(set(a.cosigners)) != len(a.cosigners) or a.label in a.cosigners:
            raise ScenarioError(f"account {a.label}: cosigners repeat or include the account")
    mosaic_ids: set[str] = set()
    for m in s.mosaics:
        try:
            split_mosaic_id(m.id)
        except ValueError as err:
            raise ScenarioError(str(err)) from None
        if m.id == XEM_MOSAIC_ID or m.id in mosaic_ids:
            raise ScenarioError(f"mosaic {m.id}: defined twice (or nem:xem)")
        if m.owner not in labels:
            raise ScenarioError(f"mosaic {m.id}: unknown owner {m.owner!r}")
        if not 0 <= m.divisibility <= 6 or m.supply <= 0:
            raise ScenarioError(f"mosaic {m.id}: divisibility 0..6 and a positive supply")
        mosaic_ids.add(m.id)
    for i, t in enumerate(s.transfers):
        where = f"transfer #{i + 1} ({t.sender} -> {t.recipient} at {t.at.isoformat()})"
        if t.at.tzinfo is None or t.at < s.start:
            raise ScenarioError(f"{where}: before the scenario start")
        if t.sender not in labels:
            raise ScenarioError(f"{where}: unknown sender")
        sender = labels[t.sender]
        if sender.multisig:
            if t.via is None or t.via not in sender.cosigners:
                raise ScenarioError(f"{where}: a multisig spend needs via = one of its cosigners")
            chosen = t.cosigners
            if chosen is not None and (t.via in chosen or not set(chosen) <= set(sender.cosigners)):
                raise ScenarioError(f"{where}: cosigners must be other cosigners of the account")
        elif t.via is not None:
            raise ScenarioError(f"{where}: via is only for multisig senders")
        for mosaic_id, quantity in t.mosaics:
            if mosaic_id not in mosaic_ids:
                raise ScenarioError(f"{where}: unknown mosaic {mosaic_id}")
            if quantity <= 0:
                raise ScenarioError(f"{where}: mosaic quantities must be positive")
        if t.message is not None and len(t.message) > 1024:
            raise ScenarioError(f"{where}: message longer than 1024 bytes")
        if t.message_type not in (1, 2):
            raise ScenarioError(f"{where}: message_type must be 1 (plain) or 2 (encrypted)")
        if t.version not in (None, 1, 2) or (t.version == 1 and t.mosaics):
            raise ScenarioError(f"{where}: version must be 1 or 2, and mosaics need 2")
    for when, price in s.price_path:
        if when.tzinfo is None or not isinstance(price, Decimal) or price <= 0:
            raise ScenarioError("price path: points must be (aware datetime, positive Decimal)")
    if [w for w, _ in s.price_path] != sorted(w for w, _ in s.price_path):
        raise ScenarioError("price path: points must be in time order")
    if s.price_trades_per_minute < 0:
        raise ScenarioError("price trades_per_minute must not be negative")


def message_bytes(message: str | bytes | None, message_hex: str | None = None) -> bytes | None:
    if message_hex is not None:
        if message is not None:
            raise ScenarioError("give message or message_hex, not both")
        try:
            return bytes.fromhex(message_hex)
        except ValueError:
            raise ScenarioError("message_hex is not hex") from None
    if message is None:
        return None
    return message if isinstance(message, bytes) else message.encode("utf-8")


class ScenarioBuilder:
    """Build a ``Scenario`` in Python (tests, the scale generator)."""

    def __init__(
        self,
        name: str,
        start: datetime,
        *,
        network: Network | str = Network.MAINNET,
        description: str = "",
        block_interval: int = 60,
        speed: float = 1.0,
        seed: str | None = None,
        start_height: int = 1,
        harvesters: int = 3,
        max_block_transactions: int = 120,
    ) -> None:
        self.name = name
        self.start = to_utc(start, "start")
        self.network = Network(network)
        self.description = description
        self.block_interval = block_interval
        self.speed = speed
        self.seed = seed if seed is not None else name
        self.start_height = start_height
        self.harvesters = harvesters
        self.max_block_transactions = max_block_transactions
        self.accounts: list[AccountSpec] = []
        self.mosaics: list[MosaicSpec] = []
        self.transfers: list[TransferSpec] = []
        self.price_path: list[tuple[datetime, Decimal]] = []
        self.price_trades_per_minute = 0
        self.price_trade_xem: tuple[Decimal, Decimal] = (Decimal(100), Decimal(10_000))
        self.notes: list[str] = []

    def time(self, at: datetime | int | float | str) -> datetime:
        """A datetime, an ISO string, or seconds after the start."""
        if isinstance(at, (int, float)) and not isinstance(at, bool):
            return self.start + timedelta(seconds=at)
        return to_utc(at, "at")

    def account(
        self,
        label: str,
        role: Role | str = Role.USER,
        *,
        xem: Any = 0,
        micro: int | None = None,
        key_seed: str | None = None,
        cosigners: Sequence[str] = (),
        min_cosigners: int | None = None,
        note: str = "",
        real_address: str | None = None,
    ) -> ScenarioBuilder:
        balance = micro if micro is not None else to_micro(xem, f"account {label}")
        minimum = min_cosigners if min_cosigners is not None else (len(cosigners) if cosigners else 0)
        self.accounts.append(
            AccountSpec(label, Role(role), balance, key_seed, tuple(cosigners), minimum, note, real_address)
        )
        return self

    def multisig(
        self, label: str, cosigners: Sequence[str], min_cosigners: int, role: Role | str = Role.EXCHANGE, **kw: Any
    ) -> ScenarioBuilder:
        return self.account(label, role, cosigners=cosigners, min_cosigners=min_cosigners, **kw)

    def mosaic(
        self,
        mosaic_id: str,
        owner: str,
        supply: int,
        divisibility: int = 0,
        *,
        transferable: bool = True,
        description: str = "",
    ) -> ScenarioBuilder:
        self.mosaics.append(MosaicSpec(mosaic_id, owner, supply, divisibility, transferable, description))
        return self

    def transfer(
        self,
        at: datetime | int | float | str,
        sender: str,
        recipient: str,
        *,
        xem: Any = 0,
        micro: int | None = None,
        mosaics: Iterable[tuple[str, int]] = (),
        message: str | bytes | None = None,
        message_hex: str | None = None,
        message_type: int = 1,
        via: str | None = None,
        cosigners: Sequence[str] | None = None,
        version: int | None = None,
        note: str = "",
        deadline_seconds: int | None = None,
    ) -> ScenarioBuilder:
        amount = micro if micro is not None else to_micro(xem, f"transfer {sender} -> {recipient}")
        self.transfers.append(
            TransferSpec(
                self.time(at),
                sender,
                recipient,
                amount,
                tuple(mosaics),
                message_bytes(message, message_hex),
                message_type,
                via,
                tuple(cosigners) if cosigners is not None else None,
                version,
                note,
                deadline_seconds,
            )
        )
        return self

    def price(
        self,
        points: Iterable[tuple[datetime | int | str, Any]],
        trades_per_minute: int = 0,
        trade_xem: tuple[Any, Any] | None = None,
    ) -> ScenarioBuilder:
        self.price_path = [(self.time(w), Decimal(str(p))) for w, p in points]
        self.price_trades_per_minute = trades_per_minute
        if trade_xem is not None:
            self.price_trade_xem = (Decimal(str(trade_xem[0])), Decimal(str(trade_xem[1])))
        return self

    def note(self, text: str) -> ScenarioBuilder:
        self.notes.append(text)
        return self

    def build(self, scale: ScaleSpec | None = None) -> Scenario:
        return Scenario(
            name=self.name,
            description=self.description,
            network=self.network,
            start=self.start,
            accounts=tuple(self.accounts),
            transfers=tuple(self.transfers),
            mosaics=tuple(self.mosaics),
            block_interval=self.block_interval,
            speed=self.speed,
            seed=self.seed,
            start_height=self.start_height,
            harvesters=self.harvesters,
            max_block_transactions=self.max_block_transactions,
            price_path=list(self.price_path),
            price_trades_per_minute=self.price_trades_per_minute,
            price_trade_xem=self.price_trade_xem,
            scale=scale,
            notes=tuple(self.notes),
        )
