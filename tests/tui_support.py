"""A seeded store and a fake data source for dashboard tests (frozen clock, no network)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.models import Candle, MosaicAmount, Network, PriceTick
from nemwatch.core.price.store import PriceStore
from nemwatch.core.query import ReadModel
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store, TransferRow, TransferStatus
from nemwatch.core.watchset import WatchSet
from nemwatch.tui.sources import SourceStatus

NOW = datetime(2018, 1, 26, 3, 0, tzinfo=UTC)
HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
OTHER = "NDAOWUL2GIIBQHJDCMRMRRMBS2NZ3UHG6XLGJUBW"
HOSTILE = "[ @click=app.quit]CLICK[/] \x1b]8;;https://evil.example/\x07x\x1b]8;;\x07 [/evil] \u202eRLO"


def alert(n: int, severity: Severity, *, summary: str | None = None, address: str = HOT,
          minutes: int = 0) -> Alert:
    return Alert(
        alert_id=make_alert_id("mainnet", "outflow", f"tx{n}", Stage.CONFIRMED),
        rule="outflow",
        stage=Stage.CONFIRMED,
        severity=severity,
        detected_at=NOW - timedelta(hours=2) + timedelta(minutes=minutes or n),
        summary=summary or f"OUTFLOW {n} XEM from hot wallet",
        address=address,
        counterparty=THIEF,
        amount=n * 1_000_000,
        tx_hash=f"tx{n}",
    )


def transfer(n: int, *, sender: str = HOT, recipient: str = THIEF, message: str | None = None,
             xem: int = 0, minutes: int = 0) -> TransferRow:
    return TransferRow(
        identity=f"{n:064x}", hash=f"{n:064x}", inner_hash=None, height=1_000 + n, sender=sender, recipient=recipient,
        xem=xem or n * 1_000_000_000_000, fee=100_000, tx_time=NOW - timedelta(hours=3) + timedelta(minutes=minutes or n * 10),
        status=TransferStatus.CONFIRMED, first_seen=NOW, message=message, message_type="plain" if message else None,
        mosaics=(MosaicAmount("mizunashi", "coincheck_stolen_funds_do_not_accept_trades", 1),) if n == 3 else (),
    )


def seed(path: Path) -> tuple[Store, PriceStore, WatchSet]:
    store = Store.open(path / "nemwatch.sqlite3")
    prices = PriceStore(path / "nemwatch.sqlite3")
    watch = WatchSet()
    watch.add(HOT, WatchRule(label="Coincheck hot wallet", urgent=True))
    watch.add(THIEF, WatchRule(label="thief (NC4)"))
    watch.labels[THIEF] = ("thief (NC4)", "thief")
    for address, balance in ((HOT, 3_000_000), (THIEF, 523_000_000)):
        store.upsert_account(address, label=watch[address].label, urgent=watch[address].urgent, now=NOW)
        store.set_balance(address, balance * 1_000_000, 1_010)
    store.upsert_transfer(transfer(1, message="first test"))
    store.upsert_transfer(transfer(2, message=HOSTILE))
    store.upsert_transfer(transfer(3, message=f"see {OTHER}"))
    store.add_alerts(
        [alert(1, Severity.INFO), alert(2, Severity.WARNING), alert(3, Severity.CRITICAL, summary="OUTFLOW " + HOSTILE)],
        ["stdout"],
    )
    candles = [
        Candle("zaif", "xem_jpy", NOW - timedelta(hours=6) + timedelta(minutes=30 * i), 1800,
               Decimal(110), Decimal(112), Decimal(100), Decimal(110 - i), Decimal(1000))
        for i in range(10)
    ]
    prices.add_candles(candles)
    prices.add_coverage("zaif", "xem_jpy", "candles:1800", NOW - timedelta(hours=6), NOW - timedelta(hours=1))
    for i in range(12):
        prices.add_tick(PriceTick("zaif", "xem_jpy", Decimal(100) - Decimal(i) / 2, NOW - timedelta(minutes=55 - i * 5)))
    return store, prices, watch


@dataclass
class FakeSource:
    """A data source over a seeded store: runs until cancelled, counts the calls made to it."""

    read: ReadModel
    mode: str = "live"
    banner: str | None = None
    network: Network = Network.MAINNET
    polls: int = 0
    added: list[tuple[str, str | None]] = field(default_factory=list)
    tainted: list[str] = field(default_factory=list)
    labelled: list[tuple[str, str]] = field(default_factory=list)
    closed: bool = False
    events: list[object] = field(default_factory=list)

    def clock(self) -> datetime:
        return NOW

    async def run(self, emit) -> None:  # type: ignore[no-untyped-def]
        for event in self.events:
            emit(event)
        await asyncio.Event().wait()

    def poll_now(self) -> None:
        self.polls += 1

    def status(self) -> SourceStatus:
        return SourceStatus(self.mode, nodes_ok=2, nodes_total=3, head=1_234_567, last_poll=NOW - timedelta(seconds=4),
                            next_poll=NOW + timedelta(seconds=1))

    async def aclose(self) -> None:
        self.closed = True

    def add_watch(self, text: str, label: str | None) -> str:
        self.added.append((text, label))
        self.read.watch.add(text, WatchRule(label=label))
        return f"watching {text}"

    def mark_taint_source(self, address: str) -> str:
        self.tainted.append(address)
        self.read.taint_sources.append((address, None))
        return f"{address} marked"

    def set_label(self, address: str, name: str) -> str:
        self.labelled.append((address, name))
        return "labelled"


def fake_source(path: Path, **kw: object) -> FakeSource:
    store, prices, watch = seed(path)
    read = ReadModel(store, prices, watch=watch, taint_sources=[(THIEF, None)], clock=lambda: NOW)
    return FakeSource(read, **kw)  # type: ignore[arg-type]


def make_app(path: Path, **kw: object):  # type: ignore[no-untyped-def]
    from nemwatch.tui.app import NemwatchApp

    source_kw = {k: kw.pop(k) for k in ("banner", "mode", "events") if k in kw}
    source = fake_source(path, **source_kw)
    return NemwatchApp(source, tz=UTC, tick_seconds=0, export_dir=path / "exports", **kw)  # type: ignore[arg-type]


def plain(renderable: object, width: int = 160) -> str:
    """What a Rich renderable shows, as plain text."""
    from rich.console import Console

    console = Console(width=width, record=True, file=__import__("io").StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()
