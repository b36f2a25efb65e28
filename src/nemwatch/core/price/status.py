"""What the feed knows of its providers and its price: per-provider health and staleness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nemwatch.core.models import PriceTick
from nemwatch.core.price.base import Listing
from nemwatch.core.price.valuation import is_fresh


@dataclass
class ProviderState:
    name: str
    listing: Listing = Listing.UNKNOWN
    failures: int = 0
    rest_until: float = 0.0  # monotonic
    last_error: str | None = None
    last_ok: datetime | None = None

    def resting(self, now: float) -> bool:
        return now < self.rest_until


@dataclass(frozen=True, slots=True)
class FeedStatus:
    now: datetime
    tick: PriceTick | None
    stale_after: timedelta
    providers: tuple[ProviderState, ...]
    mono_now: float

    @property
    def age(self) -> timedelta | None:
        return None if self.tick is None else self.now - self.tick.at

    @property
    def stale(self) -> bool:
        return not is_fresh(self.tick, self.now, self.stale_after)

    @property
    def all_down(self) -> bool:
        usable = [p for p in self.providers if p.listing is not Listing.NOT_LISTED]
        return all(p.failures > 0 for p in usable)

    def to_json_dict(self) -> dict[str, Any]:
        tick = self.tick
        age = self.age
        return {
            "pair": tick.pair if tick else None,
            "price": str(tick.price) if tick else None,
            "source": tick.source if tick else None,
            "indicative": tick.indicative if tick else None,
            "at": tick.at.isoformat().replace("+00:00", "Z") if tick else None,
            "age_seconds": int(age.total_seconds()) if age is not None else None,
            "stale": self.stale,
            "all_down": self.all_down,
            "vwap_24h": str(tick.vwap_24h) if tick and tick.vwap_24h is not None else None,
            "providers": [
                {
                    "name": p.name,
                    "listing": p.listing.value,
                    "failures": p.failures,
                    "resting_seconds": max(0, int(p.rest_until - self.mono_now)),
                    "last_error": p.last_error,
                }
                for p in self.providers
            ],
        }
