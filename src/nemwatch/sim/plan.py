"""Compile a scenario into signed transactions, and refuse one that would overdraw an account.

``compile_scenario`` derives every account's key pair (deterministic from the scenario seed and
the label), builds and signs every scheduled transfer (multisig spends as 4100 wrappers with
4098 cosignatures), adds the generated transfers of a ``scale`` variant, and replays them all
in inclusion order against the starting balances: a transfer whose sender cannot pay the
amount, the fees or the mosaics is a ``ScenarioError`` naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nemwatch.core.models import Network
from nemwatch.core.nem import address as nem_address
from nemwatch.core.nem import nemtime
from nemwatch.sim.keys import SimKey, sim_key
from nemwatch.sim.scenario import AccountSpec, MosaicSpec, Role, Scenario, ScenarioError, TransferSpec
from nemwatch.sim.txbuild import BuiltTx, MosaicInfo, TxBuilder

HARVESTER_BALANCE = 5_000_000 * 1_000_000


@dataclass(slots=True)
class PlannedTx:
    """A signed transaction and the accounts it touches (addresses)."""

    seq: int
    built: BuiltTx
    sender: str  # the account whose funds move
    recipient: str
    initiator: str | None  # the cosigner that signed a 4100 wrapper
    cosigners: tuple[str, ...]  # every cosigner of a multisig sender (they list it as outgoing)
    signers: tuple[tuple[str, str], ...]  # (address, public key) of every key that signed
    note: str = ""
    spec: TransferSpec | None = None  # what it was built from (a rollback can rebuild a variant)

    @property
    def hash(self) -> str:
        return self.built.hash

    @property
    def inner_hash(self) -> str | None:
        return self.built.inner_hash

    @property
    def ready(self) -> int:
        return self.built.ready

    @property
    def created(self) -> int:
        return self.built.created

    @property
    def deadline(self) -> int:
        return self.built.deadline

    @property
    def xem(self) -> int:
        return self.built.xem

    @property
    def fee(self) -> int:
        return self.built.fee

    @property
    def mosaics(self) -> tuple[tuple[str, int], ...]:
        return self.built.mosaics

    @property
    def outgoing(self) -> tuple[str, ...]:
        """Addresses whose outgoing list shows it: sender, initiator, every cosigner."""
        seen = dict.fromkeys((self.sender,) + ((self.initiator,) if self.initiator else ()) + self.cosigners)
        return tuple(seen)


@dataclass
class CompiledScenario:
    scenario: Scenario
    network: Network
    keys: dict[str, SimKey]  # label -> key
    labels: dict[str, str]  # address -> label
    roles: dict[str, Role]  # address -> role
    genesis_balances: dict[str, int]  # address -> micro-XEM
    genesis_mosaics: dict[str, dict[str, int]]  # address -> mosaic id -> atomic units
    multisig: dict[str, tuple[tuple[str, ...], int]]  # address -> (cosigner addresses, min)
    mosaic_defs: dict[str, MosaicSpec]
    harvesters: list[SimKey]
    txs: list[PlannedTx] = field(default_factory=list)  # sorted by (ready, seq)
    notes: dict[str, str] = field(default_factory=dict)  # address -> note (with the real address)
    specs: dict[str, AccountSpec] = field(default_factory=dict)  # label -> account
    builder: TxBuilder | None = None  # signs transactions built after compilation

    def build(self, spec: TransferSpec, seq: int) -> PlannedTx:
        """Build and sign one more transfer (a rollback replacement, a test's extra transfer)."""
        if self.builder is None:
            raise ScenarioError("scenario not compiled")
        return build_transfer(self, self.builder, seq, spec)

    def address(self, label: str) -> str:
        return self.keys[label].address

    def cosignatory_of(self, address: str) -> list[str]:
        return [m for m, (cos, _) in self.multisig.items() if address in cos]

    def by_role(self, role: Role | str) -> list[str]:
        role = Role(role)
        return [a for a, r in self.roles.items() if r is role]


def _key(scenario: Scenario, spec: AccountSpec) -> SimKey:
    return sim_key(scenario.seed, spec.label, scenario.network, spec.key_seed)


def _base(scenario: Scenario, accounts: Sequence[AccountSpec], *, harvest: bool = True) -> CompiledScenario:
    """Keys and starting state; ``harvest=False`` for generated extras (no harvesters, no mosaics)."""
    keys = {a.label: _key(scenario, a) for a in accounts}
    harvester_specs = [a for a in accounts if a.role is Role.HARVESTER]
    harvesters = [keys[a.label] for a in harvester_specs]
    for i in range(max(0, scenario.harvesters - len(harvesters)) if harvest else 0):
        label = f"harvester-{i + 1}"
        if label in keys:
            raise ScenarioError(f"label {label} is reserved for a generated harvester")
        harvesters.append(sim_key(scenario.seed, label, scenario.network))
    compiled = CompiledScenario(
        scenario=scenario,
        network=scenario.network,
        keys=keys,
        labels={k.address: label for label, k in keys.items()},
        roles={keys[a.label].address: a.role for a in accounts},
        genesis_balances={keys[a.label].address: a.balance for a in accounts},
        genesis_mosaics={},
        multisig={
            keys[a.label].address: (tuple(keys[c].address for c in a.cosigners), a.min_cosigners)
            for a in accounts
            if a.multisig
        },
        mosaic_defs={m.id: m for m in scenario.mosaics},
        harvesters=harvesters,
    )
    if len(compiled.labels) != len(keys):
        raise ScenarioError("two accounts share a key (same key_seed?)")
    for spec in harvester_specs:
        if spec.balance == 0:
            compiled.genesis_balances[keys[spec.label].address] = HARVESTER_BALANCE
    for i, key in enumerate(harvesters[len(harvester_specs) :]):
        compiled.keys[f"harvester-{i + 1}"] = key
        compiled.labels[key.address] = f"harvester-{i + 1}"
        compiled.roles[key.address] = Role.HARVESTER
        compiled.genesis_balances[key.address] = HARVESTER_BALANCE
    for m in scenario.mosaics if harvest else ():
        owner = keys[m.owner].address
        compiled.genesis_mosaics.setdefault(owner, {})[m.id] = m.atomic_supply
    for a in accounts:
        if a.note or a.real_address:
            real = f" (real account: {a.real_address})" if a.real_address else ""
            compiled.notes[keys[a.label].address] = f"{a.note}{real}".strip()
    return compiled


def _recipient(compiled: CompiledScenario, text: str, where: str) -> str:
    if text in compiled.keys:
        return compiled.keys[text].address
    try:
        return nem_address.validate(text, compiled.network)
    except nem_address.AddressError as err:
        raise ScenarioError(f"{where}: recipient is neither a label nor a valid address ({err})") from None


def build_transfer(compiled: CompiledScenario, builder: TxBuilder, seq: int, t: TransferSpec) -> PlannedTx:
    where = f"transfer {t.sender} -> {t.recipient} at {t.at.isoformat()}"
    if t.sender not in compiled.specs:
        raise ScenarioError(f"{where}: unknown sender")
    recipient = _recipient(compiled, t.recipient, where)
    sender_spec = compiled.specs[t.sender]
    sender = compiled.keys[t.sender]
    timestamp = nemtime.from_datetime(t.at)
    for mosaic_id, _ in t.mosaics:
        definition = compiled.mosaic_defs[mosaic_id]
        owner = compiled.address(definition.owner)
        if not definition.transferable and owner not in (sender.address, recipient):
            raise ScenarioError(f"{where}: {mosaic_id} is not transferable (only to or from its owner)")
    common = dict(
        timestamp=timestamp,
        xem=t.xem,
        mosaics=t.mosaics,
        message=t.message,
        message_type=t.message_type,
        version=t.version,
        deadline=timestamp + t.deadline_seconds if t.deadline_seconds is not None else None,
    )
    try:
        if sender_spec.multisig:
            assert t.via is not None  # checked by the scenario
            initiator = compiled.keys[t.via]
            others = [c for c in sender_spec.cosigners if c != t.via]
            chosen = list(t.cosigners) if t.cosigners is not None else others[: sender_spec.min_cosigners - 1]
            if len(chosen) + 1 < sender_spec.min_cosigners:
                raise ScenarioError(f"{where}: needs {sender_spec.min_cosigners} signatures")
            cosign_keys = [compiled.keys[c] for c in chosen]
            built = builder.multisig_transfer(sender, initiator, cosign_keys, recipient, **common)
            return PlannedTx(
                seq,
                built,
                sender.address,
                recipient,
                initiator.address,
                compiled.multisig[sender.address][0],
                tuple((k.address, k.public_key) for k in [sender, initiator, *cosign_keys]),
                t.note,
                t,
            )
        built = builder.transfer(sender, recipient, **common)
    except ValueError as err:
        if isinstance(err, ScenarioError):
            raise
        raise ScenarioError(f"{where}: {err}") from None
    signers = ((sender.address, sender.public_key),)
    return PlannedTx(seq, built, sender.address, recipient, None, (), signers, t.note, t)


def build_transfers(
    compiled: CompiledScenario, transfers: Iterable[TransferSpec], builder: TxBuilder, first_seq: int = 0
) -> list[PlannedTx]:
    return [build_transfer(compiled, builder, first_seq + i, t) for i, t in enumerate(transfers)]


def replay(compiled: CompiledScenario, txs: Sequence[PlannedTx]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Apply ``txs`` in order to the starting balances; raise ``ScenarioError`` on an overdraft."""
    balances = dict(compiled.genesis_balances)
    mosaics = {a: dict(m) for a, m in compiled.genesis_mosaics.items()}
    for tx in txs:
        if tx.ready >= tx.deadline:
            raise ScenarioError(f"transfer {tx.note or tx.hash}: cosignatures arrive after the deadline")
        have = balances.get(tx.sender, 0)
        need = tx.xem + tx.fee
        label = compiled.labels.get(tx.sender, tx.sender)
        when = nemtime.to_datetime(tx.created).isoformat()
        if have < need:
            raise ScenarioError(
                f"transfer from {label} at {when} overdraws: balance {have} micro-XEM, needs {need} (amount + fees)"
            )
        held = mosaics.setdefault(tx.sender, {})
        for mosaic_id, quantity in tx.mosaics:
            if held.get(mosaic_id, 0) < quantity:
                raise ScenarioError(f"transfer from {label} at {when} sends more {mosaic_id} than it holds")
        balances[tx.sender] = have - need
        balances[tx.recipient] = balances.get(tx.recipient, 0) + tx.xem
        for mosaic_id, quantity in tx.mosaics:
            held[mosaic_id] -= quantity
            into = mosaics.setdefault(tx.recipient, {})
            into[mosaic_id] = into.get(mosaic_id, 0) + quantity
    return balances, mosaics


def compile_scenario(scenario: Scenario) -> CompiledScenario:
    """Keys, signed transactions in inclusion order, and a balance check (``ScenarioError``)."""
    compiled = _base(scenario, scenario.accounts)
    infos = {m.id: MosaicInfo(m.supply, m.divisibility) for m in scenario.mosaics}
    builder = TxBuilder(scenario.network, infos)
    compiled.builder = builder
    compiled.specs = {a.label: a for a in scenario.accounts}
    txs = build_transfers(compiled, scenario.transfers, builder)
    txs.sort(key=lambda p: (p.ready, p.seq))
    replay(compiled, txs)
    if scenario.scale is not None:
        from nemwatch.sim.generate import generate_scale

        accounts, transfers = generate_scale(compiled, txs, scenario.scale)
        extra = _base(scenario, accounts, harvest=False)
        for attr in ("keys", "labels", "roles", "genesis_balances"):
            getattr(compiled, attr).update(getattr(extra, attr))
        fast = TxBuilder(scenario.network, infos, signing=scenario.scale.signing, fast=True)
        compiled.specs.update({a.label: a for a in accounts})
        txs.extend(build_transfers(compiled, transfers, fast, first_seq=len(txs)))
        txs.sort(key=lambda p: (p.ready, p.seq))
        replay(compiled, txs)
    compiled.txs = txs
    return compiled
