"""The read model: what a face (the dashboard, an exporter) may ask of the stored state.

No face reaches into SQL tables: it asks here for filtered, keyset-paged alerts, the
transfers of an address or of everything watched, the watched accounts with balances,
labels and last movements, the taint sources, and the price history of a range. Every
answer is made of frozen objects; text in them is sanitized (it came from the chain or an
exchange and stays hostile: a face renders it as text, never as markup).

A store opened read-only (``--attach``) is read the same way; acknowledgements it cannot
write are kept in memory for the session.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Generic, TypeVar

from nemwatch.core.alert import Alert, Severity, Stage
from nemwatch.core.models import PriceTick
from nemwatch.core.price.store import PriceStore
from nemwatch.core.price.valuation import value_jpy
from nemwatch.core.price.window import window_vwap
from nemwatch.core.store import Store, TransferRow, TransferStatus
from nemwatch.core.store.reads import LastMove, StoredAlert, is_readonly_error, transfer_key
from nemwatch.core.watchset import WatchSet

if TYPE_CHECKING:
    from nemwatch.core.taint_query import LaunderingProgress, TaintedAccount

T = TypeVar("T")
Label = tuple[str, str]  # (name, kind)
_ADDRESS_IN_TEXT = re.compile(r"\b[NT][A-Z2-7]{5}(?:-?[A-Z2-7]{6}){5}-?[A-Z2-7]{4}\b")
CHAIN_CURSOR = "chain"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; pass ``next`` back to get the following one (None: the end)."""

    items: tuple[T, ...]
    next: object | None = None


@dataclass(frozen=True, slots=True)
class AlertFilter:
    rules: tuple[str, ...] = ()
    severities: tuple[Severity, ...] = ()
    stages: tuple[Stage, ...] = ()
    address: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlertEntry:
    alert: Alert
    created_at: datetime
    acknowledged: bool


@dataclass(frozen=True, slots=True)
class AlertCounts:
    by_severity: dict[str, int] = field(default_factory=dict)
    unread: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())

    @property
    def unread_total(self) -> int:
        return sum(self.unread.values())


@dataclass(frozen=True, slots=True)
class Movement:
    """A stored transfer with the labels of both sides and its message's warning flags."""

    transfer: TransferRow
    sender_label: str | None
    recipient_label: str | None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WatchedAccount:
    address: str
    label: str | None
    kind: str | None
    urgent: bool
    balance_micro: int | None
    balance_height: int | None
    value_jpy: Decimal | None
    last_move: LastMove | None
    taint_micro: int | None = None  # tainted XEM held, per the selected model; None until computed
    # The last balance a node reported (at balance_height). balance_micro is that plus the
    # confirmed transfers above balance_height once ReadModel.stream_balances ran, so that the
    # balance moves with every block as the taint beside it does, not only on balance reads.
    balance_read_micro: int | None = None


@dataclass(frozen=True, slots=True)
class TaintNode:
    """One account in a taint flow: a source (hop 0) or an account the funds reached."""

    address: str
    label: str | None
    hop: int
    source: str
    amount_micro: int | None = None  # under the selected model
    children: tuple[TaintNode, ...] = ()
    per_model_micro: tuple[int, ...] = ()  # every model's amount, ``MODELS`` order (empty: unknown)
    kind: str | None = None  # the label's kind: exchange, relay, service, victim, thief, ...
    tag_lag_blocks: int | None = None  # blocks between the hop and nemwatch marking the account
    markers: tuple[str, ...] = ()  # marker mosaics it received or holds


@dataclass(frozen=True, slots=True)
class PricePoint:
    at: datetime
    price: Decimal


@dataclass(frozen=True, slots=True)
class PriceSeries:
    start: datetime
    end: datetime
    points: tuple[PricePoint, ...]
    vwap: Decimal | None
    source: str | None
    alert_times: tuple[datetime, ...] = ()
    thresholds: tuple[Decimal, ...] = ()  # the price alert levels (above/below), JPY per XEM

    @property
    def last(self) -> PricePoint | None:
        return self.points[-1] if self.points else None

    @property
    def change_pct(self) -> Decimal | None:
        if len(self.points) < 2 or not self.points[0].price:
            return None
        first, last = self.points[0].price, self.points[-1].price
        return ((last - first) / first * 100).quantize(Decimal("0.1"))


