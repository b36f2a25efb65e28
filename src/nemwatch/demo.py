"""``nemwatch demo``: the 2018 theft replayed on the local simulator, watched by the real engine.

No network is needed: the simulator serves a NIS1 node (and the price API) on 127.0.0.1, the
engine follows it through the same client and store as in production, and each alert is printed
as it is raised. Simulated time is driven step by step, so the run is deterministic: one block
per engine cycle around every scheduled transaction (from its announcement through its 20
confirmations), paced by ``speed`` simulated seconds per real second; through the quiet
stretches between them, up to an hour of blocks per engine cycle, unpaced (``demo_pace``). The
engine still reads and commits every block, and no time stamp is shifted. ``--until end`` plays
the whole chase, through the last exchange arrival.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from nemwatch.core.alert import Alert, Severity, Stage
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.models import Network, format_xem
from nemwatch.core.nem.client import NisClient
from nemwatch.core.price.feed import PriceFeed
from nemwatch.core.price.monitor import PriceMonitor
from nemwatch.core.price.rules import PriceRule, PriceRules
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.taint.picture import ModelPicture
from nemwatch.core.taintwatch import TaintSettings, TaintWatch
from nemwatch.core.watchset import WatchSet
from nemwatch.demo_pace import MAX_JUMP_BLOCKS, Pace, chase_end
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.plan import compile_scenario
from nemwatch.sim.scenario import Role, Scenario
from nemwatch.sim.scenario_toml import load_scenario

JST = timedelta(hours=9)
DEFAULT_FROM = datetime(2018, 1, 25, 23, 55, tzinfo=UTC) - JST  # JST wall times, as UTC
DEFAULT_UNTIL = datetime(2018, 1, 26, 12, 30, tzinfo=UTC) - JST
DETECTED_2018 = datetime(2018, 1, 26, 11, 25, tzinfo=UTC) - JST  # when Coincheck noticed
# Coincheck's compensation: the VWAP of Zaif XEM/JPY from the trading halt to its release
COMPENSATION = (datetime(2018, 1, 26, 12, 9, tzinfo=UTC) - JST, datetime(2018, 1, 27, 23, 0, tzinfo=UTC) - JST)
PUBLISHED_VWAP = Decimal("88.549")

_LABEL_KINDS = {
    Role.HOT_WALLET: "victim",
    Role.THIEF: "thief",
    Role.SECOND_HOP: "thief",
    Role.INTERMEDIATE: "relay",
    Role.RELAY: "relay",
    Role.EXCHANGE: "exchange",
    Role.BYSTANDER: "bystander",
    Role.TAGGER: "service",
}


def jst(when: datetime) -> str:
    return (when.astimezone(UTC) + JST).strftime("%Y-%m-%d %H:%M:%S JST")


PRICE_EVERY = 5  # blocks between price polls (while single blocks pass; after each jump otherwise)
PRICE_POLL = timedelta(minutes=PRICE_EVERY)
PRICE_LINE = timedelta(hours=1)  # the text output shows the price once an hour
QUIET_NOTE = timedelta(hours=2)  # the text output names quiet stretches at least this long
# Rate limits count simulated seconds, and a cycle's requests all go out at one simulated
# instant: a jump's blocks (plus the head and pool polls) must fit in one burst, or the client
# would wait in real time for simulated time that does not pass. The simulator is local.
SIM_BURST = MAX_JUMP_BLOCKS + 10
SIM_ZAIF_LIMIT = (8.0, 10.0)  # (per second, burst): one price poll's calls at one instant
PRICE_RULES = (
    PriceRule("move_pct", Decimal(10), 360),  # a 10% move within six hours
    PriceRule("below", Decimal(100)),
)


@dataclass
class DemoReport:
    alerts: list[Alert] = field(default_factory=list)
    blocks: int = 0
    cycles: int = 0  # engine cycles: one per block around transactions, one per jump elsewhere
    first_outflow: Alert | None = None
    prices: list[tuple[datetime, Decimal, str]] = field(default_factory=list)
    compensation_vwap: Decimal | None = None  # the simulated tape's VWAP over COMPENSATION
    taint: tuple[ModelPicture, ...] = ()  # where the tainted XEM is at the end, per model

    @property
    def outflow_xem(self) -> int:
        return sum(
            a.amount or 0
            for a in self.alerts
            if a.rule == "outflow" and a.stage is Stage.CONFIRMED and a.label == "Coincheck hot wallet"
        )


def _watchset(sim: SimCluster, scenario: Scenario) -> WatchSet:
    ws = WatchSet()
    for spec in scenario.accounts:
        kind = _LABEL_KINDS.get(spec.role)
        if kind is not None:
            ws.labels[sim.address(spec.label)] = (spec.label, kind)
    ws.add(sim.address("coincheck-hot-wallet"), WatchRule(label="Coincheck hot wallet", urgent=True))
    ws.add(sim.address("thief-nc4"), WatchRule(label="thief (NC4)", critical_xem=1_000_000 * 1_000_000))
    return ws


def demo_taint(sim: SimCluster, scenario: Scenario) -> TaintWatch:
    """The thief as taint source (victim: the hot wallet), exchanges as labelled, 2018 markers."""
    from nemwatch.config.accounts import KNOWN_MARKERS
    from nemwatch.core.taint.inputs import TaintSource
    from nemwatch.core.taint.markers import marker_set

    since = datetime(2018, 1, 26, 0, 2, 13, tzinfo=UTC) - JST
    thief = TaintSource(sim.address("thief-nc4"), since, "thief (NC4)", sim.address("coincheck-hot-wallet"))
    exchanges = frozenset(sim.address(s.label) for s in scenario.accounts if s.role is Role.EXCHANGE)
    return TaintWatch(TaintSettings(sources=(thief,), markers=marker_set(KNOWN_MARKERS), exchanges=exchanges))


def taint_lines(pictures: Sequence[ModelPicture]) -> list[str]:
    """The taint picture per model: tainted XEM at rest, at exchanges, gone elsewhere, burned."""
    if not pictures or not any(p.seeded_micro for p in pictures):
        return []

    def xem(micro: int) -> str:
        return f"{micro // 1_000_000:,}"

    lines = ["Taint picture (XEM; fifo drives the alerts; the bounds bracket every model):",
             f"  {'model':<12}{'seeded':>16}{'at rest':>16}{'at exchanges':>16}{'elsewhere':>14}{'burned':>10}{'accounts':>10}"]
    for p in pictures:
        lines.append(
            f"  {p.model.value:<12}{xem(p.seeded_micro + p.absorbed_micro):>16}{xem(p.at_rest_micro):>16}"
            f"{xem(p.at_exchanges_micro):>16}{xem(p.left_other_micro):>14}{xem(p.burned_micro):>10}{p.accounts:>10}"
        )
    return lines


def _quiet_line(now: datetime, until: datetime, blocks: int) -> str:
    hours = (until - now).total_seconds() / 3600
    return (
        f"{jst(now)}  ...    nothing scheduled for {hours:.1f} h (until {jst(until)}): "
        f"following up to {blocks} blocks per engine cycle\n"
    )


def _line(alert: Alert) -> str:
    sev = {Severity.CRITICAL: "CRIT", Severity.WARNING: "WARN", Severity.INFO: "info"}[alert.severity]
    when = alert.tx_time or alert.detected_at
    jpy = f"  (~{alert.amount_jpy:,.0f} JPY)" if alert.amount_jpy is not None else ""
    message = f'  message: "{alert.message}"' if alert.message else ""
    return f"{jst(when)}  {sev}  {alert.summary}{jpy}{message}"


async def play(
    *,
    out: TextIO,
    speed: float,
    start: datetime = DEFAULT_FROM,
    until: datetime = DEFAULT_UNTIL,
    as_json: bool = False,
    state_dir: Path | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> DemoReport:
    scenario = load_scenario("coincheck-2018")
    clock = ManualClock(max(start, scenario.start))
    report = DemoReport()
    with SimCluster.start(scenario, nodes=1, clock=clock, market=True) as sim, tempfile.TemporaryDirectory() as tmp:
        state = state_dir or Path(tmp)
        monitor = _price_monitor(sim, clock)
        client = NisClient(
            sim.urls, Network.MAINNET, max_rps_per_node=20, burst=SIM_BURST, clock=lambda: clock.now().timestamp()
        )
        engine = Engine(
            source=client,
            store=Store.open(state / "nemwatch.sqlite3", synchronous="NORMAL"),
            watch=_watchset(sim, scenario),
            settings=EngineSettings(
                backfill_per_cycle=0, balance_checks_per_cycle=0, unconfirmed_poll_seconds=0, sinks=()
            ),
            clock=clock.now,
            price=monitor.feed.price_for_alert if monitor else None,
            taint=demo_taint(sim, scenario),
        )
        try:
            if monitor is not None:
                await monitor.start()
            if not as_json:
                out.write(
                    f"nemwatch demo: {scenario.name} on a local simulator ({sim.urls[0]}), "
                    f"{jst(clock.now())} to {jst(until)}\n"
                    f"watching: Coincheck hot wallet {sim.address('coincheck-hot-wallet')} (urgent), "
                    f"thief {sim.address('thief-nc4')}\n\n"
                )
                out.flush()
            await engine.cycle()
            step = float(scenario.block_interval)
            pace = Pace.for_scenario(sim.compiled)
            polled: datetime | None = None
            shown: datetime | None = None
            quiet: datetime | None = None  # the end of the quiet stretch announced last
            while clock.now() < until:
                began = time.monotonic()
                move = pace.step(clock.now(), until)
                if move.jump and quiet is None:
                    quiet = min(pace.quiet_until(clock.now()) or until, until)
                    if not as_json and quiet - clock.now() >= QUIET_NOTE:
                        out.write(_quiet_line(clock.now(), quiet, pace.max_blocks))
                elif not move.jump:
                    quiet = None
                clock.advance(step * move.blocks)
                report.cycles += 1
                now = clock.now()
                raised: list[Alert] = []
                if monitor is not None and (polled is None or now - polled >= PRICE_POLL):
                    polled = now
                    cycle = await monitor.poll()
                    if cycle.tick is not None:
                        report.prices.append((cycle.now, cycle.tick.price, cycle.tick.source))
                        if not as_json and (shown is None or now - shown >= PRICE_LINE):
                            shown = now
                            out.write(f"{jst(cycle.now)}  price  XEM/JPY {cycle.tick.price:.3f} ({cycle.tick.source})\n")
                    raised += await engine.raise_alerts(list(cycle.alerts))
                stats = await engine.cycle()
                report.blocks += stats.blocks
                for alert in raised + stats.alerts:
                    report.alerts.append(alert)
                    if alert.rule == "outflow" and report.first_outflow is None:
                        report.first_outflow = alert
                    if as_json:
                        out.write(alert.to_json_line() + "\n")
                    elif alert.stage is not Stage.SETTLED:  # settling is summed up at the end
                        out.write(_line(alert) + "\n")
                out.flush()
                if speed > 0 and not move.jump:  # quiet stretches pass as fast as they can
                    pause = step / speed - (time.monotonic() - began)
                    if pause > 0:
                        sleep(pause)
            if engine.taint is not None:
                report.taint = engine.taint.picture()
            if not as_json and sim.market_server is not None:
                report.compensation_vwap = sim.market_server.market.vwap(*COMPENSATION)
        finally:
            await client.aclose()
            if monitor is not None:
                await monitor.feed.aclose()
            engine.store.close()
    if not as_json:
        out.write(_summary(report))
        out.flush()
    return report


def _price_monitor(sim: SimCluster, clock: ManualClock) -> PriceMonitor | None:
    """The Zaif-compatible price API of the simulator, on the simulated clock."""
    if sim.market_url is None:
        return None
    feed = PriceFeed.build(
        ["zaif"],
        urls={"zaif": sim.market_url, "zaif_chart": sim.market_url},
        clock=clock.now,
        monotonic=lambda: clock.now().timestamp(),
        stale_after=timedelta(minutes=15),
        rate_limits={"zaif": SIM_ZAIF_LIMIT},
    )
    return PriceMonitor(feed, PriceRules(list(PRICE_RULES), stale_after=feed.stale_after), history=timedelta(hours=2))


def _summary(report: DemoReport) -> str:
    settled = sum(1 for a in report.alerts if a.stage is Stage.SETTLED)
    lines = [
        "",
        f"{report.blocks} blocks followed, {len(report.alerts)} alerts "
        f"({settled} of them 'settled': 20 confirmations, not shown above).",
    ]
    total = report.outflow_xem
    if total:
        whole = format_xem(total).split(".")[0]
        lines.append(f"Hot wallet outflows alerted: {int(whole):,} XEM.")
    if report.prices:
        (t0, p0, _), (t1, p1, src) = report.prices[0], report.prices[-1]
        change = (p1 - p0) / p0 * 100
        lines.append(f"XEM/JPY ({src}): {p0:.3f} at {jst(t0)}, {p1:.3f} at {jst(t1)} ({change:+.1f}%).")
    first = report.first_outflow
    if first is not None and first.tx_time is not None:
        lead = DETECTED_2018 - first.detected_at
        hours = lead.total_seconds() / 3600
        lines.append(
            f"First alert at {jst(first.detected_at)} ({first.stage.value}); in 2018 the theft was "
            f"noticed at {jst(DETECTED_2018)}, {hours:.1f} hours later."
        )
    lines += market_note(report.compensation_vwap)
    lines += taint_lines(report.taint)
    return "\n".join(lines) + "\n"


def market_note(vwap: Decimal | None) -> list[str]:
    """How close the simulated market's compensation VWAP is to the real one, and why it differs."""
    if vwap is None:
        return []
    off = (vwap - PUBLISHED_VWAP) / PUBLISHED_VWAP * 100
    return [
        "The market is Zaif's real XEM/JPY of 2018 (30-minute candles); its trades are drawn inside each candle.",
        f"VWAP over the compensation window ({jst(COMPENSATION[0])} to {jst(COMPENSATION[1])}) on this tape: "
        f"{vwap:.3f} JPY; Coincheck paid {PUBLISHED_VWAP} ({off:+.2f}%). It cannot be exact: the candles carry "
        "no volume, so trade sizes are synthetic (scaled by each candle's range).",
    ]


def run(speed: float, until: datetime | None, as_json: bool) -> int:
    asyncio.run(play(out=sys.stdout, speed=speed, until=until or DEFAULT_UNTIL, as_json=as_json))
    return 0


END = "end"  # --until end: through the last exchange arrival of the chase, settled


def parse_until(text: str) -> datetime:
    """A JST wall time (or one with an offset), or ``end``: the end of the chase."""
    if text.strip().lower() == END:
        return chase_end(compile_scenario(load_scenario("coincheck-2018")))
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC) - JST  # a bare time is JST, like the 2018 timeline
    return when.astimezone(UTC)


__all__ = ["DemoReport", "parse_until", "play", "run"]
