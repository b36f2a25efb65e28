"""How the demo moves simulated time: one block per engine cycle around every scheduled
transaction, several blocks per cycle through the stretches where the scenario schedules nothing.

The engine sees exactly what it would see block by block: a jump only covers blocks in which no
scheduled transaction is announced, becomes complete or is included, and it ends ``guard``
before the next one, so every transfer is followed one block at a time from its announcement
(the unconfirmed pool) through its inclusion and its ``tail_blocks`` confirmations (the settled
follow-up). A jump is still one block after another for the engine (it reads and commits every
block); only the cycles in between, with their head and pool polls, are left out. Times keep
their real values: nothing is compressed or shifted.

The scenario's end of chase (``chase_end``) is the inclusion of the last transfer that reaches
an exchange from outside it, plus those confirmations.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from nemwatch.core.nem import nemtime
from nemwatch.sim.plan import CompiledScenario
from nemwatch.sim.scenario import Role

MAX_JUMP_BLOCKS = 60  # a jump is at most an hour of blocks: the price is polled after each
TAIL_BLOCKS = 21  # single blocks after a transaction: its 20 confirmations (settled) and one more


@dataclass(frozen=True, slots=True)
class Step:
    blocks: int  # blocks of simulated time this step advances

    @property
    def jump(self) -> bool:
        return self.blocks > 1


class Pace:
    """Plans the demo's steps from the times of the scenario's scheduled transactions."""

    def __init__(
        self,
        events: Iterable[datetime],
        interval: float,
        *,
        max_blocks: int = MAX_JUMP_BLOCKS,
        tail_blocks: int = TAIL_BLOCKS,
        guard: timedelta | None = None,
    ) -> None:
        if interval <= 0 or max_blocks < 1 or tail_blocks < 0:
            raise ValueError("interval > 0, max_blocks >= 1, tail_blocks >= 0")
        self.events = sorted(set(events))
        self.interval = timedelta(seconds=interval)
        self.max_blocks = max_blocks
        self.tail = self.interval * tail_blocks
        self.guard = guard if guard is not None else self.interval * 2

    @classmethod
    def for_scenario(cls, compiled: CompiledScenario, **kwargs: object) -> Pace:
        return cls(transaction_times(compiled), compiled.scenario.block_interval, **kwargs)  # type: ignore[arg-type]

    def busy(self, start: datetime, end: datetime) -> bool:
        """Whether a scheduled transaction's time falls in [start - tail, end + guard]."""
        lo = bisect_left(self.events, start - self.tail)
        return lo < len(self.events) and self.events[lo] <= end + self.guard

    def step(self, now: datetime, until: datetime) -> Step:
        """The step from ``now``: one block near a transaction, else as many quiet blocks as fit
        (at most ``max_blocks``, never past ``until`` by more than one block)."""
        if now >= until:
            return Step(1)
        blocks = 1
        while blocks < self.max_blocks:
            end = now + self.interval * (blocks + 1)
            if end > until or self.busy(now, end):
                break
            blocks += 1
        return Step(blocks)

    def quiet_until(self, now: datetime) -> datetime | None:
        """The next scheduled transaction's time after ``now`` (None: nothing left)."""
        i = bisect_right(self.events, now)
        return self.events[i] if i < len(self.events) else None


def transaction_times(compiled: CompiledScenario) -> list[datetime]:
    """When each scheduled transaction is announced and when it becomes complete (its last
    cosignature), as UTC datetimes."""
    times: set[int] = set()
    for tx in compiled.txs:
        times.add(tx.created)
        times.add(tx.ready)
    return [nemtime.to_datetime(ts) for ts in sorted(times)]


def chase_end(compiled: CompiledScenario, *, confirmations: int = TAIL_BLOCKS) -> datetime:
    """The block that includes the last transfer into an exchange from outside it, plus
    ``confirmations`` blocks (so its confirmed and settled alerts are raised)."""
    exchanges = set(compiled.by_role(Role.EXCHANGE))
    arrivals = [tx.ready for tx in compiled.txs if tx.recipient in exchanges and tx.sender not in exchanges]
    if not arrivals:
        raise ValueError(f"scenario {compiled.scenario.name!r} has no transfer into an exchange")
    interval = compiled.scenario.block_interval
    start = nemtime.from_datetime(compiled.scenario.start)
    last = max(arrivals)
    included = start + ((last - start) // interval + 1) * interval  # the first block time after it
    return nemtime.to_datetime(included + confirmations * interval)


__all__ = ["MAX_JUMP_BLOCKS", "TAIL_BLOCKS", "Pace", "Step", "chase_end", "transaction_times"]
