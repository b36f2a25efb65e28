"""JPY values of XEM amounts, holdings and alerts (pure apart from the injected tick source).

An amount is micro-XEM (``int``) and a price is JPY per XEM (``Decimal``); a value is JPY
rounded half-even to 2 places. A price older than ``stale_after`` is not used: an alert then
carries ``amount_jpy`` and ``price_jpy`` as null rather than a wrong number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from nemwatch.core.alert import Alert
from nemwatch.core.models import MICRO_XEM, PriceTick

YEN = Decimal("0.01")


def value_jpy(micro_xem: int, price: Decimal) -> Decimal:
    """``micro_xem`` micro-XEM at ``price`` JPY per XEM, rounded to 2 places."""
    return (Decimal(micro_xem) * price / MICRO_XEM).quantize(YEN, rounding=ROUND_HALF_EVEN)


def price_alert(alert: Alert, price: Decimal | None, source: str | None) -> Alert:
    """The one place an alert is priced: ``amount_jpy``, ``price_jpy`` and ``price_source`` filled.

    Unchanged when there is no (fresh) price, when the alert moves no XEM amount, or when it
    carries a price already (price alerts do).
    """
    if price is None or alert.amount is None or alert.price_jpy is not None:
        return alert
    return dataclasses.replace(alert, amount_jpy=value_jpy(alert.amount, price), price_jpy=price, price_source=source)


def is_fresh(tick: PriceTick | None, now: datetime, stale_after: timedelta) -> bool:
    return tick is not None and now - tick.at <= stale_after


@dataclass(frozen=True, slots=True)
class HoldingsValue:
    """JPY value of several holdings (per address, per taint model, ...) at one price."""

    price: Decimal
    source: str
    at: datetime
    values: tuple[tuple[str, Decimal], ...]

    @property
    def total(self) -> Decimal:
        return sum((v for _, v in self.values), Decimal("0.00"))

    def as_dict(self) -> dict[str, Decimal]:
        return dict(self.values)


class Valuer:
    """The price for alerts and the value of holdings from the latest tick, refusing stale prices.

    ``latest`` returns the newest tick known (a ``PriceFeed``'s ``current``, a stored tick).
    """

    def __init__(self, latest: Callable[[], PriceTick | None], stale_after: timedelta) -> None:
        self.latest = latest
        self.stale_after = stale_after

    def fresh_tick(self, now: datetime) -> PriceTick | None:
        tick = self.latest()
        return tick if is_fresh(tick, now, self.stale_after) else None

    def price_for_alert(self, now: datetime) -> tuple[Decimal | None, str | None]:
        """(price, source) of a fresh price, or (None, None) when there is none."""
        tick = self.fresh_tick(now)
        return (tick.price, tick.source) if tick is not None else (None, None)

    def holdings(self, amounts: Mapping[str, int], now: datetime) -> HoldingsValue | None:
        """JPY value of each holding (micro-XEM by key), or None without a fresh price."""
        tick = self.fresh_tick(now)
        if tick is None:
            return None
        values = tuple((key, value_jpy(micro, tick.price)) for key, micro in amounts.items())
        return HoldingsValue(price=tick.price, source=tick.source, at=tick.at, values=values)
