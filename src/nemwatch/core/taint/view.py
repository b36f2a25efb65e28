"""Frozen result objects, read from a ``Ledger``: per account, per transfer, per model totals.

Every per-model tuple is in ``MODELS`` order; ``of(model)`` reads one entry by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from nemwatch.core.taint.inputs import MODELS, Model, Movement
from nemwatch.core.taint.ledger import NMODELS, P, SEEDED_FLAG, Ledger

_INDEX = {m: i for i, m in enumerate(MODELS)}


@dataclass(frozen=True, slots=True)
class ModelTaint:
    """One account under one model: tainted micro-XEM held, hops from a source, first taint."""

    model: Model
    tainted_micro: int
    hop: int
    first_height: int
    first_time: datetime
    first_identity: str  # the transfer that first tainted it ("" when a source became active)
    sources: frozenset[str]


@dataclass(frozen=True, slots=True)
class AccountTaint:
    """An account the taint reached under at least one model.

    ``balance_known`` is False when its balance before the stream was not given: then the
    balance (and what haircut, FIFO and the bounds derive from it) counts only what the stream
    showed, plus ``unseen_inflow_micro``, funds it spent without the stream showing them arrive.
    """

    address: str
    balance_micro: int
    balance_known: bool
    unseen_inflow_micro: int
    models: tuple[ModelTaint | None, ...]

    def of(self, model: Model) -> ModelTaint | None:
        return self.models[_INDEX[model]]

    def tainted_micro(self, model: Model) -> int:
        mt = self.models[_INDEX[model]]
        return 0 if mt is None else mt.tainted_micro


@dataclass(frozen=True, slots=True)
class TransferTaint:
    """A transfer that carried taint (or seeded it at a source), with its amount per model.

    ``tainted_micro`` is the tainted part of the amount (the fee's part is burned and counted in
    the totals). ``new_account``: models under which it made its recipient a tracked account;
    ``left``: models under which its taint left the tracked set (thresholds, ignore list).
    """

    movement: Movement
    tainted_micro: tuple[int, ...]
    new_account: frozenset[Model]
    left: frozenset[Model]
    seeded: bool

    def of(self, model: Model) -> int:
        return self.tainted_micro[_INDEX[model]]


@dataclass(frozen=True, slots=True)
class NewTaint:
    """An account that became tracked under ``model`` (``movement`` None: a source's start)."""

    address: str
    model: Model
    hop: int
    tainted_micro: int
    movement: Movement | None


@dataclass(frozen=True, slots=True)
class ModelTotals:
    """Where a model's taint is. For haircut and FIFO
    ``seeded == at_rest + left + burned``; for poison ``seeded + absorbed == ...``; for the
    bounds ``CLEAN_FIRST`` sums to at most ``seeded`` and ``TAINT_FIRST`` to at least."""

    model: Model
    seeded_micro: int
    absorbed_micro: int
    at_rest_micro: int
    left_micro: int
    burned_micro: int
    accounts: int


def model_taint(led: Ledger, m: int, i: int) -> ModelTaint | None:
    hop = led.hop[m][i]
    if hop < 0:
        return None
    height, when, ident = led.first[m][i]
    return ModelTaint(
        MODELS[m], led.held(m, i), hop, height, when, ident, led.srcs[m][i] or frozenset()
    )


def account_taint(led: Ledger, i: int) -> AccountTaint:
    return AccountTaint(
        led.addrs[i], led.bal[i], led.known[i], led.unseen[i],
        tuple(model_taint(led, m, i) for m in range(NMODELS)),
    )


def transfer_taint(led: Ledger, k: int) -> TransferTaint:
    flags = led.rec_flags[k]
    return TransferTaint(
        led.rec_mv[k],
        tuple(led.rec_t[k * NMODELS:(k + 1) * NMODELS]),
        frozenset(MODELS[m] for m in range(NMODELS) if flags >> m & 1),
        frozenset(MODELS[m] for m in range(NMODELS) if flags >> (m + 5) & 1),
        bool(flags & SEEDED_FLAG),
    )


def new_taint(led: Ledger, k: int) -> NewTaint:
    i, m, hop, tainted, mv = led.admissions[k]
    return NewTaint(led.addrs[i], MODELS[m], hop, tainted, mv)


def totals(led: Ledger, m: int) -> ModelTotals:
    hops = led.hop[m]
    tracked = [i for i in range(len(hops)) if hops[i] >= 0]
    values = led.bal if m == P else led.taint[m]
    return ModelTotals(
        MODELS[m], led.seed[m], led.absorbed[m], sum(values[i] for i in tracked),
        led.left[m], led.burned[m], len(tracked),
    )


def tracked_ids(led: Ledger, m: int | None) -> Iterator[int]:
    """Ids of accounts tracked under model ``m`` (under any model when None)."""
    # poison tracks a superset of every other model's accounts
    hops = led.hop[P if m is None else m]
    return (i for i in range(len(hops)) if hops[i] >= 0)