def message_flags(text: str | None, sender: str, recipient: str) -> tuple[str, ...]:
    """Warnings about a (sanitized) message: it names an address other than either party."""
    if not text:
        return ()
    named = {m.group(0).replace("-", "") for m in _ADDRESS_IN_TEXT.finditer(text.upper())}
    if named - {sender, recipient}:
        return ("names another address",)
    return ()


def downsample(points: Sequence[PricePoint], max_points: int) -> tuple[PricePoint, ...]:
    """At most ``max_points``: the last point of each equal time bucket (the first kept)."""
    if len(points) <= max_points:
        return tuple(points)
    if max_points < 3:
        return (points[0], points[-1])[-max_points:] if max_points > 0 else ()
    start, end = points[0].at, points[-1].at
    span = (end - start) / (max_points - 2)  # buckets 0..max-2, plus the first point
    if span <= timedelta(0):
        return (points[-1],)
    buckets: dict[int, PricePoint] = {}
    for p in points:
        buckets[int((p.at - start) / span)] = p
    return (points[0], *[buckets[k] for k in sorted(buckets) if buckets[k] is not points[0]])


def with_balance_moves(
    accounts: Sequence[WatchedAccount], moved: dict[str, int], tick: PriceTick | None
) -> list[WatchedAccount]:
    """``accounts`` with ``moved`` (micro-XEM per address since the balance read) applied to
    the balance read, valued at ``tick`` (the value kept when there is no price). Applying it
    again gives the same: it starts from ``balance_read_micro``."""
    out = []
    for account in accounts:
        delta = moved.get(account.address, 0)
        read_micro = account.balance_read_micro if account.balance_read_micro is not None else account.balance_micro
        if account.balance_micro is None or (delta == 0 and read_micro == account.balance_micro):
            out.append(account)
            continue
        balance = max(0, read_micro + delta)  # type: ignore[operator]
        value = value_jpy(balance, tick.price) if tick is not None else account.value_jpy
        out.append(replace(account, balance_micro=balance, value_jpy=value, balance_read_micro=read_micro))
    return out


