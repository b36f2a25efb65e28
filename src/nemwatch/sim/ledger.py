"""Balances, mosaic holdings and per-account transaction lists of the simulated chain.

Everything is applied in block order and undone in reverse order (a rollback), so the ledger
always equals a replay of the blocks it holds. ``meta.id`` values come from one increasing
sequence, as a NIS database assigns them on insert; a rewritten block gets new ids.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from nemwatch.sim.plan import CompiledScenario, PlannedTx


@dataclass(slots=True)
class Included:
    """A transaction in a block: its height and node-independent sequence id."""

    tx: PlannedTx
    height: int
    id: int


class Ledger:
    def __init__(self, compiled: CompiledScenario) -> None:
        self.balances: dict[str, int] = dict(compiled.genesis_balances)
        self.mosaics: dict[str, dict[str, int]] = {a: dict(m) for a, m in compiled.genesis_mosaics.items()}
        self.incoming: dict[str, list[Included]] = {}
        self.outgoing: dict[str, list[Included]] = {}
        self.harvested: dict[str, list[tuple[int, int]]] = {}  # address -> [(height, fees)]
        self.by_hash: dict[str, Included] = {}
        self.public_keys: dict[str, tuple[str, int]] = {}  # address -> (public key, height seen)
        self.next_id = 1

    # --- checks and changes -------------------------------------------------------------

    def affordable(self, tx: PlannedTx) -> bool:
        if self.balances.get(tx.sender, 0) < tx.xem + tx.fee:
            return False
        held = self.mosaics.get(tx.sender, {})
        return all(held.get(m, 0) >= q for m, q in tx.mosaics)

    def apply(self, tx: PlannedTx, height: int) -> Included:
        entry = Included(tx, height, self.next_id)
        self.next_id += 1
        self.balances[tx.sender] = self.balances.get(tx.sender, 0) - tx.xem - tx.fee
        self.balances[tx.recipient] = self.balances.get(tx.recipient, 0) + tx.xem
        for mosaic_id, quantity in tx.mosaics:
            self.mosaics[tx.sender][mosaic_id] -= quantity
            into = self.mosaics.setdefault(tx.recipient, {})
            into[mosaic_id] = into.get(mosaic_id, 0) + quantity
        self.incoming.setdefault(tx.recipient, []).append(entry)
        for address in tx.outgoing:
            self.outgoing.setdefault(address, []).append(entry)
        self.by_hash[tx.hash] = entry
        for address, public_key in tx.signers:
            self.public_keys.setdefault(address, (public_key, height))
        return entry

    def undo(self, entry: Included) -> None:
        tx = entry.tx
        for address in reversed(tx.outgoing):
            popped = self.outgoing[address].pop()
            assert popped is entry, "ledger undo out of order"
        popped = self.incoming[tx.recipient].pop()
        assert popped is entry, "ledger undo out of order"
        for mosaic_id, quantity in tx.mosaics:
            self.mosaics[tx.recipient][mosaic_id] -= quantity
            self.mosaics[tx.sender][mosaic_id] += quantity
        self.balances[tx.recipient] -= tx.xem
        self.balances[tx.sender] += tx.xem + tx.fee
        del self.by_hash[tx.hash]
        for address, _ in tx.signers:
            # whole blocks are undone, so a key first seen at this height goes with it
            seen = self.public_keys.get(address)
            if seen is not None and seen[1] == entry.height:
                del self.public_keys[address]

    def credit_harvest(self, harvester: str, height: int, fees: int) -> None:
        self.balances[harvester] = self.balances.get(harvester, 0) + fees
        self.harvested.setdefault(harvester, []).append((height, fees))

    def undo_harvest(self, harvester: str, height: int, fees: int) -> None:
        popped = self.harvested[harvester].pop()
        assert popped == (height, fees), "ledger undo out of order"
        self.balances[harvester] -= fees

    # --- reads at a view height ---------------------------------------------------------

    def page(
        self, address: str, direction: str, view_height: int, before_id: int | None, size: int
    ) -> list[Included]:
        """Newest first, only ``id < before_id`` (when given) and ``height <= view_height``."""
        lists = {
            "incoming": [self.incoming.get(address, [])],
            "outgoing": [self.outgoing.get(address, [])],
            "all": [self.incoming.get(address, []), self.outgoing.get(address, [])],
        }[direction]
        found: dict[int, Included] = {}
        for listing in lists:
            hi = bisect_right(listing, view_height, key=lambda e: e.height)
            if before_id is not None:
                hi = bisect_left(listing, before_id, 0, hi, key=lambda e: e.id)
            for entry in listing[max(0, hi - size) : hi]:
                found[entry.id] = entry
        return [found[i] for i in sorted(found, reverse=True)[:size]]

    def balance_at(self, address: str, view_height: int) -> int:
        balance = self.balances.get(address, 0)
        for entry in reversed(self.incoming.get(address, [])):
            if entry.height <= view_height:
                break
            balance -= entry.tx.xem
        for entry in reversed(self.outgoing.get(address, [])):
            if entry.height <= view_height:
                break
            if entry.tx.sender == address:
                balance += entry.tx.xem + entry.tx.fee
        for height, fees in reversed(self.harvested.get(address, [])):
            if height <= view_height:
                break
            balance -= fees
        return balance

    def mosaics_at(self, address: str, view_height: int) -> dict[str, int]:
        held = dict(self.mosaics.get(address, {}))
        for entry in reversed(self.incoming.get(address, [])):
            if entry.height <= view_height:
                break
            for mosaic_id, quantity in entry.tx.mosaics:
                held[mosaic_id] -= quantity
        for entry in reversed(self.outgoing.get(address, [])):
            if entry.height <= view_height:
                break
            if entry.tx.sender == address:
                for mosaic_id, quantity in entry.tx.mosaics:
                    held[mosaic_id] = held.get(mosaic_id, 0) + quantity
        return held

    def harvested_count(self, address: str, view_height: int) -> int:
        return bisect_right(self.harvested.get(address, []), view_height, key=lambda e: e[0])

    def public_key_at(self, address: str, view_height: int) -> str | None:
        seen = self.public_keys.get(address)
        return seen[0] if seen is not None and seen[1] <= view_height else None
