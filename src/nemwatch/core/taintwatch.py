"""The taint models wired into the engine: auto-follow, taint alerts, the picture faces read.

The engine calls four small hooks (see ``Engine``): ``bind`` once (restore from the store),
``on_block`` before a block's transfers are matched (so an account the block taints is watched
in that same block), ``write`` inside the block's store transaction, and ``rewind`` /
``rollback_done`` around a rollback. Everything else here is pure bookkeeping over
``core.taint`` (the models), ``core.taint_rules`` (the alerts) and ``core.store.taint`` (the
tables).

Which transactions the tracker sees: every one of a block whose sender is tainted (or a source)
or whose recipient is tainted, a source or a victim, not only the watch set's matches; an
account tainted earlier in the same block counts, so a chain of hops inside one block is
followed hop by hop. Those movements are stored (``taint_movements``): a restart replays them to
rebuild the tracker exactly, and the exporter reads them.

Auto-follow: an account the taint reaches above the thresholds (under any model) joins the
watch set at once, with its source, hop and model, and is backfilled by the engine; its
outflows alert as ``taint_move`` (not as ``outflow``). The tag lag is the chain head at marking
minus the block that carried the hop: 0 while the engine keeps up with the chain.

Between blocks (``on_cycle``, ``on_history``, ``on_balance``; ``core.taint_followup``): marker
mosaics held, opening balances and the conservation check against the node's balances, and
exchanges and relays inferred from history.
"""

from __future__ import annotations

import logging
from itertools import takewhile
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nemwatch.core import taint_rules as tr
from nemwatch.core.alert import Alert
from nemwatch.core.events import TaintChanged
from nemwatch.core.models import Block, Transaction, Transfer
from nemwatch.core.price.valuation import value_jpy
from nemwatch.core.rules import RuleContext, WatchRule, confirmations, retraction_alerts
from nemwatch.core.store.taint import InferredRow, TaintedAccountRow, TaintTables, TotalsRow
from nemwatch.core.taint.exchanges import CentralWalletThresholds, RelayThresholds
from nemwatch.core.taint.adapt import movement_of
from nemwatch.core.taint.inputs import MODELS, Model, Movement, TaintSource, Thresholds
from nemwatch.core.taint.ledger import P
from nemwatch.core.taint.markers import MarkedAccounts, marker_set, markers_received
from nemwatch.core.taint.messages import FlagKind, flag_transfer
from nemwatch.core.taint.picture import ExchangeTally, ModelPicture, picture
from nemwatch.core.taint.tracker import TaintTracker
from nemwatch.core.taint.view import AccountTaint, TransferTaint
from nemwatch.core.taint_followup import TaintFollowUp

if TYPE_CHECKING:
    from nemwatch.core.engine import Engine

log = logging.getLogger("nemwatch.taint")

SILENT_OUTFLOW = 9_000_000_000 * 1_000_000  # above the XEM supply: a followed account's outflows alert as taint_move
DEFAULT_WAKEUP_DAYS = 7


