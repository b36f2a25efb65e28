"""The price sources nemwatch knows: names, default URLs, rate limits, and building providers.

Every source gets its own token bucket and ``RateLimitedHttp`` over one shared
``httpx.AsyncClient``; the synthetic source's two Zaif legs share Zaif's bucket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

import httpx

from nemwatch.core.price.base import PriceProvider
from nemwatch.core.price.http import HttpPolicy, RateLimitedHttp
from nemwatch.core.price.providers import coincheck, coingecko, gmo, zaif
from nemwatch.core.price.providers.coincheck import CoincheckProvider
from nemwatch.core.price.providers.coingecko import CoinGeckoProvider
from nemwatch.core.price.providers.common import base_quote, utc_now
from nemwatch.core.price.providers.gmo import GmoProvider
from nemwatch.core.price.providers.synthetic import SyntheticProvider
from nemwatch.core.price.providers.zaif import ZaifProvider
from nemwatch.core.tokenbucket import TokenBucket

SOURCES = ("zaif", "gmo", "coincheck", "coingecko", "synthetic")
DEFAULT_SOURCES = SOURCES
# (tokens per second, bucket size): Zaif allows at most 10 calls in any second (2 + 8);
# CoinGecko without a key about one a minute
RATE_LIMITS: dict[str, tuple[float, float]] = {
    "zaif": (8.0, 2.0),
    "gmo": (2.0, 1.0),
    "coincheck": (1 / 1.5, 1.0),
    "coingecko": (1 / 60, 1.0),
    "coingecko_demo": (0.5, 1.0),
}
# site roots, overridable per key as in [price.urls]
DEFAULT_URLS: dict[str, str] = {
    "zaif": zaif.API_URL,
    "zaif_chart": zaif.CHART_URL,
    "gmo": gmo.API_URL,
    "coincheck": coincheck.API_URL,
    "coingecko": coingecko.API_URL,
}
URL_KEYS = tuple(DEFAULT_URLS)

Clock = Callable[[], datetime]
Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def check_names(sources: Sequence[str], urls: Mapping[str, str | None] | None) -> dict[str, str]:
    """Validate source names and URL keys; return the effective URLs."""
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise ValueError(f"unknown price sources {unknown}; known: {', '.join(SOURCES)}")
    overrides = {k: v for k, v in (urls or {}).items() if v}
    bad_keys = sorted(set(overrides) - set(URL_KEYS))
    if bad_keys:
        raise ValueError(f"unknown price url keys {bad_keys}; known: {', '.join(URL_KEYS)}")
    return DEFAULT_URLS | overrides


def build_providers(
    sources: Sequence[str],
    client: httpx.AsyncClient,
    *,
    pair: str = "xem_jpy",
    urls: Mapping[str, str | None] | None = None,
    coingecko_demo_key: str | None = None,
    clock: Clock = utc_now,
    monotonic: Monotonic,
    sleep: Sleep = asyncio.sleep,
    rate_limits: Mapping[str, tuple[float, float]] | None = None,
    http_policy: HttpPolicy = HttpPolicy(),
) -> list[PriceProvider]:
    """The providers for ``sources``, in that order."""
    base = check_names(sources, urls)
    limits = RATE_LIMITS | dict(rate_limits or {})
    https: dict[str, RateLimitedHttp] = {}

    def http(name: str, limit_key: str | None = None) -> RateLimitedHttp:
        if name not in https:
            rate, burst = limits[limit_key or name]
            bucket = TokenBucket(rate, burst, monotonic)
            https[name] = RateLimitedHttp(name, client, bucket, sleep=sleep, policy=http_policy)
        return https[name]

    providers: list[PriceProvider] = []
    for name in sources:
        if name == "zaif":
            providers.append(
                ZaifProvider(http("zaif"), pair=pair, api_url=base["zaif"], chart_url=base["zaif_chart"], clock=clock)
            )
        elif name == "gmo":
            providers.append(GmoProvider(http("gmo"), pair=pair, api_url=base["gmo"], clock=clock))
        elif name == "coincheck":
            providers.append(CoincheckProvider(http("coincheck"), pair=pair, api_url=base["coincheck"], clock=clock))
        elif name == "coingecko":
            key = "coingecko_demo" if coingecko_demo_key else "coingecko"
            providers.append(
                CoinGeckoProvider(
                    http("coingecko", key), pair=pair, api_url=base["coingecko"], demo_key=coingecko_demo_key,
                    clock=clock,
                )
            )
        else:  # synthetic: Zaif XEM/BTC x Zaif BTC/JPY
            coin, quote = base_quote(pair)
            cross = ZaifProvider(http("zaif"), pair=f"{coin}_btc", api_url=base["zaif"], clock=clock)
            leg = ZaifProvider(http("zaif"), pair=f"btc_{quote}", api_url=base["zaif"], clock=clock)
            providers.append(SyntheticProvider(cross, leg))
    return providers
