"""The taint side of the read model: tainted accounts, the laundering progress, the flow tree.

Read from the store's taint tables (``core.store.taint``), so a dashboard attached read-only to
a running ``nemwatch watch`` sees the same picture as the engine itself. Frozen answers; labels
come from the read model (sanitized there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from nemwatch.core.price.valuation import value_jpy
from nemwatch.core.store import Store
from nemwatch.core.store.taint import TaintedAccountRow, TaintTables
from nemwatch.core.taint.inputs import MODELS, Model

Namer = Callable[[str], tuple[str, str] | None]  # address -> (name, kind)


@dataclass(frozen=True, slots=True)
class TaintedAccount:
    """An account the taint reached: where from (source, the account that passed it on, hop,
    the model that first tracked it), how fast nemwatch marked it, what it holds per model."""

    address: str
    label: str | None
    kind: str | None
    hop: int
    source: str
    source_label: str | None
    parent: str | None
    model: Model
    tainted_micro: tuple[int, ...]  # per model, ``MODELS`` order
    hop_height: int
    tag_lag_blocks: int
    followed: bool
    markers: tuple[str, ...] = ()

    def of(self, model: Model | str) -> int:
        return self.tainted_micro[MODELS.index(Model(model))]


@dataclass(frozen=True, slots=True)
class LaunderingProgress:
    """One model's taint: still at rest in tracked accounts vs gone (at exchanges, elsewhere),
    burned as fees; JPY at ``price`` (None when no price is known)."""

    model: Model
    seeded_micro: int
    at_rest_micro: int
    at_exchanges_micro: int
    left_other_micro: int
    burned_micro: int
    accounts: int
    height: int
    price: Decimal | None = None

    @property
    def left_micro(self) -> int:
        return self.at_exchanges_micro + self.left_other_micro

    def jpy(self, micro: int) -> Decimal | None:
        if self.price is None:
            return None
        return value_jpy(micro, self.price)

    @property
    def left_jpy(self) -> Decimal | None:
        return self.jpy(self.left_micro)

    @property
    def at_rest_jpy(self) -> Decimal | None:
        return self.jpy(self.at_rest_micro)

    @property
    def left_percent(self) -> Decimal | None:
        if not self.seeded_micro:
            return None
        return (Decimal(self.left_micro) * 100 / Decimal(self.seeded_micro)).quantize(Decimal("0.1"))


class TaintReads:
    def __init__(self, store: Store, namer: Namer) -> None:
        self.tables = TaintTables(store)
        self.namer = namer

    def _name(self, address: str | None) -> tuple[str | None, str | None]:
        label = self.namer(address) if address else None
        return (label[0], label[1]) if label else (None, None)

    def accounts(self, model: Model | str | None = None) -> list[TaintedAccount]:
        """Tainted accounts (under ``model`` when given), most tainted first under it."""
        marks: dict[str, list[str]] = {}
        for address, mosaic in self.tables.marks():
            marks.setdefault(address, []).append(mosaic)
        out = []
        for r in self.tables.accounts():
            name, kind = self._name(r.address)
            out.append(TaintedAccount(
                r.address, name, kind, r.hop, r.source, self._name(r.source)[0], r.parent, r.model,
                r.tainted_micro, r.hop_height, r.tag_lag_blocks, r.followed, tuple(sorted(marks.get(r.address, ()))),
            ))
        if model is not None:
            m = Model(model)
            out = [a for a in out if a.of(m) > 0]
            out.sort(key=lambda a: (-a.of(m), a.address))
        return out

    def source_held(self, model: Model | str) -> dict[str, int]:
        """What each source itself holds of the taint under ``model`` (micro-XEM)."""
        i = MODELS.index(Model(model))
        return {address: amounts[i] for address, amounts in self.tables.source_holdings().items()}

    def held(self, model: Model | str) -> dict[str, int]:
        """Tainted micro-XEM per account under ``model``: the accounts the taint reached and
        the sources' own holdings."""
        i = MODELS.index(Model(model))
        out = {r.address: r.tainted_micro[i] for r in self.tables.accounts()}
        out.update(self.source_held(model))
        return out

    def per_model(self, address: str) -> dict[str, int] | None:
        """What ``address`` holds of the taint per model (model name -> micro-XEM), or None."""
        amounts = self.tables.source_holdings().get(address)
        if amounts is None:
            row = self.tables.account(address)
            amounts = row.tainted_micro if row is not None else None
        return None if amounts is None else {m.value: amounts[i] for i, m in enumerate(MODELS)}

    def progress(self, price: Decimal | None = None) -> list[LaunderingProgress]:
        return [
            LaunderingProgress(t.model, t.seeded_micro, t.at_rest_micro, t.at_exchanges_micro, t.left_other_micro,
                               t.burned_micro, t.accounts, t.height, price)
            for t in self.tables.totals()
        ]

    def rows(self) -> list[TaintedAccountRow]:
        return self.tables.accounts()

    def children(self) -> dict[str, list[TaintedAccountRow]]:
        """Accounts by the account that first passed them the taint (its ``parent``)."""
        by_parent: dict[str, list[TaintedAccountRow]] = {}
        for r in self.tables.accounts():
            by_parent.setdefault(r.parent or r.source, []).append(r)
        return by_parent


__all__ = ["LaunderingProgress", "TaintReads", "TaintedAccount"]
