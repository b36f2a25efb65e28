"""The engine: one loop that follows the chain, matches the watch set and raises alerts.

Each cycle:

1. asks one node for its height, and every node when that answer changes
   (``core.tasks.heightpoll``), and takes the head a majority supports (``core.head``),
   believed once a node that reports it serves its block; node trouble and recovery become
   alerts, one pair per episode;
2. checks the stored chain against the nodes' (rollbacks, ``core.follow``; the start block is
   kept as the anchor, and a fork below everything kept is walked back on the nodes) and
   rewinds when it was rewritten, retracting alerted transfers that vanished; a transaction
   included again later is a new inclusion with its own alert ids (``core.reorg``);
3. fetches each new block from two healthy nodes, which must serve the same block
   (``core.agreement``: dissenters are named, a split commits nothing); far behind the head,
   each block once, bound by the hash chain and vouched for by a second node above it
   (``core.catchup``, which drops back to two copies wherever that fails); and matches its
   transactions (multisig inner ones included) against the whole watch set in memory, checking
   the matched ones' own signatures (``core.nem.verify``); the block header, the matched
   transfers, the alerts they cause and the cursor are committed in ONE transaction;
4. settles transfers that reached ``settle_after`` confirmations (``core.tasks.settle``);
   checks the unconfirmed pool of urgent addresses (``core.tasks.pool``), backfills newly
   watched addresses (``core.tasks.backfill``) and reconciles balances
   (``core.tasks.reconcile``): in this cycle, or, when the service runs them as tasks of their
   own (``tasks_apart``, ``core.tasks.runner``), beside it, so none of them delays a block;
5. hands the outbox to the dispatcher: delivery happens after the commit, so a crash at any
   moment loses no alert (it may deliver one twice, always with the same ``alert_id``); with
   the tasks apart, delivery is told right after each commit that stored an alert;
6. tells the stall watch how it went (``core.stall``): failed cycles in a row, or a cursor
   that does not keep up, raise a critical ``stalled`` alert on every sink.

Time and sleep are injected; the engine never reads the wall clock itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from nemwatch.core import agreement, reorg, rules, stall
from nemwatch.core.agreement import BlockUnavailable
from nemwatch.core.catchup import CatchUp
from nemwatch.core.alert import Alert, Severity, Stage
from nemwatch.core.eventbus import EventBus
from nemwatch.core.events import (
    AlertRaised,
    BlockProcessed,
    CycleFailed,
    Event,
    HeadUpdated,
    RollbackHandled,
    WatchListChanged,
)
from nemwatch.core.follow import REWRITE_LIMIT, DeepRollbackError, RecentChain, find_ancestor
from nemwatch.core.head import HeadDecision, HeadTracker, NodeState, NodeVerdict
from nemwatch.core.models import AccountInfo, Block, Network, Transaction, Transfer
from nemwatch.core.nem.errors import NodeFailure, NotFound
from nemwatch.core.price.valuation import price_alert
from nemwatch.core.mosaic_registry import MosaicRegistry
from nemwatch.core.movement_alerts import movement_alerts
from nemwatch.core.movements import levy_charges, movement_row
from nemwatch.core.store import BlockRow, Cursor, Store, TransferRow, TransferStatus
from nemwatch.core.store.settling import cursors_with_prefix
from nemwatch.core.taintwatch import TaintWatch
from nemwatch.core.tasks import settle
from nemwatch.core.tasks.backfill import Backfill
from nemwatch.core.tasks.heightpoll import HeightPoll
from nemwatch.core.tasks.pool import PoolWatch
from nemwatch.core.tasks.pushwake import check_pushed_rollback
from nemwatch.core.tasks.reconcile import Reconciler
from nemwatch.core.watchset import WatchSet
from nemwatch.redact import redact_url, scrub, secret_parts

log = logging.getLogger("nemwatch.engine")

CHAIN_CURSOR = "chain"
STALL_CURSOR = "stall"  # height: the stall episode number; hash: "stalled" or "ok"


class ForgedBlockError(RuntimeError):
    """A node served a block whose harvester signature does not verify."""


class ChainSource(Protocol):
    """What the engine reads from the nodes (``core.nem.client.NisClient`` provides it)."""

    async def heights(self) -> Mapping[str, int | BaseException]: ...

    async def block_at(self, height: int, *, node: str | None = None) -> Block: ...

    async def unconfirmed(self, address: str) -> Sequence[Transaction]: ...

    async def account(self, address: str, *, node: str | None = None) -> AccountInfo: ...

    async def chain_height(self, *, node: str | None = None) -> int: ...

    async def transfers(
        self, address: str, direction: str = "all", *, page_size: int = 100, until_hash: str | None = None,
        max_pages: int | None = None,
    ) -> Sequence[Transaction]: ...


class Delivery(Protocol):
    async def deliver_pending(self, now: datetime) -> Any: ...


PriceLookup = Callable[[datetime], tuple[Decimal | None, str | None]]


@dataclass(frozen=True, slots=True)
class EngineSettings:
    network: Network = Network.MAINNET
    poll_seconds: float = 5.0
    unconfirmed_poll_seconds: float = 5.0
    start_height: int | None = None
    settle_after: int = rules.SETTLE_AFTER
    max_blocks_per_cycle: int = 200
    backfill_per_cycle: int = 5
    backfill_max_pages: int = 20
    balance_checks_per_cycle: int = 2
    balance_check_seconds: float = 600.0
    sinks: tuple[str, ...] = ("stdout",)
    min_severity: Severity = Severity.INFO  # below it an alert is stored but sent nowhere
    stalled_failed_cycles: int = stall.DEFAULT_FAILED_CYCLES  # failed cycles in a row: ``stalled``
    stalled_behind_blocks: int = stall.DEFAULT_BEHIND_BLOCKS  # cursor behind the head, not catching up
    pool_checks_per_pass: int = 10  # urgent addresses whose pool is read per pass, round-robin
    balance_pass_seconds: float = 0.0  # at least this long between two balance passes (0: each cycle)
    backfill_page_seconds: float = 0.0  # the backfill waits this long after each page it reads
    # every node is asked for its height at least this often; in between one node is asked and
    # the others only when its answer changes (core.tasks.heightpoll); 0: every node every poll
    full_height_poll_seconds: float = 60.0
    # more than this many blocks behind the head, each block is read once, bound by the hash
    # chain (core.catchup); 0: always two copies a block
    catchup_after_blocks: int = 8
    catchup_blocks_per_cycle: int = 3_000  # a cycle that far behind commits at most this many


@dataclass
class CycleStats:
    head: int | None = None
    cursor: int | None = None
    blocks: int = 0
    alerts: list[Alert] = field(default_factory=list)
    rollback: RollbackHandled | None = None
    healthy_nodes: int = 0
    troubled_nodes: int = 0


class Engine:
    def __init__(
        self,
        *,
        source: ChainSource,
        store: Store,
        watch: WatchSet,
        settings: EngineSettings,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        delivery: Delivery | None = None,
        price: PriceLookup | None = None,
        bus: EventBus | None = None,
        taint: TaintWatch | None = None,
    ) -> None:
        self.source = source
        self.store = store
        self.watch = watch
        self.settings = settings
        self.clock = clock
        self.sleep = sleep  # the follower's pause between cycles (a face may replace it)
        self.task_sleep = sleep  # the side tasks' pauses and the backfill's pacing
        self.delivery = delivery
        self.price = price
        self.heads = HeadTracker()
        self.heightpoll = HeightPoll(source, clock, settings.full_height_poll_seconds)
        self._decision: HeadDecision | None = None  # the last head decision (reused while nothing changed)
        self.chain = RecentChain()
        self.chain.load_rows(store.recent_blocks())
        self.mosaics = MosaicRegistry(store, clock)
        self.bus = bus or EventBus(clock=clock)
        self._watched = frozenset(watch)
        self._pending: list[Event] = []
        self._depth = 0
        self.pool = PoolWatch()  # the unconfirmed pool of urgent addresses
        self.catchup = CatchUp()  # far behind the head: one read per block (core.catchup)
        self.push: Any = None  # the websocket push's wake-up (core.tasks.pushwake), when it runs
        # True while the service runs the pool, backfill and balance passes and delivery as
        # tasks of their own (core.tasks.runner): a cycle then only follows the chain, and
        # delivery is told after each commit instead of being awaited
        self.tasks_apart = False
        self._healthy: tuple[str, ...] = ()
        self._claims: dict[str, int] = {}  # node -> the height it reported in the last poll
        self._probed: dict[tuple[int, str], Block] = {}  # blocks read while deciding the head
        start = store.get_cursor(CHAIN_CURSOR)
        self._vetted = start.height if start is not None else 0  # the highest height a node served
        self._chain_time: datetime | None = None
        self.backfiller = Backfill()  # newly watched addresses' history
        self.reconciler = Reconciler()  # balance rounds
        self._restore_node_episodes()
        self._verdicts: tuple[NodeVerdict, ...] = ()
        self.stall = stall.StallWatch(settings.stalled_failed_cycles, settings.stalled_behind_blocks)
        restored = self.store.get_cursor(STALL_CURSOR)
        if restored is not None:
            self.stall.restore(restored.height, restored.hash == "stalled")
        self.taint = taint  # the taint models (core.taintwatch): auto-follow, taint alerts
        if taint is not None:
            taint.bind(self)
        self.sync_accounts()

    # -- wiring ---------------------------------------------------------------------------

    @property
    def network(self) -> str:
        return self.settings.network.value

    @property
    def context(self) -> rules.RuleContext:
        return rules.RuleContext(
            watch=self.watch,
            labels=self.watch.labels,
            settings=rules.RuleSettings(network=self.network, settle_after=self.settings.settle_after),
        )

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``listener`` synchronously for every event; returns its remover.
        Async faces use ``engine.bus.subscribe()`` instead."""
        return self.bus.add_listener(listener)

    def _emit(self, event: Event) -> None:
        self.bus.publish(event)  # never raises: a face's bug must not stop the watcher

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """A store transaction; the events it produced are emitted only once it committed."""
        self._depth += 1
        try:
            with self.store.transaction():
                yield
        except BaseException:
            if self._depth == 1:
                self._pending.clear()
            raise
        finally:
            self._depth -= 1
        if self._depth:
            return
        pending, self._pending = self._pending, []
        for event in pending:
            self._emit(event)
        if self.tasks_apart and any(isinstance(e, AlertRaised) for e in pending):
            self._notify_delivery()  # the alert leaves now, whatever else the cycle does

    def _notify_delivery(self) -> None:
        notify = getattr(self.delivery, "notify", None)
        if notify is not None:
            notify()

    async def _deliver(self) -> None:
        """Hand the outbox to delivery: awaited in a plain cycle, only told when it runs apart."""
        if self.delivery is None:
            return
        if self.tasks_apart and getattr(self.delivery, "notify", None) is not None:
            self._notify_delivery()
        else:
            await self.delivery.deliver_pending(self.clock())

    def sync_accounts(self) -> None:
        """Record every watched address in the store (so backfill and balances know it)."""
        known = {row.address for row in self.store.accounts()}
        now = self.clock()
        with self._tx():
            for address, rule in self.watch.items():
                if address not in known:
                    self.store.upsert_account(address, label=rule.label, urgent=rule.urgent, now=now)

    def watch_changed(self) -> None:
        """Call after editing the watch set: new addresses are recorded and backfilled."""
        self.backfiller.reset()
        self.reconciler.reset()
        self.sync_accounts()
        # emitted on every call: labels and rules may have changed even when the addresses did not
        current, before = frozenset(self.watch), self._watched
        self._watched = current
        added, removed = tuple(sorted(current - before)), tuple(sorted(before - current))
        self._emit(WatchListChanged(added, removed, len(current), self.clock()))

    def _restore_node_episodes(self) -> None:
        for cursor in cursors_with_prefix(self.store, "node:"):
            url = cursor.name[len("node:") :]
            self.heads.restore(url, cursor.height, cursor.hash == "trouble")

    # -- one cycle, as the service loop (nemwatch.service_loop) runs it ------------------

    async def cycle_or_report(self) -> CycleStats | None:
        """One cycle; a failure is logged in one line and published (``CycleFailed``) instead of
        raised, so that the watcher outlives any one bad cycle. None when the cycle failed."""
        try:
            return await self.cycle()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            cause = f"{type(err).__name__}: {err}"
            log.error("cycle failed: %s", cause)
            log.debug("cycle failed", exc_info=True)
            self._emit(CycleFailed(cause[:300], self.clock()))
            return None

    async def cycle(self) -> CycleStats:
        """One cycle, watched: a failed one (or one no node answered) counts toward ``stalled``;
        its error is raised again once counted."""
        try:
            stats = await self._cycle()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            await self._watch_stall(None, f"{type(err).__name__}: {err}")
            raise
        error = None if stats.head is not None else self._no_head_cause()
        await self._watch_stall(stats, error)
        return stats

    def _no_head_cause(self) -> str:
        troubles = "; ".join(f"{redact_url(v.url)}: {v.state.value}, {v.detail}" for v in self._verdicts)
        return f"no node gave a usable height ({troubles or 'no node configured'})"

    async def _watch_stall(self, stats: CycleStats | None, error: str | None) -> None:
        """Feed the stall watch; an episode edge becomes a ``stalled`` alert, sent at once."""
        if error is not None:
            secrets = [part for v in self._verdicts for part in secret_parts(v.url)]
            error = scrub(error, secrets)
        try:
            cursor = self.store.get_cursor(CHAIN_CURSOR)
            change = self.stall.observe(
                error=error, head=stats.head if stats else None, cursor=cursor.height if cursor else None
            )
            if change is None:
                return
            log.log(logging.ERROR if change.kind == "stalled" else logging.WARNING, "%s: %s", change.kind, change.cause)
            alert = stall.stalled_alert(change, network=self.network, now=self.clock())
            with self._tx():
                self._queue([alert], stats or CycleStats(), every_sink=True)
                self.store.set_cursor(STALL_CURSOR, change.episode, "stalled" if change.kind == "stalled" else "ok")
            await self._deliver()
        except Exception:  # the stall watch must never be why the watcher stops
            log.exception("stall watch failed")

    async def _cycle(self) -> CycleStats:
        stats = CycleStats()
        decision = await self._poll_head(stats)
        head = decision.head
        if head is not None:
            await check_pushed_rollback(self, head, stats)  # a pushed height at or below the last
            await self._follow(head, stats)
            self._settle_pass(head, stats)
            self._expire_unconfirmed(stats)
        if head is not None and not self.tasks_apart:  # else each runs apart (core.tasks.runner)
            await self._unconfirmed_pass(stats)
            await self._backfill_pass(head)
            await self._balance_pass(head, stats)
            if self.taint is not None:  # marker mosaics held, exchanges inferred from history
                await self.taint.on_cycle(head, stats)
        await self._deliver()
        cursor = self.store.get_cursor(CHAIN_CURSOR)
        stats.cursor = cursor.height if cursor else None
        return stats

    # -- head and nodes -------------------------------------------------------------------

    async def _poll_head(self, stats: CycleStats) -> HeadDecision:
        answers = await self.heightpoll.poll(self._decision)
        if answers is None and self._decision is not None:  # the polled node saw no change
            decision, transitions = self._decision, []
        else:
            decision = await self._decide_head(answers if answers is not None else await self.source.heights())
            self._decision = decision
            self.heightpoll.choose_primary(decision)
            transitions = self.heads.transitions(decision)
        self._healthy = decision.healthy
        self._verdicts = decision.verdicts
        now = self.clock()
        if transitions:
            alerts = [rules.node_alert(t, network=self.network, now=now) for t in transitions]
            if not decision.healthy:  # every node down (or unusable): the watcher is blind
                alerts = [stall.no_node_left(a) for a in alerts]
            with self._tx():
                self._queue(alerts, stats)
                for t in transitions:
                    self.store.set_cursor(f"node:{t.url}", t.episode, "trouble" if t.kind == "trouble" else "ok")
        cursor = self.store.get_cursor(CHAIN_CURSOR)
        stats.head = decision.head
        stats.cursor = cursor.height if cursor else None
        stats.healthy_nodes = sum(1 for v in decision.verdicts if v.state is NodeState.OK)
        stats.troubled_nodes = len(decision.verdicts) - stats.healthy_nodes
        self._emit(HeadUpdated(decision.head, stats.cursor, decision.verdicts, now))
        return decision

    async def _decide_head(self, answers: Mapping[str, int | BaseException]) -> HeadDecision:
        """The quorum head, believed only once a node that reports it serves its block: heights
        no node can serve are the node's trouble (``HeadTracker.refuse``), never the chain's.
        The block probed is kept for the reading, so this costs no request in the usual case."""
        self._probed.clear()
        await self._probe_refusals(answers)
        decision = self.heads.decide(answers)
        for _ in range(len(answers)):
            head = decision.head
            if head is None or head <= self._vetted:
                break
            node = next(
                (v.url for v in decision.verdicts if v.state is NodeState.OK and (v.height or 0) >= head), None
            )
            if node is None:
                break
            try:
                block = await self.source.block_at(head, node=node)
            except NotFound:
                log.warning("%s reports height %d but has no block there", redact_url(node), head)
                self.heads.refuse(node, self._vetted + 1 if self._vetted else head)
                decision = self.heads.decide(answers)
                continue
            except Exception:  # a passing failure: the reading decides
                break
            self._probed[(head, node)] = block
            self._vetted = head
            break
        self._claims = {v.url: v.height for v in decision.verdicts if v.height is not None}
        return decision

    async def _probe_refusals(self, answers: Mapping[str, int | BaseException]) -> None:
        """A node refused earlier that still reports the height: does it serve it now?"""
        for node, refused in self.heads.refused.items():
            claim = answers.get(node)
            height = refused
            while isinstance(claim, int) and height <= claim and height <= refused + 2:
                try:
                    block = await self.source.block_at(height, node=node)
                except Exception:
                    break
                self._probed[(height, node)] = block
                self.heads.served(node, height)
                self._vetted = max(self._vetted, height)
                height += 1

    # -- following blocks -----------------------------------------------------------------

    async def _follow(self, head: int, stats: CycleStats) -> None:
        cursor = self.store.get_cursor(CHAIN_CURSOR)
        if cursor is None:
            start = self.settings.start_height - 1 if self.settings.start_height else head
            cursor = await self._anchor(start)
            log.info("starting at height %d", start + 1)
        position = cursor.height
        if self.chain.tip is not None and (head < position or (not self.chain.linked and head > position)):
            # re-read mode, or the nodes' head went below us: is our tip still on their chain?
            below = min(head, position)
            if below in self.chain.refs and await tip_changed_at(self.chain, self.read_block, below):
                position = await self._rollback(below - 1, head, stats)
            elif head < position:
                return  # the majority is behind us: wait for it
        last = min(head, position + self.settings.max_blocks_per_cycle)
        height = position + 1
        while height <= last:
            if self.catchup.wanted(self, height, head):  # far behind: one read per block
                height = await self.catchup.run(self, height, head, stats)
                if height > head or not self.catchup.slow(height):
                    break  # committed as far as this cycle goes
                last = max(last, height)  # what it could not commit: two copies each
            try:
                block = await self.read_block(height, stats, first=self.catchup.first_nodes(height))
            except BlockUnavailable as err:
                log.info("%s: following stops below it this cycle", err)
                break
            if self.chain.breaks_link(block):
                position = await self._rollback(height - 1, head, stats)
                height = position + 1
                continue
            await self.mosaics.prefetch(self.source, block.transactions, self.watch)
            self._commit_block(block, head, stats)
            height += 1

    async def _anchor(self, start: int) -> Cursor:
        """The first cursor: the block at ``start`` is kept (its hash in the cursor) though not
        processed, so a fork of the very first processed block is seen and walked back."""
        anchor = await self.read_block(start) if start >= 1 else None
        with self._tx():
            if anchor is not None:
                self.store.record_block(BlockRow.from_block(anchor))
            self.store.set_cursor(CHAIN_CURSOR, start, anchor.hash if anchor is not None else None)
        if anchor is not None:
            self.chain.add(anchor)
        return Cursor(CHAIN_CURSOR, start, anchor.hash if anchor is not None else None)

    async def read_block(
        self, height: int, stats: CycleStats | None = None, *, first: Sequence[str] = ()
    ) -> Block:
        """The block at ``height`` as the healthy nodes agree on it (``core.agreement``): with
        two or more healthy nodes a second node must serve the same block; dissenting nodes are
        named in ``node`` alerts and the verified transfers only they hold are alerted as
        ``unconfirmed``. Matched transactions come back with their own signatures checked.
        ``first``: healthy nodes asked before the others (the catch-up's, on both sides of a
        broken link, so that a node serving another chain is named).

        Raises ``BlockUnavailable`` when nothing can be committed at ``height`` this cycle (no
        agreement yet, or no node has the block: a node that claimed it is refused by the head
        tracker), ``ForgedBlockError`` when every block served is invalid."""
        match = self.watch.matching
        if self._healthy:
            asked_first = [n for n in dict.fromkeys(first) if n in self._healthy]
            nodes = (*asked_first, *[n for n in self._healthy if n not in asked_first])
            reading = await agreement.read_block(height, nodes, self._fetch, match, self.settings.network)
        else:  # no quorum verdict yet (or none healthy): whichever node the client picks
            try:
                answer: Block | BaseException = await self.source.block_at(height)
            except NotFound as err:
                answer = err
            reading = agreement.judge(height, {"(any node)": answer}, match, self.settings.network, several=False)
        self._record_reading(reading, stats if stats is not None else CycleStats())
        block = reading.block
        if block is not None:
            self._vetted = max(self._vetted, height)
            return block
        for node in reading.unserved:
            if self._claims.get(node, 0) >= height:
                self.heads.refuse(node, height)  # it reported the height, it has no block there
        if reading.versions and not any(v.eligible for v in reading.versions):
            reasons = "; ".join(sorted({v.reason for v in reading.versions}))
            raise ForgedBlockError(f"block {height}: {reasons}")
        if not reading.versions and not reading.unserved and reading.failed:
            raise NodeFailure("; ".join(f"{redact_url(n)}: {e}" for n, e in reading.failed)[:300])
        if reading.versions:
            reason = f"no two nodes serve the same block ({len(reading.versions)} version(s))"
        else:
            reason = "no healthy node has it"
        raise BlockUnavailable(height, reason, unserved=reading.unserved)

    async def _fetch(self, height: int, node: str) -> Block:
        probed = self._probed.pop((height, node), None)
        return probed if probed is not None else await self.source.block_at(height, node=node)

    def _record_reading(self, reading: agreement.Reading, stats: CycleStats) -> None:
        """Dissent alerts, and the verified transfers only a dissenting version holds (as
        ``unconfirmed``: really signed by their sender, not agreed on the chain), in one
        transaction."""
        if not reading.dissenters and not reading.extra:
            return
        now = self.clock()
        for node, what in reading.dissenters:
            log.warning("block %d from %s differs: %s", reading.height, redact_url(node), what)
        alerts = agreement.dissent_alerts(reading, network=self.network, now=now)
        ctx = self.context
        rows: list[TransferRow] = []
        for tx in reading.extra:
            stored = self.store.get_transfer(tx.identity)
            if stored is not None and stored.status is not TransferStatus.UNCONFIRMED:
                continue
            pending = replace(tx, height=None)
            if isinstance(pending, Transfer) and stored is None:
                rows.append(TransferRow.from_transfer(pending, TransferStatus.UNCONFIRMED, now))
            for make in (rules.outflow_alert, rules.inflow_alert):
                alert = make(pending, ctx, stage=Stage.UNCONFIRMED, confs=None, now=now)
                if alert is not None:
                    alerts.append(alert)
        with self._tx():
            for row in rows:
                self.store.upsert_transfer(row)
            self._queue(alerts, stats)

    def _commit_block(self, block: Block, head: int, stats: CycleStats) -> None:
        now = self.clock()
        # taint first: an account this block taints is watched (matched, stored) in this block
        taint = self.taint.on_block(block, head, now) if self.taint is not None else None
        matched = self.watch.matching(block.transactions)
        self.mosaics.learn(block.transactions, block.height)
        rows, alerts, activity = self._match(matched, head, now)
        with self._tx():
            self.store.record_block(BlockRow.from_block(block))
            for row in rows:
                self.store.upsert_transfer(row)
            for address, when in activity.items():
                self.store.set_last_activity(address, when)
            self._queue(alerts, stats)
            if taint is not None and self.taint is not None:
                self._queue(self.taint.write(taint), stats)
                if taint.event is not None:
                    self._pending.append(taint.event)
            self.store.set_cursor(CHAIN_CURSOR, block.height, block.hash)
        if taint is not None and taint.new_rows:
            self.watch_changed()  # auto-followed: backfilled, shown, balance-checked
        self.chain.add(block)
        self._chain_time = block.timestamp
        stats.blocks += 1
        stats.cursor = block.height
        self._emit(
            BlockProcessed(block.height, len(matched), len(block.transactions), block.timestamp, now, tuple(matched), tuple(rows))
        )

    def _match(
        self, matched: Sequence[Transaction], head: int, now: datetime
    ) -> tuple[list[TransferRow], list[Alert], dict[str, datetime]]:
        ctx = self.context
        rows: list[TransferRow] = []
        alerts: list[Alert] = []
        activity: dict[str, datetime] = {}
        for tx in matched:
            confs = rules.confirmations(tx.height, head)
            row, unknown = self._movement(tx, TransferStatus.CONFIRMED, now)
            rows.append(row)
            alerts += movement_alerts(row, ctx, stage=Stage.CONFIRMED, confs=confs, now=now, levy_unknown=unknown)
            if tx.sender in self.watch:
                account = self.store.account(tx.sender)
                previous = account.last_activity if account else None
                dormant = rules.dormant_alert(
                    tx, ctx, last_activity=previous, stage=Stage.CONFIRMED, confs=confs, now=now
                )
                if dormant is not None:
                    alerts.append(dormant)
                if previous is None or tx.timestamp > previous:
                    activity[tx.sender] = tx.timestamp
        return rows, alerts, activity

    def _movement(self, tx: Transaction, status: TransferStatus, now: datetime) -> tuple[TransferRow, tuple[str, ...]]:
        """The stored movement of ``tx`` (any kind) with the levies a watched sender pays, and
        the mosaics whose levy could not be priced (definition unknown)."""
        levies, unknown = levy_charges(tx, self.mosaics.lookup) if tx.sender in self.watch else ((), ())
        return movement_row(tx, status, now, network=self.settings.network, levies=levies), unknown

    async def _rollback(self, below: int, head: int, stats: CycleStats) -> int:
        """The chain was rewritten at or below ``below``: rewind, re-read, retract what vanished."""
        oldest_kept = min(self.chain.refs) if self.chain.refs else below
        try:
            fork = await find_ancestor(self.chain, self.read_block, below)
        except DeepRollbackError:
            log.error("rollback deeper than the rewrite limit: refusing to rewind, will retry")
            raise
        now = self.clock()
        voided = {row.identity: row for row in self.store.transfers_from(fork.ancestor + 1)}
        # read the new branch before touching the store, so a crash leaves the old state whole;
        # up to the head (a re-inclusion there is no retraction), bounded when far behind it
        upto = min(head, fork.old_tip + REWRITE_LIMIT)
        new_blocks = [await self.read_block(h) for h in range(fork.ancestor + 1, upto + 1)]
        seen: set[str] = set()
        for block in new_blocks:
            seen.update(tx.identity for tx in self.watch.matching(block.transactions))
        vanished = [identity for identity in voided if identity not in seen]
        retractions: list[Alert] = []
        for identity in vanished:
            retractions += rules.retraction_alerts(
                self.store.alerts_for_identity(identity), network=self.network, now=now
            )
        if fork.beyond_window and new_blocks:
            retractions.append(
                reorg.deep_fork_alert(
                    network=self.network, ancestor=fork.ancestor, old_tip=fork.old_tip, new_tip=upto,
                    oldest_kept=oldest_kept, exact=fork.exact, retracted=len(vanished),
                    first_new_signature=new_blocks[0].signature, now=now,
                )
            )
        with self._tx():
            self.store.rewind(fork.ancestor, CHAIN_CURSOR)
            if self.taint is not None:
                self.taint.rewind(fork.ancestor)
            self._queue(retractions, stats)
        self.chain.drop_above(fork.ancestor)
        for block in new_blocks:
            self._commit_block(block, head, stats)
        if self.taint is not None:  # a retracted hop un-taints: its alerts are retracted too
            with self._tx():
                self._queue(self.taint.rollback_done(now), stats)
        event = RollbackHandled(fork.ancestor, fork.old_tip, upto, tuple(vanished), now)
        stats.rollback = event
        self._emit(event)
        log.warning(
            "rollback: blocks above %d rewritten (old tip %d); %d watched transfer(s) vanished",
            fork.ancestor, fork.old_tip, len(vanished),
        )
        return upto

    # -- the unconfirmed pool, settling, expiry (core.tasks.pool, core.tasks.settle) -------

    async def _unconfirmed_pass(self, stats: CycleStats) -> None:
        await self.pool.run_pass(self, stats)

    def _settle_pass(self, head: int, stats: CycleStats) -> None:
        settle.settle_pass(self, head, stats)

    def _expire_unconfirmed(self, stats: CycleStats) -> None:
        settle.expire_unconfirmed(self, self._chain_time, stats)

    # -- backfill and balances (core.tasks.backfill, core.tasks.reconcile) -----------------

    async def _backfill_pass(self, head: int) -> None:
        await self.backfiller.run_pass(self, head)

    async def backfill(self, address: str, head: int) -> bool:
        """Page an address's history into the store (``core.tasks.backfill``); False when the
        node could not give it (it is tried again next pass)."""
        return await self.backfiller.backfill(self, address, head)

    async def _balance_pass(self, head: int, stats: CycleStats) -> None:
        """Reconcile a batch of balances (``core.tasks.reconcile``): XEM that left without a
        transfer we saw."""
        await self.reconciler.run_pass(self, head, stats)

    # -- alerts ---------------------------------------------------------------------------

    def _price(self, alert: Alert) -> Alert:
        if self.price is None or alert.amount is None:
            return alert
        return price_alert(alert, *self.price(alert.detected_at))

    def _queue(self, alerts: Sequence[Alert], stats: CycleStats, *, every_sink: bool = False) -> list[Alert]:
        """Store alerts (inside the caller's transaction) and queue them for every sink
        (below ``min_severity``: for none, unless ``every_sink``)."""
        if not alerts:
            return []
        # each inclusion of a transaction has its own alert ids (see core.reorg)
        priced = [self._price(a) for a in reorg.rekey(alerts, self.store.alerts_for_identity, network=self.network)]
        floor = self.settings.min_severity.rank if not every_sink else Severity.INFO.rank
        added = self.store.add_alerts([a for a in priced if a.severity.rank >= floor], self.settings.sinks)
        added += self.store.add_alerts([a for a in priced if a.severity.rank < floor], ())
        stats.alerts.extend(added)
        self._pending.extend(AlertRaised(alert) for alert in added)
        return added

    async def raise_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Queue alerts raised outside the chain loop (price rules, taint) in one transaction."""
        stats = CycleStats()
        with self._tx():
            return self._queue(alerts, stats)


async def tip_changed_at(chain: RecentChain, read: Callable[[int], Awaitable[Block]], height: int) -> bool:
    """Is the stored block at ``height`` still the node's block there?"""
    try:
        block = await read(height)
    except Exception:
        return False
    return block.signature != chain.refs[height].signature


__all__ = ["CHAIN_CURSOR", "ChainSource", "CycleStats", "Engine", "EngineSettings"]
