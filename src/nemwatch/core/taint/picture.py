"""The taint picture: where each model's tainted XEM is (at rest, at exchanges, elsewhere, burned).

``seeded`` is what the sources were tainted with. For haircut and FIFO
``seeded == at_rest + at_exchanges + left_other + burned``; poison adds the clean funds it
absorbed to the sources' side; the two bounds bracket the rest (see ``conservation``). Taint that
reached an account labelled exchange is ``at_exchanges`` (exchanges are never followed: their
central wallet pools everyone's funds), taint that left the tracked set anywhere else
(thresholds, the ignore list) is ``left_other``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from nemwatch.core.taint.inputs import MODELS, Model
from nemwatch.core.taint.ledger import NMODELS
from nemwatch.core.taint.tracker import TaintTracker
from nemwatch.core.taint.view import totals


@dataclass(frozen=True, slots=True)
class ModelPicture:
    model: Model
    seeded_micro: int
    absorbed_micro: int
    at_rest_micro: int
    at_exchanges_micro: int
    left_other_micro: int
    burned_micro: int
    accounts: int

    @property
    def left_micro(self) -> int:
        """Everything that left the tracked set (laundered or deposited)."""
        return self.at_exchanges_micro + self.left_other_micro


def at_exchanges(tracker: TaintTracker, exchanges: Collection[str]) -> tuple[int, ...]:
    """Per model, the tainted micro-XEM that left the tracked set into an exchange."""
    out = [0] * NMODELS
    if not exchanges:
        return tuple(out)
    for t in tracker.transfers():
        if t.movement.recipient in exchanges:
            for m in t.left:
                out[MODELS.index(m)] += t.of(m)
    return tuple(out)


def picture(tracker: TaintTracker, exchanges: Collection[str] = ()) -> tuple[ModelPicture, ...]:
    """Every model's picture, in ``MODELS`` order."""
    led = tracker.ledger
    ex = at_exchanges(tracker, exchanges)
    out = []
    for m in range(NMODELS):
        t = totals(led, m)
        out.append(ModelPicture(
            MODELS[m], t.seeded_micro, t.absorbed_micro, t.at_rest_micro, ex[m], t.left_micro - ex[m],
            t.burned_micro, t.accounts,
        ))
    return tuple(out)


__all__ = ["ModelPicture", "at_exchanges", "picture"]