@dataclass(frozen=True, slots=True)
class TaintSettings:
    """What ``[taint]`` says, in core terms. ``exchanges``: labelled exchanges (taint stops
    there and is counted at exchanges); ``follow``: auto-follow tainted accounts."""

    sources: tuple[TaintSource, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    model: Model = Model.FIFO
    markers: frozenset[str] = frozenset()
    wakeup_days: int = DEFAULT_WAKEUP_DAYS
    exchanges: frozenset[str] = frozenset()
    follow: bool = True
    marker_checks_per_cycle: int = 2  # /account/mosaic/owned requests per engine cycle
    reviews_per_cycle: int = 5  # accounts whose stored history is checked for exchange/relay patterns
    central_wallet: CentralWalletThresholds = field(default_factory=CentralWalletThresholds)
    relay: RelayThresholds = field(default_factory=RelayThresholds)

    @property
    def tracker_thresholds(self) -> Thresholds:
        return replace(self.thresholds, ignore=self.thresholds.ignore | self.exchanges)

    @classmethod
    def of(cls, cfg: Any, *, exchanges: Iterable[str] = ()) -> TaintSettings:
        """From the config's ``[taint]`` (``nemwatch.config.accounts.TaintConfig``)."""
        from nemwatch.core.taint.adapt import sources_of, thresholds_of

        return cls(
            sources=sources_of(cfg), thresholds=thresholds_of(cfg), model=Model(cfg.model),
            markers=marker_set(cfg.markers), wakeup_days=getattr(cfg, "wakeup_days", DEFAULT_WAKEUP_DAYS),
            exchanges=frozenset(exchanges),
        )


@dataclass
class TaintStep:
    """What one block changed, written by ``TaintWatch.write`` inside the block's transaction."""

    height: int
    movements: list[Movement] = field(default_factory=list)
    new_rows: list[TaintedAccountRow] = field(default_factory=list)
    amounts: dict[str, tuple[tuple[int, ...], int]] = field(default_factory=dict)  # address -> (per model, hop)
    marks: list[tuple[str, str, str | None, int | None]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    totals: list[TotalsRow] = field(default_factory=list)
    moves: int = 0
    at: datetime | None = None

    @property
    def event(self) -> TaintChanged | None:
        """The event faces get once the block is committed (None: the picture did not change)."""
        if not (self.moves or self.new_rows) or self.at is None:
            return None
        return TaintChanged(self.height, tuple(r.address for r in self.new_rows), self.moves, False, self.at)


class TaintWatch:
    """The live taint state of one engine; ``engine.taint``."""

    def __init__(self, settings: TaintSettings) -> None:
        self.settings = settings
        self.tracker = TaintTracker((), settings.tracker_thresholds)
        self.marked = MarkedAccounts()
        self._engine: Engine | None = None
        self._tables: TaintTables | None = None
        self._interest: set[str] = set()
        self._followed: set[str] = set()  # addresses this watch added to the watch set
        self._rewound: int | None = None
        self._undone: set[str] = set()
        self._sources: dict[str, TaintSource] = {}
        self._tally = ExchangeTally()  # at exchanges, read incrementally block after block
        self.inferred: dict[str, InferredRow] = {}  # exchanges and relays inferred from history
        self.followup = TaintFollowUp(self)

    # -- wiring ---------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("TaintWatch is not bound to an engine")
        return self._engine

    @property
    def tables(self) -> TaintTables:
        if self._tables is None:
            raise RuntimeError("TaintWatch is not bound to an engine")
        return self._tables

    def bind(self, engine: Engine) -> None:
        """Restore from the store: rebuild the tracker, watch the followed accounts again."""
        self._engine = engine
        self._tables = TaintTables(engine.store)
        self.marked = MarkedAccounts(frozenset(self.tables.marks()))
        self.inferred = {r.address: r for r in self.tables.inferred()}
        self.settings = self._with_inferred(self.settings)
        for address, row in self.inferred.items():
            engine.watch.labels.setdefault(address, (f"inferred {row.kind}", row.kind))
        self.followup.bind()
        self._rebuild()
        self._watch_all()
        if not engine.store.read_only and self.tables.has_v3:  # a store from before v3 learns them now
            with engine.store.transaction():
                self._write_source_holdings()

    def _with_inferred(self, settings: TaintSettings) -> TaintSettings:
        """``settings`` with the inferred exchanges added to the exchanges (taint stops there)."""
        extra = {a for a, r in self.inferred.items() if r.kind == "exchange"}
        return replace(settings, exchanges=settings.exchanges | extra) if extra else settings

    def _rebuild(self) -> None:
        """The tracker from the stored movements (and sources added at run time, at their height)."""
        self.tracker, self._sources = rebuild(self.settings, self.tables)
        self._refresh_interest()

    def _add_to_tracker(self, tracker: TaintTracker, source: TaintSource) -> None:
        if source.address not in self._sources:
            self._sources[source.address] = source
            tracker.add_source(source)

    def _refresh_interest(self) -> None:
        led = self.tracker.ledger
        hops = led.hop[P]
        self._interest = {led.addrs[i] for i in range(len(hops)) if hops[i] >= 0}
        for s in self._sources.values():
            self._interest.add(s.address)
            if s.victim:
                self._interest.add(s.victim)

    def _watch_all(self) -> None:
        watch = self.engine.watch
        for src in self._sources.values():
            watch.labels.setdefault(src.address, (src.label or "taint source", "thief"))
            if self.settings.follow and src.address not in watch:
                watch.add(src.address, WatchRule(label=src.label or "taint source", alert_outflow_micro=SILENT_OUTFLOW))
                self._followed.add(src.address)
        if not self.settings.follow:
            return
        for row in self.tables.accounts():
            if row.followed and row.address not in watch:
                watch.add(row.address, self._rule(row))
                self._followed.add(row.address)

    def _rule(self, row: TaintedAccountRow) -> WatchRule:
        known = self.engine.watch.labels.get(row.address)
        label = None if known else f"tainted, hop {row.hop} ({row.model.value})"
        return WatchRule(label=label, alert_outflow_micro=SILENT_OUTFLOW)

    def reload(self, settings: TaintSettings) -> None:
        """A reloaded config (SIGHUP): new settings; the tracker is rebuilt when what it folds
        with changed; followed accounts and sources are watched again."""
        old, self.settings = self.settings, self._with_inferred(settings)
        settings = self.settings
        if old.sources != settings.sources or old.tracker_thresholds != settings.tracker_thresholds:
            self._rebuild()
        self._watch_all()

    # -- reading --------------------------------------------------------------------------

    @property
    def model(self) -> Model:
        return self.settings.model

    def account(self, address: str) -> AccountTaint | None:
        return self.tracker.account(address)

    def accounts(self, model: Model | None = None) -> list[AccountTaint]:
        return self.tracker.accounts(model)

    def transfers(self) -> list[TransferTaint]:
        return self.tracker.transfers()

    def picture(self) -> tuple[ModelPicture, ...]:
        return picture(self.tracker, self.settings.exchanges, self._tally)

    @property
    def sources(self) -> tuple[TaintSource, ...]:
        return tuple(self._sources.values())

    @property
    def sources_by_address(self) -> dict[str, TaintSource]:
        return self._sources

    def tracked(self) -> set[str]:
        """Every account some model tracks (the sources once active included)."""
        led = self.tracker.ledger
        hops = led.hop[P]
        return {led.addrs[i] for i in range(len(hops)) if hops[i] >= 0}

    # -- between blocks (core.taint_followup) ---------------------------------------------

    async def on_cycle(self, head: int, stats: Any) -> None:
        """Once per engine cycle, after the balance pass: marker mosaics held, inferred exchanges."""
        await self.followup.on_cycle(head, stats)

    def on_history(self, address: str, history: list[Transaction], complete: bool) -> None:
        """The engine backfilled ``address`` (``complete``: its whole history)."""
        self.followup.on_history(address, history, complete)

    def on_balance(self, address: str, micro: int, height: int, now: datetime) -> list[Alert]:
        """The engine's balance pass read ``micro`` at ``height``; conservation alerts."""
        return self.followup.on_balance(address, micro, height, now)

    # -- run-time sources ------------------------------------------------------------------

    def add_source(
        self, address: str, label: str = "", *, since: datetime | None = None, victim: str | None = None,
    ) -> str:
        """Mark ``address`` a taint source from now on (or ``since``); persisted, watched."""
        if address in self._sources:
            return f"{address} is already a taint source"
        engine = self.engine
        when = since or engine._chain_time or engine.clock()
        source = TaintSource(address, when, label or "taint source", victim)
        cursor = engine.store.get_cursor("chain")
        with engine.store.transaction():
            self.tables.add_source(source, height=cursor.height if cursor else 0, now=engine.clock())
        self._add_to_tracker(self.tracker, source)
        self._refresh_interest()
        engine.watch.labels[address] = (source.label, "thief")
        self._watch_all()
        engine.watch_changed()
        return f"{address} marked as a taint source (kept across restarts)"

    # -- the block hook -------------------------------------------------------------------

    def on_block(self, block: Block, head: int, now: datetime) -> TaintStep | None:
        """Fold ``block`` in; new tainted accounts join the watch set now. None: nothing to do."""
        step = TaintStep(block.height, at=now)
        ctx = self.engine.context
        kept: list[tuple[Movement, Transaction]] = []
        hot: set[str] = set()
        interest = self._interest
        mvs = [movement_of(tx, i, block.height) for i, tx in enumerate(block.transactions)]
        for mv in mvs:
            if mv.recipient and (mv.sender in interest or mv.sender in hot):
                hot.add(mv.recipient)
        # every movement of an account this block makes interesting, also those before its
        # hop: the tracker then sees all of it from this block on (its opening balance is
        # learnt as of the block's start, core.taint_followup)
        for mv, tx in zip(mvs, block.transactions, strict=True):
            if mv.sender in interest or mv.sender in hot or (mv.recipient and (mv.recipient in interest or mv.recipient in hot)):
                kept.append((mv, tx))
        by_id = {mv.identity: tx for mv, tx in kept}
        confs = confirmations(block.height, head)
        value = self._valuer(now)
        if kept:
            changes = self.tracker.apply_block(block.height, [mv for mv, _ in kept], at=block.timestamp)
            step.movements = [mv for mv, _ in kept]
            self._new_accounts(changes.new_accounts, block, head, now, step)
            self.followup.joined(r.address for r in step.new_rows)
            ctx = self.engine.context  # the watch set may have grown
            for move in changes.moves:
                tx = by_id.get(move.movement.identity)
                if tx is not None:
                    step.alerts += self._move_alerts(tx, move, ctx, confs, now, value)
            step.moves = len(changes.moves)
            for row in step.new_rows:
                tx = by_id[row.identity] if row.identity in by_id else None
                if tx is not None:
                    facts = self._facts(row.address, tx, tag_lag=(row.tag_lag_blocks, int((now - block.timestamp).total_seconds())))
                    step.alerts.append(tr.new_account_alert(tx, row.address, facts, ctx, followed=row.followed,
                                                            confs=confs, now=now, value=value))
            touched = {a for mv in step.movements for a in (mv.sender, mv.recipient) if a}
            for address in touched:
                acc = self.tracker.account(address)
                if acc is not None:
                    step.amounts[address] = (tuple(acc.tainted_micro(m) for m in MODELS), _hop(acc))
            for v in self.tracker.check_conservation():
                step.alerts.append(tr.conservation_alert(v, ctx, height=block.height, drive=self.model, now=now))
            step.totals = self._totals(block.height)
        self._scan(block, ctx, confs, now, value, step)
        if not (step.movements or step.alerts or step.marks):
            return None
        return step

    def _new_accounts(self, news: Iterable[Any], block: Block, head: int, now: datetime, step: TaintStep) -> None:
        firsts: dict[str, Any] = {}
        for n in news:
            have = firsts.get(n.address)
            if have is None or (n.model is self.model and have.model is not self.model):
                firsts[n.address] = n
        watch = self.engine.watch
        for address, n in firsts.items():
            if n.movement is None or address in self._sources:
                continue
            self._interest.add(address)
            acc = self.tracker.account(address)
            mt = acc.of(n.model) if acc else None
            source = min(mt.sources) if mt and mt.sources else ""
            row = TaintedAccountRow(
                address, source, n.movement.sender, n.hop, n.model, n.movement.identity, n.movement.height,
                max(block.height, head), n.movement.timestamp, now, self.settings.follow,
                tuple(acc.tainted_micro(m) for m in MODELS) if acc else (0,) * len(MODELS),
            )
            step.new_rows.append(row)
            if self.settings.follow and address not in watch:
                watch.add(address, self._rule(row))
                self._followed.add(address)

    def _facts(self, address: str, tx: Transaction, *, tainted: tuple[int, ...] | None = None,
               left: frozenset[Model] = frozenset(), seeded: bool = False,
               tag_lag: tuple[int, int] | None = None) -> tr.TaintFacts:
        acc = self.tracker.account(address)
        mt = acc.of(self.model) if acc else None
        if mt is None and acc is not None:
            mt = next((x for x in acc.models if x is not None), None)
        amounts = tainted if tainted is not None else tuple(acc.tainted_micro(m) for m in MODELS) if acc else (0,) * len(MODELS)
        return tr.TaintFacts(
            self.model, amounts, hop=mt.hop if mt else None, source=min(mt.sources) if mt and mt.sources else None,
            left=left, seeded=seeded, tag_lag_blocks=tag_lag[0] if tag_lag else None,
            tag_lag_seconds=tag_lag[1] if tag_lag else None,
        )

    def _move_facts(self, tx: Transaction, move: TransferTaint) -> tr.TaintFacts:
        mv = move.movement
        facts = self._facts(mv.sender if not move.seeded else mv.recipient, tx, tainted=move.tainted_micro,
                            left=move.left, seeded=move.seeded)
        if not move.seeded and facts.hop is not None:
            facts = replace(facts, hop=facts.hop + 1)  # the hop this transfer makes
        return facts

    def _facts_of(self, address: str) -> tr.TaintFacts | None:
        """The taint facts of a tracked ``address`` (None: not tracked)."""
        acc = self.tracker.account(address)
        if acc is None:
            return None
        mt = acc.of(self.model) or next((x for x in acc.models if x is not None), None)
        return tr.TaintFacts(
            self.model, tuple(acc.tainted_micro(m) for m in MODELS), hop=mt.hop if mt else None,
            source=min(mt.sources) if mt and mt.sources else None,
        )

    def _move_alerts(self, tx: Transaction, move: TransferTaint, ctx: RuleContext, confs: int, now: datetime,
                     value: tr.Valuer | None) -> list[Alert]:
        mv = move.movement
        facts = self._move_facts(tx, move)
        out: list[Alert] = []
        if isinstance(tx, Transfer) and tx.recipient in self.settings.exchanges:
            report = flag_transfer(tx, self.engine.settings.network)
            tag = report.deposit_tag if report is not None else None
            inferred = self.inferred.get(tx.recipient)
            out.append(tr.exchange_alert(tx, facts, ctx, deposit_tag=tag, confs=confs, now=now, value=value,
                                         inferred=inferred.evidence if inferred is not None else None))
        else:
            out.append(tr.move_alert(tx, facts, ctx, confs=confs, now=now, value=value,
                                     min_micro=self.settings.thresholds.min_micro))
        wake = self._quiet_days(mv)
        if wake is not None and not move.seeded and any(move.tainted_micro):
            out.append(tr.wakeup_alert(tx, facts, ctx, quiet_days=wake, confs=confs, now=now, value=value))
        return out

    def _quiet_days(self, mv: Movement) -> int | None:
        """Days ``mv.sender`` was quiet (no outgoing transfer, and tainted all along) when at
        least ``wakeup_days``; None otherwise."""
        acc = self.tracker.account(mv.sender)
        if acc is None:
            return None
        firsts = [x.first_time for x in acc.models if x is not None and x.first_height < mv.height]
        if not firsts:
            return None
        quiet_since = min(firsts)
        last = self.tables.last_outgoing(mv.sender, mv.height)
        stored = self.engine.store.account(mv.sender)
        for t in (last, stored.last_activity if stored else None):
            if t is not None and t < mv.timestamp and t > quiet_since:
                quiet_since = t
        days = (mv.timestamp - quiet_since).days
        return days if days >= self.settings.wakeup_days else None

    def _scan(self, block: Block, ctx: RuleContext, confs: int, now: datetime, value: tr.Valuer | None,
              step: TaintStep) -> None:
        """Marker mosaics received and flagged messages on transfers touching tainted or watched accounts."""
        markers = self.settings.markers
        exchange_alerted = {a.tx_hash for a in step.alerts if a.rule == tr.TAINT_EXCHANGE}
        for tx in block.transfers:
            if markers and tx.mosaics:
                self.marked, new = self.marked.observe(markers_received(tx, markers))
                for s in new:
                    step.marks.append((s.address, s.mosaic_id, s.identity, s.height))
                    facts = self._facts(s.address, tx) if self.tracker.account(s.address) else None
                    step.alerts.append(tr.marker_alert(tx, s, ctx, facts=facts, confs=confs, now=now, value=value))
            if tx.message is None:
                continue
            tainted = tx.sender in self._interest or tx.recipient in self._interest
            if not (tainted or tx.sender in ctx.watch or tx.recipient in ctx.watch):
                continue
            report = flag_transfer(tx, self.engine.settings.network)
            if report is None or not report.flags:
                continue
            if report.kinds == {FlagKind.DEPOSIT_TAG} and (tx.hash in exchange_alerted or not tainted):
                continue
            facts = self._facts(tx.sender, tx) if self.tracker.account(tx.sender) else None
            step.alerts.append(tr.message_alert(tx, report, ctx, facts=facts, confs=confs, now=now, value=value))

    def _valuer(self, now: datetime) -> tr.Valuer | None:
        lookup = self.engine.price
        if lookup is None:
            return None
        price, _ = lookup(now)
        if price is None:
            return None
        return lambda micro: value_jpy(micro, price)

    def _totals(self, height: int) -> list[TotalsRow]:
        return [
            TotalsRow(p.model, p.seeded_micro + p.absorbed_micro, p.at_rest_micro, p.at_exchanges_micro,
                      p.left_other_micro, p.burned_micro, p.accounts, height)
            for p in self.picture()
        ]

    # -- inside the block's transaction -----------------------------------------------------

    def write(self, step: TaintStep) -> list[Alert]:
        """Persist ``step`` (inside the engine's store transaction); returns its alerts."""
        t = self.tables
        store = self.engine.store
        t.add_movements(step.movements)
        for row in step.new_rows:
            t.upsert_account(row)
            if row.followed and store.account(row.address) is None:
                rule = self.engine.watch.get(row.address)
                store.upsert_account(row.address, label=rule.label if rule else None, urgent=False, now=row.marked_at)
        for address, (amounts, hop) in step.amounts.items():
            if address in self._sources:
                t.set_source_holdings(address, amounts, step.height)
            t.set_amounts(address, amounts, hop)
        for mark in step.marks:
            t.add_mark(*mark)
        t.set_totals(step.totals)
        return step.alerts

    # -- rollbacks ------------------------------------------------------------------------

    def rewind(self, ancestor: int) -> None:
        """The chain above ``ancestor`` was rewritten (inside the engine's rewind transaction):
        the tracker forgets those blocks; ``rollback_done`` settles what stays un-tainted."""
        if ancestor < self.tracker.height:
            undone = None
            try:
                undone = self.tracker.rollback(ancestor + 1)
            except ValueError:
                log.warning("taint: fork below the tracker's checkpoints; rebuilding from the store")
            if undone is not None:
                self._undone |= {m.movement.identity for m in undone.moves}
                self._ensure_sources()
        self.tables.rewind(ancestor)
        if self.tracker.height > ancestor:
            self._rebuild()
        self._rewound = ancestor if self._rewound is None else min(self._rewound, ancestor)
        self.marked = MarkedAccounts(frozenset(self.tables.marks()))
        self._refresh_interest()

    def _ensure_sources(self) -> None:
        """After the tracker went back to a checkpoint: one older than a run-time source lacks it."""
        led = self.tracker.ledger
        for src in self._sources.values():
            if led.ids.get(src.address) not in led.sources:
                self.tracker.add_source(src)

    def _resync(self, now: datetime, event: TaintChanged | None = None) -> list[str]:
        """After the tracker was folded again (rollback, opening balance, inferred exchange):
        stop following the accounts it no longer tracks, store every row's amounts and the
        totals (inside the caller's transaction). Returns the accounts no longer followed."""
        self._refresh_interest()
        tracked = self._interest
        gone = [a for a in self._followed if a not in tracked and a not in self._sources]
        for address in gone:
            self.engine.watch.remove(address)
            self._followed.discard(address)
        self.tables.remove_accounts(gone)
        for row in self.tables.accounts():
            acc = self.tracker.account(row.address)
            if acc is None:
                self.tables.remove_accounts([row.address])
            else:
                self.tables.set_amounts(row.address, tuple(acc.tainted_micro(m) for m in MODELS), _hop(acc))
        self._write_source_holdings()
        self.tables.set_totals(self._totals(self.tracker.height))
        if gone:
            self.engine.watch_changed()
        self.engine._pending.append(event or TaintChanged(self.tracker.height, (), 0, False, now))
        return gone

    def _write_source_holdings(self) -> None:
        """Every source's own tainted holdings per model, as the tracker has them now."""
        for address in self._sources:
            acc = self.tracker.account(address)
            amounts = tuple(acc.tainted_micro(m) if acc is not None else 0 for m in MODELS)
            self.tables.set_source_holdings(address, amounts, self.tracker.height)

    def rollback_done(self, now: datetime) -> list[Alert]:
        """After the new branch was followed: retract the taint alerts of hops it no longer
        carries, stop following accounts it no longer taints. Returns the retractions."""
        if self._rewound is None:
            return []
        ancestor, self._rewound = self._rewound, None
        led = self.tracker.ledger
        live = {mv.identity for mv in takewhile(lambda m: m.height > ancestor, reversed(led.rec_mv))}
        out: list[Alert] = []
        store, network = self.engine.store, self.engine.network
        for identity in sorted(self._undone - live):
            previous = [a for a in store.alerts_for_identity(identity) if a.rule in tr.TAINT_TX_RULES]
            out += retraction_alerts(previous, network=network, now=now)
        self._undone = set()
        self._resync(now, TaintChanged(ancestor + 1, (), 0, True, now))
        return out


def rebuild(settings: TaintSettings, tables: TaintTables) -> tuple[TaintTracker, dict[str, TaintSource]]:
    """A tracker folded over the stored movements, with the config's sources and those added at
    run time (each from the block after the one it was added at); and every source by address."""
    sources = {s.address: s for s in settings.sources}
    tracker = TaintTracker(settings.sources, settings.tracker_thresholds)
    runtime = list(tables.runtime_sources())

    def add(source: TaintSource) -> None:
        if source.address not in sources:
            sources[source.address] = source
            tracker.add_source(source)

    openings: dict[int, dict[str, int]] = {}
    for o in tables.openings():
        openings.setdefault(o.height, {})[o.address] = o.micro
    by_height: dict[int, list[Movement]] = {}
    for mv in tables.movements():
        by_height.setdefault(mv.height, []).append(mv)
    for height in sorted(by_height):
        while runtime and runtime[0].added_height < height:
            add(runtime.pop(0).source)
        mvs = by_height[height]
        tracker.apply_block(height, mvs, at=max(m.timestamp for m in mvs), balances_micro=openings.get(height))
    for rest in runtime:
        add(rest.source)
    return tracker, sources


def _hop(acc: AccountTaint) -> int:
    return min(x.hop for x in acc.models if x is not None)


def exchanges_of(labels: Collection[tuple[str, str]]) -> frozenset[str]:
    """Addresses whose label kind is ``exchange`` from (address, kind) pairs."""
    return frozenset(a for a, kind in labels if kind == "exchange")


__all__ = ["DEFAULT_WAKEUP_DAYS", "TaintSettings", "TaintStep", "TaintWatch", "exchanges_of", "rebuild"]
