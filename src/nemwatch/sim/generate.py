"""Larger variants of a scenario for benchmarks: many generated accounts and transfers.

Deterministic from ``ScaleSpec.seed``. Generated accounts (``gen-00001`` ...) start with
1,000-1,000,000 XEM and pay each other; a share (``taint_share_permille``) of the transfers
start from the scenario's thief-side accounts (thief, second hops, intermediates, relays) so
taint spreads into the generated crowd. Such a transfer only spends what the account has to
spare: the lowest balance it will have from then on, given its scheduled transfers, so every
scheduled transfer stays payable. About one transfer in fifty goes to an exchange account of
the scenario with a deposit-tag message; one in ten carries a message; one in five is v2.

The transfers are spread evenly over the scenario's span, or over a longer one when needed
to keep blocks at most ~70% full.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from datetime import timedelta

from nemwatch.core.models import MICRO_XEM
from nemwatch.core.nem import nemtime
from nemwatch.sim.plan import CompiledScenario, PlannedTx
from nemwatch.sim.scenario import AccountSpec, Role, ScaleSpec, TransferSpec
from nemwatch.sim.txbuild import xem_transfer_fee

TAINT_SOURCES = (Role.THIEF, Role.SECOND_HOP, Role.INTERMEDIATE, Role.RELAY)


class _Spare:
    """What a scheduled account can spend at a time without breaking its scheduled transfers."""

    def __init__(self, compiled: CompiledScenario, address: str, txs: list[PlannedTx]) -> None:
        balance = compiled.genesis_balances.get(address, 0)
        self.times: list[int] = []
        balances: list[int] = [balance]
        for tx in txs:
            if address not in (tx.sender, tx.recipient):
                continue
            if tx.sender == address:
                balance -= tx.xem + tx.fee
            if tx.recipient == address:
                balance += tx.xem
            self.times.append(tx.ready)
            balances.append(balance)
        self.future_min = balances[:]
        for i in range(len(balances) - 2, -1, -1):
            self.future_min[i] = min(balances[i], self.future_min[i + 1])
        self.spent = 0

    def at(self, ts: int) -> int:
        # events with ready <= ts come before a generated transfer at ts (they have lower seq)
        return self.future_min[bisect_right(self.times, ts)] - self.spent


def generate_scale(
    compiled: CompiledScenario, txs: list[PlannedTx], spec: ScaleSpec
) -> tuple[list[AccountSpec], list[TransferSpec]]:
    scenario = compiled.scenario
    if spec.transfers < 0 or spec.accounts < 2:
        raise ValueError("a scale variant needs at least 2 accounts")
    rng = random.Random(spec.seed)
    accounts = [
        AccountSpec(f"gen-{i:05d}", Role.USER, rng.randint(1_000, 1_000_000) * MICRO_XEM)
        for i in range(1, spec.accounts + 1)
    ]
    balances = {a.label: a.balance for a in accounts}
    labels = [a.label for a in accounts]
    exchanges = [compiled.labels[a] for a in compiled.by_role(Role.EXCHANGE) if a not in compiled.multisig]
    sources = {
        compiled.labels[a]: _Spare(compiled, a, txs)
        for role in TAINT_SOURCES
        for a in compiled.by_role(role)
        if a not in compiled.multisig
    }
    source_labels = sorted(sources)
    per_block = max(1, scenario.max_block_transactions * 7 // 10)
    needed = math.ceil(spec.transfers / per_block) * scenario.block_interval
    span = max((scenario.end - scenario.start).total_seconds(), needed)
    transfers: list[TransferSpec] = []
    for i in range(spec.transfers):
        offset = scenario.block_interval + int(i * span / max(1, spec.transfers))
        at = scenario.start + timedelta(seconds=offset)
        message = f"gen {i}".encode() if rng.random() < 0.1 else None
        version = 2 if rng.random() < 0.2 else None
        recipient = rng.choice(labels)
        tainted = source_labels and rng.randrange(1000) < spec.taint_share_permille
        sender = None
        if tainted:
            label = rng.choice(source_labels)
            spare = sources[label].at(nemtime.from_datetime(at))
            amount = rng.randint(10, 5_000) * MICRO_XEM
            fee = xem_transfer_fee(amount, len(message) if message else None)
            if spare >= amount + fee:
                sources[label].spent += amount + fee
                sender = label
        if sender is None:
            sender = rng.choice(labels)
            while sender == recipient:
                sender = rng.choice(labels)
            if exchanges and rng.random() < 0.02:
                recipient = rng.choice(exchanges)
                message = f"{rng.randint(100_000_000, 999_999_999)}".encode()
            have = balances[sender]
            amount = rng.randint(1, max(1, have // 4))
            fee = xem_transfer_fee(amount, len(message) if message else None)
            if have < amount + fee:
                amount = max(0, have - fee)
                if amount == 0:
                    continue
            balances[sender] = have - amount - fee
        if recipient in balances:
            balances[recipient] += amount
        transfers.append(TransferSpec(at, sender, recipient, amount, message=message, version=version))
    return accounts, transfers
