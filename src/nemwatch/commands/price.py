"""``nemwatch price``: fetch the XEM/JPY price, store it, print it with its source and age.

At start it checks which providers still list the pair and fills the last day of candles
(so a chart is never empty); then each poll fetches the latest price (in fallback order) and
the recent trades (de-duplicated, stored), prunes beyond the retention, and prints the price,
its source and age, the 24 h VWAP computed from the stored data, and any price alert.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from nemwatch.commands.options import config_option, load, state_option
from nemwatch.commands.vwap import iso, result_dict
from nemwatch.core.models import PriceTick
from nemwatch.core.price.base import Listing
from nemwatch.core.price.monitor import PriceCycle, PriceMonitor, StartReport
from nemwatch.core.price.status import FeedStatus
from nemwatch.core.price.store import PriceStore
from nemwatch.core.price.valuation import HoldingsValue, Valuer
from nemwatch.core.price.vwap import VwapResult


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "age ?"
    if seconds < 120:
        return f"age {seconds}s"
    if seconds < 7200:
        return f"age {seconds // 60}m"
    return f"age {seconds // 3600}h"


def price_line(status: FeedStatus) -> str:
    tick = status.tick
    if tick is None:
        return "XEM/JPY: no price yet"
    base, quote = tick.pair.upper().split("_", 1)
    age = status.age
    flags = ["STALE" if status.stale else "fresh"]
    if tick.indicative:
        flags.append("indicative")
    if status.all_down:
        flags.append("every provider down")
    seconds = int(age.total_seconds()) if age is not None else None
    return f"{base}/{quote} {tick.price} {quote}  {tick.source}  {iso(tick.at)}  {_age(seconds)}  {', '.join(flags)}"


def vwap_line(result: VwapResult | None, tick: PriceTick | None) -> str:
    parts = []
    if result is not None and result.vwap is not None:
        cover = "full" if result.complete else f"{(result.coverage_ratio * 100).quantize(Decimal('0.1'))}% covered"
        what = f"{result.count} trades" if result.basis == "trades" else f"{result.count} candles"
        parts.append(f"24h VWAP {result.vwap.quantize(Decimal('0.0001'))} from {what} ({cover})")
    else:
        parts.append("24h VWAP: no stored volume yet")
    if tick is not None and tick.vwap_24h is not None:
        parts.append(f"{tick.source} ticker 24h vwap {tick.vwap_24h}")
    return "; ".join(parts)


def start_lines(report: StartReport, monitor: PriceMonitor) -> list[str]:
    lines = []
    for name, listing in report.listings.items():
        if listing is Listing.NOT_LISTED:
            lines.append(f"{name}: does not list {monitor.feed.pair}, skipped")
        elif listing is Listing.UNKNOWN:
            lines.append(f"{name}: listing check failed ({monitor.feed.state[name].last_error}), will retry")
    return lines


def cycle_json(cycle: PriceCycle, report: StartReport, pair: str) -> dict[str, Any]:
    data = cycle.status.to_json_dict()
    vwap = cycle.vwap_24h
    data["vwap_24h_stored"] = result_dict(vwap, vwap.source or "", pair) if vwap is not None else None
    data["trades_new"] = cycle.trades.new
    history = report.history
    data["history"] = {"source": history.source, "seconds": history.seconds, "candles": len(history.candles)}
    data["alerts"] = [a.to_json_dict() for a in cycle.alerts]
    return data


def watched_balances(cfg: Any, db: Path) -> dict[str, int]:
    """The last balance the watcher read for each watched address (micro-XEM), if any."""
    from nemwatch.core.store import Store

    watched = {w.address for w in cfg.watches}
    store = Store.open(db)
    try:
        return {row.address: row.balance for row in store.accounts() if row.address in watched and row.balance is not None}
    finally:
        store.close()


def holdings_lines(cfg: Any, value: HoldingsValue | None, balances: dict[str, int]) -> list[str]:
    if not balances:
        return []
    if value is None:
        return ["holdings: no fresh price to value them"]
    labels = {w.address: w.label for w in cfg.watches}
    lines = [f"holdings at {value.price} JPY ({value.source}):"]
    for address, jpy in value.values:
        xem = Decimal(balances[address]) / 1_000_000
        lines.append(f"  {labels.get(address) or address}  {address}  {xem:,.6f} XEM  ~{jpy:,.2f} JPY")
    lines.append(f"  total ~{value.total:,.2f} JPY")
    return lines


async def run(cfg: Any, db: Path, *, once: bool, as_json: bool, history_hours: int) -> int:
    with PriceStore(db) as store:
        monitor = PriceMonitor.from_config(cfg.price, network=cfg.network.name, store=store)
        monitor.history = timedelta(hours=history_hours)
        async with monitor.feed as feed:
            report = await monitor.start()
            for line in start_lines(report, monitor):
                click.echo(line, err=True)
            if not as_json:
                fill = report.history
                if fill.source:
                    click.echo(f"history: {len(fill.candles)} candles of {fill.seconds} s from {fill.source}")
                else:
                    click.echo("history: no provider gave candles", err=True)
            while True:
                cycle = await monitor.poll()
                balances = watched_balances(cfg, db)
                valuer = Valuer(lambda: feed.current, feed.stale_after)
                value = valuer.holdings(balances, cycle.now)
                if as_json:
                    data = cycle_json(cycle, report, feed.pair)
                    data["holdings_jpy"] = (
                        {k: str(v) for k, v in value.values} | {"total": str(value.total)} if value else None
                    )
                    click.echo(json.dumps(data))
                else:
                    click.echo(price_line(cycle.status))
                    click.echo("  " + vwap_line(cycle.vwap_24h, cycle.status.tick))
                    for alert in cycle.alerts:
                        click.echo(f"  alert {alert.rule} {alert.stage.value}: {alert.summary}")
                    for line in holdings_lines(cfg, value, balances):
                        click.echo(line)
                if cycle.tick is None:
                    for name, st in feed.state.items():
                        if st.last_error:
                            click.echo(f"  {name}: {st.last_error}", err=True)
                if once:
                    return 0 if cycle.tick is not None else 1
                await asyncio.sleep(float(cfg.price.poll_seconds))


@click.command(name="price")
@config_option
@state_option
@click.option("--once", is_flag=True, help="Fetch and print once, then exit (status 1 when no price).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per poll (price, source, age, staleness).")
@click.option("--history-hours", default=24, show_default=True, type=click.IntRange(1, 24 * 90), help="Candle history to fill at start.")
def price(config_path: Path | None, state_dir: Path | None, once: bool, as_json: bool, history_hours: int) -> None:
    """Fetch the XEM/JPY price (fallback order from the config), store it, and print it with its
    source, age and the 24 h VWAP; fills the candle history first. Ctrl-C stops it."""
    cfg = load(config_path, state_dir)
    if not cfg.price.sources:
        click.echo("price is off: [price] sources is empty", err=True)
        sys.exit(1)
    try:
        code = asyncio.run(run(cfg, cfg.db_path(), once=once, as_json=as_json, history_hours=history_hours))
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)
