"""``nemwatch vwap``: the volume-weighted average price over a window, from the stored data."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from nemwatch.commands.options import config_option, load, state_option
from nemwatch.core.price.store import PriceStore
from nemwatch.core.price.vwap import VwapResult
from nemwatch.core.price.window import window_vwap


def parse_when(text: str) -> datetime:
    """ISO 8601 (an offset or Z; none means UTC) or Unix seconds, as an aware UTC datetime."""
    value = text.strip()
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time (e.g. 2018-01-26T12:09+09:00) or Unix seconds") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def span_text(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    return (f"{days}d" if days else "") + f"{hours}h{mins:02d}m"


def result_dict(result: VwapResult, source: str, pair: str) -> dict[str, Any]:
    return {
        "pair": pair,
        "source": source,
        "from": iso(result.start),
        "to": iso(result.end),
        "basis": result.basis,
        "vwap": str(result.vwap) if result.vwap is not None else None,
        "vwap_rounded": str(result.vwap.quantize(Decimal("0.0001"))) if result.vwap is not None else None,
        "count": result.count,
        "volume": str(result.volume),
        "notional": str(result.notional),
        "complete": result.complete,
        "coverage_pct": str((result.coverage_ratio * 100).quantize(Decimal("0.01"))),
        "first_at": iso(result.first_at),
        "last_at": iso(result.last_at),
        "candle_seconds": result.candle_seconds,
        "candle_price": result.candle_price,
    }


def result_lines(result: VwapResult, source: str, pair: str) -> list[str]:
    base, quote = (pair.split("_", 1) + [""])[:2]
    base, quote = base.upper(), quote.upper()
    lines = [f"VWAP {base}/{quote} on {source}, {iso(result.start)} to {iso(result.end)} ({span_text(result.span)})"]
    if result.vwap is None:
        lines.append("  no volume in the window")
    else:
        lines.append(f"  {result.vwap.quantize(Decimal('0.0001'))} {quote} per {base}   (exact {result.vwap})")
    if result.basis == "trades":
        lines.append(f"  from trades: {result.count} trades, volume {result.volume} {base}, notional {result.notional} {quote}")
    else:
        lines.append(
            f"  from candles, not trades (an estimate): {result.count} candles of {result.candle_seconds} s"
            f" weighted by their {result.candle_price} price, volume {result.volume} {base}"
        )
    pct = (result.coverage_ratio * 100).quantize(Decimal("0.01"))
    if result.complete:
        what = "trades polled without gaps" if result.basis == "trades" else "candles fetched"
        lines.append(f"  coverage: full ({what} over the whole window)")
    else:
        lines.append(f"  coverage: PARTIAL, {pct}% of the window is known complete: the VWAP may be off")
    return lines


@click.command(name="vwap")
@click.option("--from", "start", required=True, help="Window start: ISO 8601 (2018-01-26T12:09+09:00) or Unix seconds.")
@click.option("--to", "end", required=True, help="Window end (excluded): ISO 8601 or Unix seconds.")
@click.option("--source", default="zaif", show_default=True, help="Price source whose stored data to use.")
@click.option("--pair", default="xem_jpy", show_default=True, help="Currency pair.")
@click.option(
    "--basis", type=click.Choice(["auto", "trades", "candles"]), default="auto", show_default=True,
    help="Use trades, candles, or trades when they cover the window and candles otherwise.",
)
@state_option
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def vwap(
    start: str, end: str, source: str, pair: str, basis: str, state_dir: Path | None, config_path: Path | None,
    as_json: bool,
) -> None:
    """Volume-weighted average price over [FROM, TO) from stored trades (or candles, said so).

    Sum(price x amount) / Sum(amount) in exact decimals, with the number of trades, the volume
    used and whether the stored data covers the whole window. Run `nemwatch price` to collect.
    """
    t0, t1 = parse_when(start), parse_when(end)
    if t1 <= t0:
        raise click.BadParameter("--to must be after --from")
    db = load(config_path, state_dir).db_path()
    if not db.exists():
        click.echo(f"no price database at {db}: run `nemwatch price` first", err=True)
        sys.exit(1)
    with PriceStore(db) as store:
        result = window_vwap(store, source, pair, t0, t1, basis)  # type: ignore[arg-type]
    if result is None:
        click.echo(f"no stored {pair} trades or candles from {source} in the window", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(result_dict(result, source, pair)))
    else:
        click.echo("\n".join(result_lines(result, source, pair)))
