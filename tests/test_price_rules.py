"""Price alert rules: hysteresis (no flapping), moves over a window, VWAP crossings, staleness."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from price_support import utc

from nemwatch.config import config_from_data
from nemwatch.core.alert import Stage
from nemwatch.core.models import PriceTick
from nemwatch.core.price.rules import PriceObservation, PriceRule, PriceRules

D = Decimal
T0 = utc(2018, 1, 26, 3, 0)


def tick(minute: float, price: str, source: str = "zaif") -> PriceTick:
    return PriceTick(source, "xem_jpy", D(price), T0 + timedelta(minutes=minute))


def feed(rules: PriceRules, prices: list[str], *, step: float = 1.0, **obs: object) -> list[tuple[int, str, Stage]]:
    out = []
    for i, price in enumerate(prices):
        t = tick(i * step, price)
        for alert in rules.evaluate(PriceObservation(now=t.at, tick=t, **obs)):  # type: ignore[arg-type]
            out.append((i, alert.rule, alert.stage))
    return out


def test_below_threshold_does_not_flap() -> None:
    rules = PriceRules([PriceRule("below", D(80), hysteresis_pct=D(2))])
    # wobbling around 80 fires once; it resolves only above 81.6
    prices = ["82", "80", "79.9", "80.1", "79.5", "81.5", "80.5", "81.6", "81.7", "79", "78"]
    assert feed(rules, prices) == [
        (1, "price_below", Stage.FIRING),
        (8, "price_below", Stage.RESOLVED),
        (9, "price_below", Stage.FIRING),
    ]


def test_above_threshold_with_hysteresis_and_stable_ids() -> None:
    def run() -> list:
        rules = PriceRules([PriceRule("above", D(120), hysteresis_pct=D(1))])
        alerts = []
        for i, price in enumerate(["119", "120", "119", "118.81", "118.79", "121"]):
            t = tick(i, price)
            alerts += rules.evaluate(PriceObservation(now=t.at, tick=t))
        return alerts

    alerts = run()
    assert [(a.stage, a.price_jpy) for a in alerts] == [
        (Stage.FIRING, D(120)), (Stage.RESOLVED, D("118.79")), (Stage.FIRING, D(121))
    ]
    assert [a.alert_id for a in alerts] == [a.alert_id for a in run()]  # same data, same ids
    assert len({a.alert_id for a in alerts}) == 3
    first = alerts[0].to_json_dict()
    assert first["rule"] == "price_above" and first["price_jpy"] == "120.0000" and first["price_source"] == "zaif"
    assert first["amount_jpy"] is None and first["threshold"] == "120"
    assert "120" in first["summary"] and "zaif" in first["summary"]


def test_the_2018_fall_fires_a_move_alert_once() -> None:
    # 120 JPY to 79 JPY within a day, sampled every 30 minutes
    rules = PriceRules([PriceRule("move_pct", D(-30), window_minutes=1440, hysteresis_pct=D(10))],
                       stale_after=timedelta(hours=1))
    prices = [str(D(120) - D(41) * i / 48) for i in range(49)] + ["79"] * 10
    events = feed(rules, prices, step=30)
    assert events == [(48, "price_move", Stage.FIRING)]
    t = tick(48 * 30, "79")
    assert rules.evaluate(PriceObservation(now=t.at, tick=t)) == []
    alert_rules = PriceRules([PriceRule("move_pct", D(-30), window_minutes=1440)], stale_after=timedelta(hours=1))
    alerts = []
    for i, price in enumerate(prices):
        t = tick(i * 30, price)
        alerts += alert_rules.evaluate(PriceObservation(now=t.at, tick=t))
    data = alerts[0].to_json_dict()
    assert data["change_pct"] == "-34.17" and data["reference_price"] == "120" and data["window_minutes"] == 1440
    assert alerts[0].severity.value == "critical" and "fell 34.17%" in alerts[0].summary


def test_move_needs_a_full_window_and_resolves_with_hysteresis() -> None:
    rules = PriceRules([PriceRule("move_pct", D(10), window_minutes=60, hysteresis_pct=D(20))],
                       stale_after=timedelta(hours=1))
    # no price an hour before: nothing, however big the move
    assert feed(rules, ["100", "50"], step=10) == []
    rules = PriceRules([PriceRule("move_pct", D(10), window_minutes=60, hysteresis_pct=D(20))],
                       stale_after=timedelta(hours=1))
    rules.prime([(T0 - timedelta(minutes=60), D(100))])
    t = tick(0, "111")
    assert [a.stage for a in rules.evaluate(PriceObservation(now=t.at, tick=t))] == [Stage.FIRING]
    # the reference moves with time: 10 min later it is still the primed 100 -> 109 is +9% (> 8%): holds
    t = tick(10, "109")
    assert rules.evaluate(PriceObservation(now=t.at, tick=t)) == []
    t = tick(20, "107")  # +7% < 8%: resolved
    assert [a.stage for a in rules.evaluate(PriceObservation(now=t.at, tick=t))] == [Stage.RESOLVED]


def test_cross_vwap_counts_clear_crossings_only() -> None:
    rules = PriceRules([PriceRule("cross_vwap", window_minutes=1440, hysteresis_pct=D(1))])
    assert rules.vwap_windows() == {1440}
    vwap = {1440: D("88.549")}
    prices = ["90", "88.6", "88", "87.6", "88.2", "89", "89.5", "87", "87"]
    events = feed(rules, prices, vwaps=vwap)
    # 90 sets the side (above); 87.6 is more than 1% below: crossing down; 89.5 up; 87 down
    assert events == [(3, "price_cross_vwap", Stage.FIRING), (6, "price_cross_vwap", Stage.FIRING),
                      (7, "price_cross_vwap", Stage.FIRING)]
    assert feed(PriceRules([PriceRule("cross_vwap")]), ["90", "80"]) == []  # no VWAP given: nothing


def test_stale_and_every_provider_down() -> None:
    rules = PriceRules([PriceRule("stale")], stale_after=timedelta(minutes=5))
    last = tick(0, "88")
    assert rules.evaluate(PriceObservation(now=last.at, tick=last)) == []
    assert rules.evaluate(PriceObservation(now=last.at + timedelta(minutes=5), tick=last)) == []
    later = last.at + timedelta(minutes=6)
    (fired,) = rules.evaluate(PriceObservation(now=later, tick=last, all_down=True))
    assert fired.rule == "price_stale" and fired.stage is Stage.FIRING
    assert "every price provider is down" in fired.summary and fired.price_jpy is None
    assert rules.evaluate(PriceObservation(now=later + timedelta(minutes=1), tick=last, all_down=True)) == []
    fresh = tick(8, "87")
    (resolved,) = rules.evaluate(PriceObservation(now=fresh.at, tick=fresh))
    assert resolved.stage is Stage.RESOLVED and resolved.price_jpy == D(87)
    # a stale tick does not drive threshold rules
    below = PriceRules([PriceRule("below", D(90))], stale_after=timedelta(minutes=5))
    assert below.evaluate(PriceObservation(now=later, tick=last)) == []
    # with a window the rule has its own limit
    own = PriceRules([PriceRule("stale", window_minutes=30)], stale_after=timedelta(minutes=5))
    assert own.evaluate(PriceObservation(now=later, tick=last)) == []
    assert len(own.evaluate(PriceObservation(now=last.at + timedelta(minutes=31), tick=last))) == 1
    none_yet = PriceRules([PriceRule("stale")])
    (alert,) = none_yet.evaluate(PriceObservation(now=T0, tick=None))
    assert "no XEM/JPY price yet" in alert.summary


def test_rules_from_the_config() -> None:
    cfg = config_from_data({"price": {"alert": [
        {"kind": "below", "value": 80, "hysteresis_pct": 2},
        {"kind": "move_pct", "value": 30},
        {"kind": "cross_vwap"},
        {"kind": "stale", "window_minutes": 10},
    ]}})
    rules = [PriceRule.from_config(a) for a in cfg.price.alerts]
    assert rules == [
        PriceRule("below", D(80), None, D(2)),
        PriceRule("move_pct", D(30), 60, D(1)),
        PriceRule("cross_vwap", None, 1440, D(1)),
        PriceRule("stale", None, 10, D(1)),
    ]
    assert PriceRule.from_config({"kind": "above", "value": "120.5"}).value == D("120.5")


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "sideways"},
        {"kind": "above"},
        {"kind": "below", "value": D(-1)},
        {"kind": "move_pct", "value": D(10)},
        {"kind": "move_pct", "value": D(-100), "window_minutes": 5},
        {"kind": "above", "value": D(1), "hysteresis_pct": D(100)},
    ],
)
def test_bad_rules_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        PriceRule(**bad)
