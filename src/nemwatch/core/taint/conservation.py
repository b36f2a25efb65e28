"""Conservation of taint, per model: a remainder means a missed hop, a paging gap or a bug.

``check_conservation`` returns typed violations (never raises) so that the engine can turn each
into a ``conservation`` alert. What it checks:

- ``remainder``: haircut and FIFO: tainted at the sources = at rest + left the tracked set +
  burned as fees, exactly; poison: the same with the clean funds it absorbed added to the
  sources' side; the bounds: ``clean_first`` accounts for at most what was seeded and
  ``taint_first`` for at least.
- ``exceeds_balance``: an account holds more taint than its balance (or than the upper bound,
  or less than the lower bound): the models' state is inconsistent.
- ``balance_mismatch``: given the balances a node reports, a tracked account whose balance
  differs from the one the stream implies: the stream missed a movement of it (a paging gap, a
  block not read), so its taint at rest is wrong. ``observed_micro`` should be read at the
  height the stream was folded to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from nemwatch.core.taint.inputs import MODELS, Model
from nemwatch.core.taint.ledger import NMODELS, P, L, U, Ledger
from nemwatch.core.taint.view import totals, tracked_ids

ViolationKind = Literal["remainder", "exceeds_balance", "balance_mismatch"]


@dataclass(frozen=True, slots=True)
class ConservationViolation:
    """``expected_micro`` vs ``actual_micro``; ``remainder_micro`` = expected - actual."""

    kind: ViolationKind
    model: Model | None
    expected_micro: int
    actual_micro: int
    address: str | None = None

    @property
    def remainder_micro(self) -> int:
        return self.expected_micro - self.actual_micro

    def describe(self) -> str:
        who = f" at {self.address}" if self.address else ""
        name = self.model.value if self.model else "all models"
        return (
            f"{self.kind} under {name}{who}: expected {self.expected_micro} micro-XEM, "
            f"found {self.actual_micro} (remainder {self.remainder_micro})"
        )


def _remainders(led: Ledger) -> list[ConservationViolation]:
    out = []
    for m in range(NMODELS):
        t = totals(led, m)
        source_side = t.seeded_micro + t.absorbed_micro
        accounted = t.at_rest_micro + t.left_micro + t.burned_micro
        broken = (
            accounted > source_side if m == L
            else accounted < source_side if m == U
            else accounted != source_side
        )
        if broken:
            out.append(ConservationViolation("remainder", MODELS[m], source_side, accounted))
    return out


def _per_account(led: Ledger) -> list[ConservationViolation]:
    out = []
    for i in tracked_ids(led, None):
        b = led.bal[i]
        upper = led.held(U, i)
        for m in range(NMODELS):
            if m == P or led.hop[m][i] < 0:
                continue
            held = led.held(m, i)
            if held < 0 or held > b:
                out.append(ConservationViolation("exceeds_balance", MODELS[m], b, held, led.addrs[i]))
            elif m != U and led.hop[U][i] >= 0 and held > upper:
                out.append(ConservationViolation("exceeds_balance", MODELS[m], upper, held, led.addrs[i]))
            elif m != L and led.held(L, i) > held:
                out.append(
                    ConservationViolation("exceeds_balance", MODELS[L], held, led.held(L, i), led.addrs[i])
                )
        q = led.queues.get(i)
        if q is not None and sum(lot[0] for lot in q) != b:
            out.append(
                ConservationViolation("exceeds_balance", Model.FIFO, b, sum(lot[0] for lot in q), led.addrs[i])
            )
    return out


def check_conservation(
    led: Ledger, observed_micro: Mapping[str, int] | None = None
) -> tuple[ConservationViolation, ...]:
    """Every violation found (empty when the books balance); see the module docstring."""
    out = _remainders(led) + _per_account(led)
    for addr, seen in (observed_micro or {}).items():
        i = led.ids.get(addr)
        if i is None or led.hop[P][i] < 0:
            continue
        if led.bal[i] != seen:
            out.append(ConservationViolation("balance_mismatch", None, led.bal[i], seen, addr))
    return tuple(out)
