"""The taint picture: where each model's tainted XEM is (at rest, at exchanges, elsewhere, burned).

``seeded`` is what the sources were tainted with. For haircut and FIFO
``seeded == at_rest + at_exchanges + left_other + burned``; poison adds the clean funds it
absorbed to the sources' side; the two bounds bracket the rest (see ``conservation``). Taint that
reached an account labelled exchange is ``at_exchanges`` (exchanges are never followed: their
central wallet pools everyone's funds), taint that left the tracked set anywhere else
(thresholds, the ignore list) is ``left_other``.

``at_exchanges`` recomputes over every record of the ledger; a live reader (the engine's taint
watch, which asks after every block that carries taint) keeps an ``ExchangeTally`` instead: it
reads only the records added since its last call, keeps what left the tracked set per
recipient, and sums the exchanges' entries, so an exchange label added later counts the
recipient's past arrivals too. It starts over only when the ledger object is replaced (a
rollback restores a checkpoint; a rebuild makes a new tracker).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from nemwatch.core.taint.inputs import MODELS, Model
from nemwatch.core.taint.ledger import NMODELS, Ledger
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


_LEFT_BITS = ((1 << NMODELS) - 1) << 5  # the ledger's record flags: left under model m is bit m + 5


class ExchangeTally:
    """``at_exchanges`` kept up to date incrementally (see the module docstring)."""

    def __init__(self) -> None:
        self._led: Ledger | None = None
        self._seen = 0  # records of ``_led`` already read
        self._left: dict[str, list[int]] = {}  # recipient -> per model, tainted micro-XEM that left there

    def _sync(self, led: Ledger) -> None:
        if led is not self._led or len(led.rec_mv) < self._seen:
            self._led, self._seen, self._left = led, 0, {}
        flags, amounts, records = led.rec_flags, led.rec_t, led.rec_mv
        for k in range(self._seen, len(records)):
            f = flags[k]
            if not f & _LEFT_BITS:
                continue
            recipient = records[k].recipient
            row = self._left.get(recipient)
            if row is None:
                row = self._left[recipient] = [0] * NMODELS
            base = k * NMODELS
            for m in range(NMODELS):
                if f >> (m + 5) & 1:
                    row[m] += amounts[base + m]
        self._seen = len(records)

    def at_exchanges(self, tracker: TaintTracker, exchanges: Collection[str]) -> tuple[int, ...]:
        """Per model, the tainted micro-XEM that left the tracked set into an exchange."""
        self._sync(tracker.ledger)
        out = [0] * NMODELS
        for address in set(exchanges):  # few: labelled and inferred exchanges
            row = self._left.get(address)
            if row is not None:
                for m, v in enumerate(row):
                    out[m] += v
        return tuple(out)


def picture(
    tracker: TaintTracker, exchanges: Collection[str] = (), tally: ExchangeTally | None = None
) -> tuple[ModelPicture, ...]:
    """Every model's picture, in ``MODELS`` order (``tally``: read at exchanges incrementally)."""
    led = tracker.ledger
    ex = tally.at_exchanges(tracker, exchanges) if tally is not None else at_exchanges(tracker, exchanges)
    out = []
    for m in range(NMODELS):
        t = totals(led, m)
        out.append(ModelPicture(
            MODELS[m], t.seeded_micro, t.absorbed_micro, t.at_rest_micro, ex[m], t.left_micro - ex[m],
            t.burned_micro, t.accounts,
        ))
    return tuple(out)


__all__ = ["ExchangeTally", "ModelPicture", "at_exchanges", "picture"]
