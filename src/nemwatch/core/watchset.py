"""The watch set: which addresses are watched and how, held in memory for block matching.

Matching a block against the watch set is two dict look-ups per transfer, whatever the number
of watched addresses. Faces and later features (taint tracking) add addresses at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from nemwatch.core.models import Transaction, Transfer
from nemwatch.core.rules import Label, WatchRule


@dataclass
class WatchSet(Mapping[str, WatchRule]):
    """address -> WatchRule, plus labels of addresses that are not watched."""

    rules: dict[str, WatchRule] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    backfill_alerts: set[str] = field(default_factory=set)

    def __getitem__(self, address: str) -> WatchRule:
        return self.rules[address]

    def __iter__(self) -> Iterator[str]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def add(self, address: str, rule: WatchRule, *, backfill_alerts: bool = False) -> bool:
        """Watch ``address``; True when it was not watched before."""
        new = address not in self.rules
        self.rules[address] = rule
        if backfill_alerts:
            self.backfill_alerts.add(address)
        return new

    def remove(self, address: str) -> bool:
        self.backfill_alerts.discard(address)
        return self.rules.pop(address, None) is not None

    @property
    def urgent(self) -> list[str]:
        return [a for a, r in self.rules.items() if r.urgent]

    def involves(self, tx: Transaction) -> bool:
        if tx.sender in self.rules:
            return True
        return isinstance(tx, Transfer) and tx.recipient in self.rules

    def matching(self, transactions: Iterable[Transaction]) -> list[Transaction]:
        rules = self.rules
        return [
            tx
            for tx in transactions
            if tx.sender in rules or (isinstance(tx, Transfer) and tx.recipient in rules)
        ]
