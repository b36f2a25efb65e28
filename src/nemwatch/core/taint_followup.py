"""What the taint watch does between blocks: marker mosaics held, opening balances, inferred
exchanges and relays. The engine calls three hooks (``TaintWatch.on_cycle``, ``on_history``
after a backfill, ``on_balance`` from its balance pass); everything else is here.

Marker mosaics held (``marker_seen``, ``via: holding``): an account can hold a marker it
received before nemwatch watched it, so ``/account/mosaic/owned`` is read for every watched
and every tainted account: once when it joins (before any periodic one), then once per round of
the balance-check cadence (``EngineSettings.balance_check_seconds``), at most
``TaintSettings.marker_checks_per_cycle`` requests per cycle. One alert per (account, marker),
kept across restarts (``taint_marks``), whichever way the mark was seen first.

Opening balances: the tracker starts an account it never saw at 0, and takes funds it later
spends without having seen them arrive as older clean funds. The balance an account held before
``h``, the block that tainted it (for a source: the first block the tracker was fed a movement
of it), is learnt in one of two ways and folded in at ``h`` (``TaintTracker.restate``; a
restart folds it in again from ``taint_openings``):

- ``history``: the sum of its transactions below ``h`` in the history the engine backfilled
  (received XEM minus sent XEM and fees; a multisig account pays its transactions' fees).
  Exact when that backfill read the whole history (fewer than ``backfill_max_pages`` pages)
  and the account never harvested (harvested fees and mosaic levies paid in XEM are no
  transfers). Independent of the node's balance, so the balance checks that follow compare
  two independent sums: a movement the block stream missed (a paging gap, a block misread)
  shows as a ``conservation`` alert (``balance_mismatch``).
- ``node``: the node's balance at height ``H`` (read by the balance pass, at a height the node
  did not move across) minus what the engine stored of the account in blocks ``h..H``. Used
  when the backfill is done but could not give the history (more pages than allowed; no
  backfill configured). Exact when the engine saw every transaction of the account in
  ``h..H`` (it is watched from the block that tainted it: matched in that very block) and it
  did not harvest; it cannot see a gap before ``H``, only those after.

After that, every balance the balance pass reads for a tracked account at the height the
tracker stands at is handed to ``check_conservation``: a mismatch is a ``conservation`` alert.

Inferred exchanges and relays: when the taint reaches an account, and again once per round for
every tainted account, its stored history (what the engine matched and backfilled) goes through
``taint.exchanges.central_wallet`` and ``relay`` (thresholds in ``TaintSettings``). An account
that behaves like an exchange's central wallet is labelled (kind ``exchange``, origin
``heuristic``, with the evidence; kept in ``taint_inferred``), stops taint like a labelled
exchange (the tracker is rebuilt with it ignored, so what reached it counts at exchanges, and
the accounts only it had tainted are no longer followed), and each tainted arrival there is a
``taint_exchange`` alert with ``inferred: true`` and the evidence, ``warning`` rather than
``critical``. A relay-like account is labelled ``relay`` and still followed.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nemwatch.core import taint_rules as tr
from nemwatch.core.alert import Alert
from nemwatch.core.models import Message, MessageType, Transaction, Transfer
from nemwatch.core.rules import confirmations, explained_change
from nemwatch.core.store import TransferRow
from nemwatch.core.store.taint import InferredRow, Opening
from nemwatch.core.taint import exchanges as ex
from nemwatch.core.taint.adapt import movement_of
from nemwatch.core.taint.ledger import NMODELS
from nemwatch.core.taint.markers import markers_held
from nemwatch.core.taint.messages import flag_transfer
from nemwatch.core.taint.view import transfer_taint

if TYPE_CHECKING:
    from nemwatch.core.engine import CycleStats
    from nemwatch.core.taintwatch import TaintWatch

log = logging.getLogger("nemwatch.taint")


class Rounds:
    """Which addresses to look at this cycle: those never looked at first (in the order they
    joined), then one round over every candidate each ``every``; at most ``per_cycle``."""

    def __init__(self, every: Callable[[], timedelta], per_cycle: int) -> None:
        self.every = every
        self.per_cycle = per_cycle
        self.done: set[str] = set()
        self._first: deque[str] = deque()
        self._round: deque[str] = deque()
        self._round_at: datetime | None = None

    def push(self, address: str) -> None:
        """``address`` joined: first in line (once)."""
        if address not in self.done and address not in self._first:
            self._first.append(address)

    def take(self, now: datetime, candidates: Iterable[str]) -> list[str]:
        pool = set(candidates)
        for address in sorted(pool - self.done - set(self._first)):
            self._first.append(address)
        out: list[str] = []
        while self._first and len(out) < self.per_cycle:
            address = self._first.popleft()
            if address in pool:
                out.append(address)
        if len(out) < self.per_cycle and not self._round:
            if self._round_at is None or now - self._round_at >= self.every():
                self._round_at = now
                self._round.extend(sorted(pool))
        while self._round and len(out) < self.per_cycle:
            address = self._round.popleft()
            if address in pool and address not in out:
                out.append(address)
        self.done.update(out)
        return out

    def retry(self, address: str) -> None:
        """Looking at ``address`` failed: first in line next cycle."""
        self.done.discard(address)
        self._first.appendleft(address)


def transfer_of_row(row: TransferRow) -> Transfer:
    """A stored transfer as a ``Transfer`` again (its message is the stored, sanitised text)."""
    message = None
    if row.message is not None:
        kind = MessageType(row.message_type) if row.message_type else MessageType.PLAIN
        message = Message(kind, row.message.encode(), row.message)
    return Transfer(
        hash=row.hash, inner_hash=row.inner_hash, height=row.height, meta_id=None, sender=row.sender,
        sender_public_key="", initiator=row.initiator, fee=row.fee, nem_timestamp=0, timestamp=row.tx_time,
        deadline=0, version=2 if row.mosaics else 1, signature=None, recipient=row.recipient, amount=row.xem,
        xem=row.xem, mosaics=row.mosaics, message=message,
    )


def history_movements(rows: Iterable[TransferRow]) -> list[ex.Movement]:
    """Stored transfers as the inputs of the exchange and relay detectors."""
    return [
        ex.Movement(r.identity, r.tx_time, r.sender, r.recipient, r.xem, r.message, r.height)
        for r in rows if r.kind == "transfer" and r.height is not None
    ]


def net_below(address: str, history: Iterable[Transaction], height: int) -> int:
    """What ``history`` did to the balance of ``address`` in the blocks below ``height``."""
    net = 0
    for tx in history:
        if tx.height is None or tx.height >= height:
            continue
        mv = movement_of(tx, 0, tx.height)
        if mv.sender == address:
            net -= mv.amount_micro + mv.fee_micro
        if mv.recipient == address:
            net += mv.amount_micro
    return net


class TaintFollowUp:
    """The between-blocks work of one ``TaintWatch`` (see the module docstring)."""

    def __init__(self, watch: TaintWatch) -> None:
        self.watch = watch
        cadence = lambda: timedelta(seconds=watch.engine.settings.balance_check_seconds)  # noqa: E731
        self.markers = Rounds(cadence, watch.settings.marker_checks_per_cycle)
        self.reviews = Rounds(cadence, watch.settings.reviews_per_cycle)
        self.openings: dict[str, Opening] = {}

    def bind(self) -> None:
        self.openings = {o.address: o for o in self.watch.tables.openings()}

    def joined(self, addresses: Iterable[str]) -> None:
        """Accounts the taint just reached: their marks and history are looked at first."""
        for address in addresses:
            self.markers.push(address)
            self.reviews.push(address)

    # -- the cycle hook -------------------------------------------------------------------

    async def on_cycle(self, head: int, stats: CycleStats) -> None:
        w = self.watch
        engine = w.engine
        now = engine.clock()
        tracked = w.tracked()
        if w.settings.markers and self.markers.per_cycle > 0:
            await self._probe_markers(now, set(engine.watch) | tracked, stats)
        if self.reviews.per_cycle > 0:
            candidates = tracked - set(w.sources_by_address) - w.settings.exchanges - set(w.inferred)
            for address in self.reviews.take(now, candidates):
                self._review(address, head, now, stats)

    async def _probe_markers(self, now: datetime, candidates: set[str], stats: CycleStats) -> None:
        w = self.watch
        engine = w.engine
        read = getattr(engine.source, "mosaics_owned", None)
        if read is None:
            return
        alerts: list[Alert] = []
        marks: list[tuple[str, str]] = []
        for address in self.markers.take(now, candidates):
            try:
                owned = await read(address)
            except Exception as err:  # the next cycle tries again; the chain loop goes on
                log.warning("owned mosaics of %s unavailable: %s", address, err)
                self.markers.retry(address)
                break
            w.marked, new = w.marked.observe(markers_held(address, owned, w.settings.markers))
            for s in new:
                facts = w._facts_of(address)
                marks.append((s.address, s.mosaic_id))
                alerts.append(tr.marker_held_alert(s, engine.context, facts=facts, height=w.tracker.height or None,
                                                   now=now, value=w._valuer(now)))
        if marks:
            with engine._tx():
                for address, mosaic in marks:
                    w.tables.add_mark(address, mosaic, None, None)
                engine._queue(alerts, stats)

    # -- inferred exchanges and relays --------------------------------------------------------

    def _review(self, address: str, head: int, now: datetime, stats: CycleStats) -> None:
        w = self.watch
        history = history_movements(w.engine.store.transfers_of(address))
        wallet = ex.central_wallet(address, history, w.settings.central_wallet)
        if wallet.exchange_like:
            self._infer_exchange(address, wallet, head, now, stats)
            return
        verdict = ex.relay(address, history, w.settings.relay)
        if verdict.relay_like:
            evidence = {
                "pattern": verdict.pattern.value if verdict.pattern else None, "hops": len(verdict.hops),
                "forward_permille": verdict.forward_permille,
                "median_hold_seconds": int(verdict.median_hold.total_seconds()) if verdict.median_hold else None,
                "mean_interval_seconds": int(verdict.mean_interval.total_seconds()) if verdict.mean_interval else None,
            }
            row = InferredRow(address, "relay", evidence, w.tracker.height, now)
            with w.engine._tx():
                w.tables.add_inferred(row)
            w.inferred[address] = row
            w.engine.watch.labels.setdefault(address, ("inferred relay", "relay"))

    def _infer_exchange(self, address: str, wallet: ex.CentralWalletVerdict, head: int, now: datetime,
                        stats: CycleStats) -> None:
        w = self.watch
        engine = w.engine
        evidence = {
            "inflows": wallet.inflows, "tagged_inflows": wallet.tagged_inflows,
            "tagged_permille": wallet.tagged_permille, "distinct_senders": wallet.distinct_senders,
            "tagged_senders": wallet.tagged_senders, "distinct_tags": wallet.distinct_tags,
            "sample": [asdict(d) for d in wallet.sample[:3]],
        }
        row = InferredRow(address, "exchange", evidence, w.tracker.height, now)
        log.warning("taint: %s behaves like an exchange's central wallet; taint stops there", address)
        w.inferred[address] = row
        w.settings = replace(w.settings, exchanges=w.settings.exchanges | {address})
        w.engine.watch.labels.setdefault(address, ("inferred exchange", "exchange"))
        w._rebuild()
        led = w.tracker.ledger
        alerts: list[Alert] = []
        ctx = engine.context
        value = w._valuer(now)
        for k, mv in enumerate(led.rec_mv):
            if mv.recipient != address or not led.rec_flags[k] >> 5 & ((1 << NMODELS) - 1):
                continue
            stored = engine.store.get_transfer(mv.identity)
            if stored is None or stored.kind != "transfer":
                continue
            tx = transfer_of_row(stored)
            move = transfer_taint(led, k)
            facts = w._move_facts(tx, move)
            report = flag_transfer(tx, engine.settings.network)
            alerts.append(tr.exchange_alert(
                tx, facts, ctx, deposit_tag=report.deposit_tag if report else None,
                confs=confirmations(tx.height, head), now=now, value=value, inferred=evidence,
            ))
        with engine._tx():
            w.tables.add_inferred(row)
            w._resync(now)
            engine._queue(alerts, stats)

    # -- opening balances -----------------------------------------------------------------

    def _start_height(self, address: str) -> int | None:
        w = self.watch
        if address in w.sources_by_address:
            return w.tables.first_height(address)
        row = w.tables.account(address)
        return row.hop_height if row is not None else None

    def on_history(self, address: str, history: list[Transaction], complete: bool) -> None:
        """The engine backfilled ``address``: its opening, when the history is whole."""
        if not complete or address in self.openings or self.watch.tracker.account(address) is None:
            return
        h = self._start_height(address)
        if h is None:
            return
        self._learn(Opening(address, h, net_below(address, history, h), "history"))

    def on_balance(self, address: str, micro: int, height: int, now: datetime) -> list[Alert]:
        """The balance pass read ``micro`` at ``height``: an opening, or a conservation check."""
        w = self.watch
        engine = w.engine
        cursor = engine.store.get_cursor("chain")  # the tracker is folded up to the engine's cursor
        if cursor is None or height != cursor.height or w.tracker.account(address) is None:
            return []
        opening = self.openings.get(address)
        if opening is None:
            h = self._start_height(address)
            backfilled = engine.settings.backfill_per_cycle <= 0 or engine.store.get_cursor(f"backfill:{address}")
            if h is None or h > height or not backfilled:
                return []  # not yet: the history may still give it, independently of the node
            moved = engine.store.transfers_of(address, above=h - 1, upto=height)
            self._learn(Opening(address, h, micro - explained_change(address, moved), "node", height))
            return []
        ctx = engine.context
        return [
            tr.conservation_alert(v, ctx, height=height, drive=w.model, now=now)
            for v in w.tracker.check_conservation({address: micro}) if v.kind == "balance_mismatch"
        ]

    def _learn(self, opening: Opening) -> None:
        w = self.watch
        engine = w.engine
        self.openings[opening.address] = opening
        with engine._tx():
            w.tables.set_opening(opening)
        if w.tracker.restate(opening.address, opening.height, opening.micro):
            w._ensure_sources()
        else:
            w._rebuild()  # older than the checkpoints: fold everything again, openings included
        with engine._tx():
            w._resync(engine.clock())


__all__ = ["Rounds", "TaintFollowUp", "history_movements", "net_below", "transfer_of_row"]
