"""The market's window statistics from cached whole hours equal the trade-by-trade figures."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from nemwatch.sim.clock import ManualClock
from nemwatch.sim.market import Market, _Stats
from nemwatch.sim.scenario_toml import load_scenario


def _by_trades(market: Market, start, end, now) -> dict[str, Decimal] | None:  # noqa: ANN001
    stats = _Stats.of(market.trades_between(start, end, now))
    if stats is None:
        return None
    return {"open": stats.open, "high": stats.high, "low": stats.low, "close": stats.close,
            "volume": stats.volume, "average": stats.notional / stats.volume}


def test_window_stats_from_cached_hours_equal_the_trades() -> None:
    scenario = load_scenario("coincheck-2018")
    market = Market.from_scenario(scenario, ManualClock(scenario.start))
    rng = random.Random(7)
    cases = [(timedelta(hours=24), timedelta(seconds=1))] * 5 + [
        (timedelta(seconds=rng.randint(0, 2 * 86400)), timedelta(seconds=rng.choice([0, 1, 90, 5000])))
        for _ in range(60)
    ]
    for back, ahead in cases:
        now = scenario.start + timedelta(seconds=rng.randint(0, 14 * 86400))
        start, end = now - back, now + ahead
        assert market._window_stats(start, end, now) == _by_trades(market, start, end, now), (start, end, now)
    assert market._hours  # whole hours were cached and reused
    hour = next(iter(market._hours))
    assert market._hours[hour] == _Stats.of(market.trades_between(hour, hour + timedelta(hours=1), hour + timedelta(hours=1)))


def test_window_stats_see_only_trades_made_by_now() -> None:
    scenario = load_scenario("coincheck-2018")
    market = Market.from_scenario(scenario, ManualClock(scenario.start))
    now = scenario.start + timedelta(days=2, minutes=17, seconds=5)
    later = market._window_stats(now - timedelta(hours=24), now + timedelta(hours=2), now + timedelta(hours=2))
    seen = market._window_stats(now - timedelta(hours=24), now + timedelta(hours=2), now)
    assert seen is not None and later is not None and seen["volume"] < later["volume"]
    assert seen == _by_trades(market, now - timedelta(hours=24), now + timedelta(hours=2), now)
    assert market._window_stats(market.start - timedelta(days=3), market.start - timedelta(days=2), now) is None
