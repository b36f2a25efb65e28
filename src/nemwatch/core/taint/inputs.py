"""Typed, immutable inputs of the taint models: sources, movements, thresholds, model names.

A ``Movement`` is one debit of XEM from one account, in chain order: ordered by ``height``, then
``index`` (the position inside the block; the inner transfer of a multisig wrapper takes the
wrapper's position and is debited from the multisig account). It is a ``NamedTuple`` rather than
a dataclass because a benchmark stream holds a million of them: creating and unpacking a tuple is
several times cheaper, and it is just as immutable and typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import NamedTuple

PPM = 1_000_000
"""Parts per million: the unit of ``Thresholds.min_ppm`` (1 % = 10_000 ppm)."""


class Model(str, Enum):
    """The taint models computed side by side.

    - ``POISON``: any outflow of a tainted account is fully tainted, and so is everything a
      tainted account holds (how the 2018 marker-mosaic bots worked). Not value-conserving: clean
      funds that enter a poisoned account are *absorbed* into the taint.
    - ``HAIRCUT``: an outflow carries taint in proportion to the sender's tainted share.
    - ``FIFO``: each account is a queue of lots; an outflow consumes the oldest lots first
      (Clayton's case), the amount before the fee.
    - ``TAINT_FIRST``: the upper bound. Every outflow is assumed to carry taint first
      (seniority: ``min(amount, T)``) while the sender is assumed to keep as much as it could
      (``min(B - debit, T)``): no allocation rule can put more taint in an account.
    - ``CLEAN_FIRST``: the lower bound. Every outflow is assumed to carry clean funds first
      (reversed seniority: ``max(0, T - (B - amount))``) while the sender keeps only
      ``max(0, T - debit)``: no allocation rule can put less taint in an account.

    Computed this way (an interval carried hop by hop) the two bounds bracket haircut, FIFO and
    every other conserving rule for every account and transfer, which one greedy seniority
    allocation per account would not: a sender that gave its taint away first holds less taint
    afterwards than under haircut, and what it sends next is then below haircut's.
    """

    POISON = "poison"
    HAIRCUT = "haircut"
    FIFO = "fifo"
    TAINT_FIRST = "taint_first"
    CLEAN_FIRST = "clean_first"


MODELS: tuple[Model, ...] = tuple(Model)
"""All models, in the fixed order of every per-model tuple the package returns."""

CONSERVING: tuple[Model, ...] = (Model.HAIRCUT, Model.FIFO)
"""Models for which tainted at the source = at rest + left the tracked set + burned, exactly."""


@dataclass(frozen=True, slots=True)
class TaintSource:
    """An account whose funds are tainted from ``since`` on.

    Without ``victim`` the source's whole balance at ``since`` and everything it receives from
    then on is tainted. With ``victim`` only what it receives from the victim at or after
    ``since`` is tainted; other inflows are ordinary (clean unless they carry taint themselves).
    """

    address: str
    since: datetime
    label: str = ""
    victim: str | None = None

    def __post_init__(self) -> None:
        if self.since.tzinfo is None:
            raise ValueError("TaintSource.since needs a timezone")
        if self.victim == self.address:
            raise ValueError("a taint source cannot be its own victim")


class Movement(NamedTuple):
    """``amount_micro`` leaves ``sender`` for ``recipient`` and ``fee_micro`` is burned.

    ``recipient`` is ``""`` for a transaction that only costs a fee. ``identity`` is the
    transaction's identity (the inner hash of a multisig transfer); ``timestamp`` is aware UTC.
    """

    height: int
    index: int
    identity: str
    sender: str
    recipient: str
    amount_micro: int
    fee_micro: int
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class Thresholds:
    """What stops dust and decoys from spreading taint to new accounts.

    A hop makes its recipient a newly tracked (tainted) account under a model only when, under
    that model, it carries at least ``min_micro`` tainted micro-XEM, the tainted part is at least
    ``min_ppm`` of the amount, the recipient is at most ``max_hops`` hops from a source and it is
    not in ``ignore``. A hop that fails the test still moves its taint: into the recipient when
    the recipient is already tracked under that model, otherwise out of the tracked set (counted
    as "left", and shown on the transfer). Under poison a hop's tainted part is its whole
    amount, so only ``min_micro``, ``max_hops`` and ``ignore`` can stop it.
    """

    min_micro: int = 1000 * PPM
    min_ppm: int = 10_000
    max_hops: int = 12
    ignore: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.min_micro < 0 or not 0 <= self.min_ppm <= PPM or self.max_hops < 1:
            raise ValueError("thresholds: min_micro >= 0, 0 <= min_ppm <= 1_000_000, max_hops >= 1")

    @classmethod
    def none(cls, max_hops: int = 1_000_000) -> Thresholds:
        """No threshold at all: pure models (every tainted hop tracks its recipient)."""
        return cls(min_micro=0, min_ppm=0, max_hops=max_hops)


def ordered(movements: Iterable[Movement]) -> list[Movement]:
    """The movements in chain order (height, then index); a stable sort."""
    return sorted(movements, key=lambda m: (m.height, m.index))