class ReadModel:
    """Read-only questions over the state database and the price store."""

    def __init__(
        self,
        store: Store,
        prices: PriceStore | None = None,
        *,
        watch: WatchSet | None = None,
        taint_sources: Sequence[tuple[str, str | None]] = (),
        pair: str = "xem_jpy",
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.prices = prices
        self.watch = watch if watch is not None else WatchSet()
        self.taint_sources = list(taint_sources)
        self.pair = pair
        self.clock = clock
        self._local_acks: set[str] = set()
        self.read_only = False
        self.taint_model = "fifo"  # the model whose amounts the watchlist shows
        self.price_thresholds: tuple[Decimal, ...] = ()  # drawn as lines on the price chart

    # -- labels ---------------------------------------------------------------------------

    def label_of(self, address: str) -> Label | None:
        rule = self.watch.rules.get(address)
        if rule is not None and rule.label:
            kind = self.watch.labels.get(address, (rule.label, "watched"))[1]
            return (rule.label, kind)
        return self.watch.labels.get(address)

    def _name(self, address: str) -> str | None:
        label = self.label_of(address)
        return label[0] if label else None

    # -- alerts ---------------------------------------------------------------------------

    def alerts(self, flt: AlertFilter = AlertFilter(), *, after: object | None = None, limit: int = 50) -> Page[AlertEntry]:
        rows = self.store.query_alerts(
            rules=flt.rules,
            severities=[s.value for s in flt.severities],
            stages=[s.value for s in flt.stages],
            address=flt.address,
            since=flt.since,
            until=flt.until,
            before=after if isinstance(after, tuple) else None,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        acked = self.store.acknowledged([r.alert.alert_id for r in rows]) | self._local_acks
        items = tuple(AlertEntry(r.alert, r.created_at, r.alert.alert_id in acked) for r in rows)
        return Page(items, rows[-1].key if more and rows else None)

    def alert(self, alert_id: str) -> AlertEntry | None:
        found = self.store.get_alert(alert_id)
        if found is None:
            return None
        acked = alert_id in self._local_acks or bool(self.store.acknowledged([alert_id]))
        return AlertEntry(found, found.detected_at, acked)

    def alert_counts(self) -> AlertCounts:
        unread = self.store.alert_severity_counts(unacked_only=True)
        if self._local_acks:
            for entry in self._stored(self._local_acks):
                sev = entry.alert.severity.value
                if unread.get(sev):
                    unread[sev] -= 1
        return AlertCounts(self.store.alert_severity_counts(), unread)

    def _stored(self, ids: set[str]) -> list[StoredAlert]:
        acked_in_store = self.store.acknowledged(list(ids))
        out = []
        for alert_id in ids - acked_in_store:
            found = self.store.get_alert(alert_id)
            if found is not None:
                out.append(StoredAlert(found, found.detected_at, 0))
        return out

    def acknowledge(self, alert_ids: Sequence[str]) -> int:
        """Acknowledge alerts; in a read-only store they are remembered for this session."""
        if not self.read_only:
            try:
                return self.store.acknowledge_alerts(alert_ids, self.clock())
            except Exception as err:
                if not is_readonly_error(err):
                    raise
                self.read_only = True
        before = len(self._local_acks)
        self._local_acks.update(alert_ids)
        return len(self._local_acks) - before

    def acknowledge_all(self) -> int:
        if not self.read_only:
            try:
                return self.store.acknowledge_all_alerts(self.clock())
            except Exception as err:
                if not is_readonly_error(err):
                    raise
                self.read_only = True
        ids = [r.alert.alert_id for r in self.store.query_alerts(limit=1_000_000)]
        return self.acknowledge(ids)

    # -- transfers ------------------------------------------------------------------------

    def _movement(self, row: TransferRow) -> Movement:
        return Movement(
            row, self._name(row.sender), self._name(row.recipient), message_flags(row.message, row.sender, row.recipient)
        )

    def transfers(self, address: str | None = None, *, after: object | None = None, limit: int = 50) -> Page[Movement]:
        """Transfers of ``address`` (every stored one when None), newest first."""
        rows = self.store.transfers_page(
            address=address, before=after if isinstance(after, tuple) else None, limit=limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(tuple(self._movement(r) for r in rows), transfer_key(rows[-1]) if more and rows else None)

    def movements(self, *, after: object | None = None, limit: int = 50) -> Page[Movement]:
        """The latest transfers touching watched or tainted accounts (the store keeps no others)."""
        return self.transfers(None, after=after, limit=limit)

    def transfer_count(self, address: str | None = None) -> int:
        return self.store.count_transfers(address)

    def transfer(self, identity: str) -> Movement | None:
        row = self.store.get_transfer(identity)
        return self._movement(row) if row is not None and row.status is not TransferStatus.RETRACTED else None

    # -- accounts -------------------------------------------------------------------------

    def watched(self, *, with_moves: bool = True, stream: bool = True) -> list[WatchedAccount]:
        """Every watched account (the watch set, and the store's list), with balance and value.

        ``with_moves=False`` leaves ``last_move`` None: finding every account's newest transfer
        is the costly part with thousands of accounts; a face showing a page of them asks
        ``last_moves`` for that page only. ``stream=False`` leaves the balances as last read
        from a node; a face showing a page asks ``stream_balances`` for that page."""
        stored = {row.address: row for row in self.store.accounts()}
        addresses = list(dict.fromkeys([*self.watch, *stored]))
        moves = self.store.last_moves(addresses) if with_moves else {}
        tick = self.latest_price()
        taint = self._taint_by_address()
        out = []
        for address in addresses:
            row = stored.get(address)
            rule = self.watch.rules.get(address)
            label = self.label_of(address)
            name = label[0] if label else (row.label if row else None)
            balance = row.balance if row else None
            out.append(
                WatchedAccount(
                    address=address,
                    label=name,
                    kind=label[1] if label else None,
                    urgent=rule.urgent if rule else bool(row and row.urgent),
                    balance_micro=balance,
                    balance_height=row.balance_height if row else None,
                    value_jpy=value_jpy(balance, tick.price) if balance is not None and tick is not None else None,
                    last_move=moves.get(address),
                    taint_micro=taint.get(address),
                    balance_read_micro=balance,
                )
            )
        return self.stream_balances(out) if stream else out

    def stream_balances(self, accounts: Sequence[WatchedAccount]) -> list[WatchedAccount]:
        """``accounts`` with the balance the stream gives now: the last balance read plus what
        the confirmed transfers above its height moved (sent: amount and fee; received: amount,
        as ``rules.explained_change`` counts them), and the value of that balance. Accounts
        without a balance read are returned as they are."""
        moved = self.balance_moves(accounts)
        return with_balance_moves(accounts, moved, self.latest_price() if moved else None)

    def balance_moves(self, accounts: Sequence[WatchedAccount], store: Store | None = None) -> dict[str, int]:
        """What moved each account's balance since it was read (``Store.balance_moves_since_read``)
        for the accounts with a balance read. ``store``: another connection to the same file (a
        face reading thousands of accounts in a thread of its own)."""
        read = [a.address for a in accounts if a.balance_micro is not None and a.balance_height is not None]
        return (store or self.store).balance_moves_since_read(read) if read else {}

    def generation(self) -> tuple[int, ...]:
        """Changes whenever the store or the price store changed, by this process
        (``total_changes``) or another one (``data_version``): a face may keep what it read
        while this stays the same."""
        marks: list[int] = []
        for conn in (self.store.connection, getattr(self.prices, "db", None)):
            if conn is not None:
                marks += [conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes]
        return tuple(marks)

    def last_moves(self, addresses: Sequence[str]) -> dict[str, LastMove]:
        """The newest transfer in or out of each of ``addresses`` (those that have one)."""
        return self.store.last_moves(list(addresses)) if addresses else {}

    def _taint_by_address(self) -> dict[str, int]:
        """Tainted micro-XEM per account under ``taint_model``, the sources' own holdings
        included (empty when nothing is tracked)."""
        from nemwatch.core.taint_query import TaintReads

        try:
            return TaintReads(self.store, self.label_of).held(self.taint_model)
        except sqlite3.Error:  # a store without the taint tables (an older, read-only one)
            return {}

    def taint_of(self, address: str) -> dict[str, int] | None:
        """What ``address`` holds of the taint per model (model name -> micro-XEM), a source's
        own holdings included; None when the taint never reached it."""
        from nemwatch.core.taint_query import TaintReads

        try:
            return TaintReads(self.store, self.label_of).per_model(address)
        except sqlite3.Error:
            return None

    def taint_flow_sources(self) -> tuple[TaintNode, ...]:
        """The configured taint sources alone (when no propagation can be read)."""
        return tuple(TaintNode(a, label or self._name(a), 0, a) for a, label in self.taint_sources)

    def taint_flow(self) -> tuple[TaintNode, ...]:
        """The taint sources as roots, each account the taint reached below the account that
        passed it on (from the taint watch's tables; a source alone until taint moves)."""
        from nemwatch.core.taint_query import TaintReads

        from nemwatch.core.taint.inputs import MODELS, Model

        reads = TaintReads(self.store, self.label_of)
        by_parent: dict[str, list[TaintedAccount]] = {}
        for a in reads.accounts():
            by_parent.setdefault(a.parent or a.source, []).append(a)
        roots = dict(self.taint_sources)
        for rows in by_parent.values():
            for r in rows:
                if r.source and r.source not in roots:
                    roots[r.source] = None
        seen: set[str] = set(roots)
        shown = Model(self.taint_model) if self.taint_model in {m.value for m in MODELS} else None

        def below(address: str) -> tuple[TaintNode, ...]:
            out = []
            for r in by_parent.get(address, ()):
                if r.address in seen:
                    continue
                seen.add(r.address)
                out.append(TaintNode(
                    r.address, r.label, r.hop, r.source, r.of(shown or r.model), below(r.address),
                    per_model_micro=r.tainted_micro, kind=r.kind, tag_lag_blocks=r.tag_lag_blocks, markers=r.markers,
                ))
            return tuple(out)

        holdings = reads.tables.source_holdings()
        index = MODELS.index(shown) if shown is not None else 0
        nodes = []
        for address, label in roots.items():
            amounts = holdings.get(address)
            named = self.label_of(address)
            nodes.append(TaintNode(
                address, label or (named[0] if named else None), 0, address,
                amounts[index] if amounts is not None else None, below(address),
                per_model_micro=tuple(amounts) if amounts is not None else (), kind=named[1] if named else None,
            ))
        return tuple(nodes)

    def tainted_accounts(self, model: str | None = None) -> list[TaintedAccount]:
        """Every tainted account: address, label, hop, source, per-model amounts, tag lag."""
        from nemwatch.core.taint_query import TaintReads

        return TaintReads(self.store, self.label_of).accounts(model)

    def laundering_progress(self) -> list[LaunderingProgress]:
        """Per model: tainted XEM still at rest vs gone (at exchanges, elsewhere), and in JPY."""
        from nemwatch.core.taint_query import TaintReads

        tick = self.latest_price()
        return TaintReads(self.store, self.label_of).progress(tick.price if tick is not None else None)

    # -- chain ----------------------------------------------------------------------------

    def chain_height(self) -> int | None:
        cursor = self.store.get_cursor(CHAIN_CURSOR)
        return cursor.height if cursor else None

    def last_block_time(self) -> datetime | None:
        blocks = self.store.recent_blocks(1)
        return blocks[-1].timestamp if blocks else None

    # -- prices ---------------------------------------------------------------------------

    def latest_price(self) -> PriceTick | None:
        return self.prices.latest_tick(self.pair) if self.prices is not None else None

    def price_history(self, start: datetime, end: datetime, *, max_points: int = 400) -> PriceSeries:
        """Prices in [start, end): stored candles' closes before the first tick, then ticks;
        the VWAP of the range from the best stored basis; the times of alerts in it."""
        if self.prices is None:
            return PriceSeries(start, end, (), None, None, thresholds=self.price_thresholds)
        ticks = self.prices.ticks(self.pair, start, end)
        latest = self.prices.latest_tick(self.pair)
        source = latest.source if latest else (ticks[-1].source if ticks else None)
        points = [PricePoint(t.at, t.price) for t in ticks]
        first_tick = points[0].at if points else end
        if source is not None:
            sizes = self.prices.candle_sizes(source, self.pair)
            span = end - start
            fitting = [s for s in sizes if span / timedelta(seconds=s) <= max_points * 4] or sizes[-1:]
            if fitting:
                candles = self.prices.candles(source, self.pair, fitting[0], start, first_tick)
                points = [
                    PricePoint(c.start + timedelta(seconds=c.seconds), c.close)
                    for c in candles
                    if c.start + timedelta(seconds=c.seconds) < first_tick
                ] + points
        vwap = None
        if source is not None:
            result = window_vwap(self.prices, source, self.pair, start, end)
            vwap = result.vwap if result is not None else None
        alert_times = tuple(
            sorted(
                r.alert.tx_time or r.created_at
                for r in self.store.query_alerts(since=start, until=end, limit=200)
                if r.alert.stage is not Stage.SETTLED
            )
        )
        return PriceSeries(
            start, end, downsample(points, max_points), vwap, source, alert_times, self.price_thresholds
        )


__all__ = [
    "AlertCounts",
    "AlertEntry",
    "AlertFilter",
    "Movement",
    "Page",
    "PricePoint",
    "PriceSeries",
    "ReadModel",
    "TaintNode",
    "WatchedAccount",
    "downsample",
    "message_flags",
]
