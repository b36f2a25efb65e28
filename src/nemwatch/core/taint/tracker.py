"""The incremental API (one block at a time, with rollbacks) and the batch API (a whole stream).

Both drive the same ``Ledger`` fold. The state after a block is a pure function of the ordered
movements up to it, so a rollback restores the newest checkpoint below the fork height and folds
the retained blocks between that checkpoint and the fork again; checkpoints are taken every
``checkpoint_every`` blocks and those older than ``keep_blocks`` below the head are dropped
(with the blocks they cover), so memory stays bounded while following the chain.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from nemwatch.core.taint.conservation import ConservationViolation, check_conservation
from nemwatch.core.taint.inputs import MODELS, Model, Movement, TaintSource, Thresholds
from nemwatch.core.taint.ledger import NMODELS, Ledger
from nemwatch.core.taint.view import (
    AccountTaint,
    ModelTotals,
    NewTaint,
    TransferTaint,
    account_taint,
    new_taint,
    totals,
    tracked_ids,
    transfer_taint,
)


@dataclass(frozen=True, slots=True)
class TaintChanges:
    """What one block (or a rollback) changed.

    After ``apply_block``: ``new_accounts`` became tracked (hop and tainted amount per model) and
    ``moves`` are the block's transfers that carried taint. After ``rollback``: ``new_accounts``
    and ``moves`` are what the retracted blocks had done and is now undone (the accounts are
    un-tainted unless the surviving blocks taint them again), and ``height`` is the fork height.
    """

    height: int
    new_accounts: tuple[NewTaint, ...]
    moves: tuple[TransferTaint, ...]
    retracted: bool = False


class TaintTracker:
    """Taint under every model, folded block by block; read it between calls.

    ``opening_micro`` gives balances before the first block for the accounts whose balance is
    known (the engine reads them from a node); ``apply_block(..., balances_micro=...)`` can add
    more as new accounts appear. ``checkpoint_every=0`` keeps no history (batch use: no
    rollback).
    """

    def __init__(
        self,
        sources: Iterable[TaintSource] = (),
        thresholds: Thresholds | None = None,
        opening_micro: Mapping[str, int] | None = None,
        *,
        checkpoint_every: int = 30,
        keep_blocks: int = 400,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self._led = Ledger(self.thresholds, sources, opening_micro)
        self.checkpoint_every = checkpoint_every
        self.keep_blocks = keep_blocks
        self.height = 0
        # (height after which it was taken, ledger copy); history: retained blocks after the
        # oldest checkpoint, each (height, time, movements, balances learnt before it)
        self._checkpoints: deque[tuple[int, Ledger]] = deque()
        self._history: deque[tuple[int, datetime | None, tuple[Movement, ...], Mapping[str, int]]] = deque()
        self._since_checkpoint = 0
        if checkpoint_every:
            self._checkpoints.append((0, self._led.clone()))

    # --- writing ----------------------------------------------------------------------------

    def apply_block(
        self,
        height: int,
        movements: Iterable[Movement],
        at: datetime | None = None,
        balances_micro: Mapping[str, int] | None = None,
    ) -> TaintChanges:
        """Fold in the block at ``height`` (its movements in block order; ``at`` its time).

        ``balances_micro``: balances before this block of accounts whose balance the tracker
        does not know yet (used once per account; known balances are not overwritten).
        """
        if height <= self.height:
            raise ValueError(f"block {height} is not above the tracked height {self.height}; roll back first")
        mvs = tuple(movements)
        led = self._led
        n_rec, n_adm = len(led.rec_mv), len(led.admissions)
        self._fold(height, at, mvs, balances_micro or {})
        if self.checkpoint_every:
            self._history.append((height, at, mvs, dict(balances_micro or {})))
            self._since_checkpoint += 1
            if self._since_checkpoint >= self.checkpoint_every:
                self._checkpoints.append((height, led.clone()))
                self._since_checkpoint = 0
                self._prune()
        return TaintChanges(
            height,
            tuple(new_taint(led, k) for k in range(n_adm, len(led.admissions))),
            tuple(transfer_taint(led, k) for k in range(n_rec, len(led.rec_mv))),
        )

    def _fold(
        self, height: int, at: datetime | None, mvs: tuple[Movement, ...], balances: Mapping[str, int]
    ) -> None:
        led = self._led
        for addr, micro in balances.items():
            led.learn_balance(addr, micro)
        for mv in mvs:
            if mv.height != height:
                raise ValueError(f"movement {mv.identity} of height {mv.height} in block {height}")
            led.apply(mv)
        if at is not None:
            led.activate_due(at, height)
        self.height = height

    def _prune(self) -> None:
        floor = self.height - self.keep_blocks
        while len(self._checkpoints) > 1 and self._checkpoints[1][0] <= floor:
            self._checkpoints.popleft()
        oldest = self._checkpoints[0][0]
        while self._history and self._history[0][0] <= oldest:
            self._history.popleft()

    def rollback(self, fork_height: int) -> TaintChanges:
        """Retract every block at ``fork_height`` and above; their taint is undone.

        Raises ``ValueError`` when the fork is below the oldest checkpoint kept (deeper than
        ``keep_blocks``): then rebuild with the batch API from a full history.
        """
        if not self.checkpoint_every:
            raise ValueError("this tracker keeps no checkpoints (checkpoint_every=0)")
        if fork_height > self.height:
            return TaintChanges(fork_height, (), (), retracted=True)
        usable = [cp for cp in self._checkpoints if cp[0] < fork_height]
        if not usable:
            raise ValueError(f"fork at {fork_height} is deeper than the oldest checkpoint kept")
        old = self._led
        cp_height, cp = usable[-1]
        while self._checkpoints and self._checkpoints[-1][0] > cp_height:
            self._checkpoints.pop()
        self._led = cp.clone()
        self.height = cp_height
        kept = [b for b in self._history if b[0] < fork_height]
        self._history = deque(b for b in self._history if b[0] <= cp_height)
        self._since_checkpoint = 0
        for height, at, mvs, balances in kept:
            if height > cp_height:
                self._fold(height, at, mvs, balances)
                self._history.append((height, at, mvs, balances))
                self._since_checkpoint += 1
        self.height = max(self.height, fork_height - 1)
        led = self._led
        return TaintChanges(
            fork_height,
            tuple(new_taint(old, k) for k in range(len(led.admissions), len(old.admissions))),
            tuple(transfer_taint(old, k) for k in range(len(led.rec_mv), len(old.rec_mv))),
            retracted=True,
        )

    def restate(self, address: str, height: int, micro: int) -> bool:
        """``address`` held ``micro`` before block ``height`` (an opening balance learnt late):
        fold again from the newest checkpoint below ``height`` with it. False when that block
        is older than the checkpoints kept (then rebuild with it from a full history)."""
        if not self.checkpoint_every or height > self.height:
            return False
        usable = [cp for cp in self._checkpoints if cp[0] < height]
        if not usable or not any(b[0] == height for b in self._history):
            return False
        cp_height, cp = usable[-1]
        blocks = [
            (h, at, mvs, {**balances, address: micro} if h == height else balances)
            for h, at, mvs, balances in self._history
        ]
        while self._checkpoints and self._checkpoints[-1][0] > cp_height:
            self._checkpoints.pop()
        self._led = cp.clone()
        self.height = cp_height
        self._history = deque(b for b in blocks if b[0] <= cp_height)
        self._since_checkpoint = 0
        for h, at, mvs, balances in blocks:
            if h > cp_height:
                self._fold(h, at, mvs, balances)
                self._history.append((h, at, mvs, balances))
                self._since_checkpoint += 1
        return True

    def add_source(self, source: TaintSource) -> None:
        """A source added at run time; it takes effect from the next movement on."""
        self._led.add_source(source)

    # --- reading ----------------------------------------------------------------------------

    def account(self, address: str) -> AccountTaint | None:
        """The account under every model, or None when no model tracks it."""
        i = self._led.ids.get(address)
        if i is None or all(self._led.hop[m][i] < 0 for m in range(NMODELS)):
            return None
        return account_taint(self._led, i)

    def accounts(self, model: Model | None = None) -> list[AccountTaint]:
        """Accounts tracked under ``model`` (any model when None), most tainted first."""
        led = self._led
        out = [account_taint(led, i) for i in tracked_ids(led, None if model is None else MODELS.index(model))]
        key = model or Model.FIFO
        out.sort(key=lambda a: (-a.tainted_micro(key), a.address))
        return out

    def transfers(self) -> list[TransferTaint]:
        """Every transfer that carried taint under some model (or seeded it), in chain order."""
        return [transfer_taint(self._led, k) for k in range(len(self._led.rec_mv))]

    def totals(self) -> tuple[ModelTotals, ...]:
        return tuple(totals(self._led, m) for m in range(NMODELS))

    def check_conservation(
        self, observed_micro: Mapping[str, int] | None = None
    ) -> tuple[ConservationViolation, ...]:
        return check_conservation(self._led, observed_micro)

    @property
    def ledger(self) -> Ledger:
        """The raw state (read only; for exporters that need it flat and fast)."""
        return self._led


def trace(
    movements: Iterable[Movement],
    sources: Iterable[TaintSource],
    thresholds: Thresholds | None = None,
    opening_micro: Mapping[str, int] | None = None,
) -> TaintTracker:
    """The batch API: fold a whole ordered stream (export, benchmark); no rollback history."""
    tracker = TaintTracker(sources, thresholds, opening_micro, checkpoint_every=0)
    for height, block in groupby(movements, key=lambda m: m.height):
        if height <= tracker.height:
            raise ValueError(f"movements out of order: height {height} after {tracker.height}")
        tracker._fold(height, None, tuple(block), {})
    return tracker
