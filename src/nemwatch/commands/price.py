"""``nemwatch price``: fetch the XEM/JPY price, store it, print it with its source and age.

At start it checks which providers still list the pair and fills the last day of candles
(so a chart is never empty); then each poll fetches the latest price (in fallback order),
the recent trades (de-duplicated, stored), prunes beyond the retention, and prints the price,
its source and age, and the 24 h VWAP computed from the stored data.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from nemwatch import paths
from nemwatch.commands.vwap import iso, result_dict
from nemwatch.core.models import PriceTick
from nemwatch.core.price.base import Listing
from nemwatch.core.price.feed import FeedStatus, HistoryFill, PriceFeed, TradePoll
from nemwatch.core.price.store import PriceStore, Retention
from nemwatch.core.price.vwap import VwapResult
from nemwatch.core.price.window import window_vwap

HISTORY_SIZES = (300, 1800, 14400)  # candle sizes tried in turn to fill the chart


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


def _listing_lines(listings: dict[str, Listing], feed: PriceFeed) -> list[str]:
    lines = []
    for name, listing in listings.items():
        if listing is Listing.NOT_LISTED:
            lines.append(f"{name}: does not list {feed.pair}, skipped")
        elif listing is Listing.UNKNOWN:
            lines.append(f"{name}: listing check failed ({feed.state[name].last_error}), will retry")
    return lines


async def _fill(feed: PriceFeed, now: datetime, hours: int) -> HistoryFill:
    fill = HistoryFill(None, 0)
    for seconds in HISTORY_SIZES:
        fill = await feed.fill_history(seconds, now - timedelta(hours=hours), now)
        if fill.source is not None:
            break
    return fill


def _vwap_24h(feed: PriceFeed, store: PriceStore, poll: TradePoll, now: datetime) -> VwapResult | None:
    sources = [s for s in (poll.source, feed.current.source if feed.current else None) if s]
    sources += [p.name for p in feed.providers]
    for source in dict.fromkeys(sources):
        result = window_vwap(store, source, feed.pair, now - timedelta(hours=24), now)
        if result is not None:
            return result
    return None


async def run(cfg: Any, db: Path, *, once: bool, as_json: bool, history_hours: int) -> int:
    store = PriceStore(db)
    try:
        feed = PriceFeed.from_config(cfg.price, store=store)
        async with feed:
            listings = await feed.check_listings()
            for line in _listing_lines(listings, feed):
                click.echo(line, err=True)
            fill = await _fill(feed, feed.clock(), history_hours)
            if not as_json:
                if fill.source:
                    click.echo(f"history: {len(fill.candles)} candles of {fill.seconds} s from {fill.source}")
                else:
                    click.echo("history: no provider gave candles", err=True)
            days = int(getattr(cfg.price, "retention_days", 400))
            retention = Retention(ticks=timedelta(days=days), trades=timedelta(days=days), candles=timedelta(days=days))
            while True:
                tick = await feed.latest()
                poll = await feed.poll_trades()
                now = feed.clock()
                store.prune(now, retention)
                status = feed.status(now)
                result = _vwap_24h(feed, store, poll, now)
                if as_json:
                    data = status.to_json_dict()
                    data["vwap_24h_stored"] = result_dict(result, result_source(result, poll, feed), feed.pair) if result else None
                    data["trades_new"] = poll.new
                    data["history"] = {"source": fill.source, "seconds": fill.seconds, "candles": len(fill.candles)}
                    click.echo(json.dumps(data))
                else:
                    click.echo(price_line(status))
                    click.echo("  " + vwap_line(result, status.tick))
                if tick is None:
                    for name, st in feed.state.items():
                        if st.last_error:
                            click.echo(f"  {name}: {st.last_error}", err=True)
                if once:
                    return 0 if tick is not None else 1
                await asyncio.sleep(float(cfg.price.poll_seconds))
    finally:
        store.close()


def result_source(result: VwapResult, poll: TradePoll, feed: PriceFeed) -> str:
    """The source a stored VWAP came from (the trades' poll source, else the current tick's)."""
    if result.basis == "trades" and poll.source:
        return poll.source
    return feed.current.source if feed.current is not None else (poll.source or "")


@click.command(name="price")
@click.option("--config", "config", type=click.Path(path_type=Path, dir_okay=False), help="Config file.")
@click.option("--state", "state", type=click.Path(path_type=Path, file_okay=False), help="State directory (holds the database).")
@click.option("--once", is_flag=True, help="Fetch and print once, then exit (status 1 when no price).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per poll (price, source, age, staleness).")
@click.option("--history-hours", default=24, show_default=True, type=click.IntRange(1, 24 * 90), help="Candle history to fill at start.")
def price(config: Path | None, state: Path | None, once: bool, as_json: bool, history_hours: int) -> None:
    """Fetch the XEM/JPY price (fallback order from the config), store it, and print it with its
    source, age and the 24 h VWAP; fills the candle history first. Ctrl-C stops it."""
    from nemwatch.config import load_config_or_exit

    cfg = load_config_or_exit(config)
    if not cfg.price.sources:
        click.echo("price is off: [price] sources is empty", err=True)
        sys.exit(1)
    db = paths.default_db_path(paths.state_dir(state)) if state is not None else cfg.db_path()
    try:
        code = asyncio.run(run(cfg, db, once=once, as_json=as_json, history_hours=history_hours))
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)
