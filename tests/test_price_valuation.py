"""JPY values: micro-XEM x Decimal price, rounding, stale prices give null, alert JSON fields."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

from price_support import utc

from nemwatch.core.alert import Alert, Severity, Stage
from nemwatch.core.models import PriceTick
from nemwatch.core.price.valuation import Valuer, price_alert, value_jpy

D = Decimal
NOW = utc(2018, 1, 26, 3, 0)


def test_value_rounds_half_even_to_the_yen_hundredth() -> None:
    assert value_jpy(526_300_010_000_000, D("88.549")) == D("46603339585.49")  # the 2018 theft at the repayment price
    assert value_jpy(1, D("88.549")) == D("0.00")
    assert value_jpy(1_000_000, D("0.005")) == D("0.00")  # half to even
    assert value_jpy(1_000_000, D("0.015")) == D("0.02")
    assert value_jpy(0, D(100)) == D("0.00")


def alert(amount: int | None) -> Alert:
    return Alert(alert_id="x", rule="outflow", stage=Stage.CONFIRMED, severity=Severity.CRITICAL,
                 detected_at=NOW, summary="outflow", amount=amount)


def test_alerts_get_jpy_only_from_a_fresh_price() -> None:
    current: list[PriceTick | None] = [None]
    valuer = Valuer(lambda: current[0], timedelta(minutes=5))
    empty = price_alert(alert(10_000_000), *valuer.price_for_alert(NOW)).to_json_dict()
    assert (empty["amount_jpy"], empty["price_jpy"], empty["price_source"]) == (None, None, None)

    current[0] = PriceTick("zaif", "xem_jpy", D("88.549"), NOW - timedelta(minutes=4))
    assert valuer.price_for_alert(NOW) == (D("88.549"), "zaif")
    data = price_alert(alert(10_000_000), *valuer.price_for_alert(NOW)).to_json_dict()
    assert (data["amount_jpy"], data["price_jpy"], data["price_source"]) == ("885.49", "88.5490", "zaif")
    no_amount = price_alert(alert(None), *valuer.price_for_alert(NOW)).to_json_dict()
    assert no_amount["amount_jpy"] is None and no_amount["price_jpy"] is None  # nothing moved to price

    current[0] = PriceTick("zaif", "xem_jpy", D("88.549"), NOW - timedelta(minutes=6))
    assert valuer.price_for_alert(NOW) == (None, None)
    stale = price_alert(alert(10_000_000), *valuer.price_for_alert(NOW)).to_json_dict()
    assert stale["amount_jpy"] is None and stale["price_jpy"] is None


def test_an_alert_that_carries_its_price_keeps_it() -> None:
    own = dataclasses.replace(alert(10_000_000), price_jpy=D("120"), price_source="gmo")
    assert price_alert(own, D("88.549"), "zaif") is own


def test_engine_taint_and_read_model_value_alike() -> None:
    """The engine, the taint alerts and the laundering read model all price through value_jpy."""
    from nemwatch.core.taint_query import LaunderingProgress

    price = D("104.7499")
    for micro in (1, 5_000, 526_300_010_000_000, 123_456_789):
        expected = value_jpy(micro, price)
        assert price_alert(alert(micro), price, "zaif").amount_jpy == expected
        fields = {f.name: 0 for f in dataclasses.fields(LaunderingProgress)}
        progress = LaunderingProgress(**{**fields, "model": "poison", "price": price})
        assert progress.jpy(micro) == expected


def test_holdings_value() -> None:
    valuer = Valuer(lambda: PriceTick("gmo", "xem_jpy", D("80"), NOW), timedelta(minutes=5))
    value = valuer.holdings({"hot wallet": 1_500_000, "thief (poison)": 523_000_000_000_000}, NOW)
    assert value is not None
    assert value.as_dict() == {"hot wallet": D("120.00"), "thief (poison)": D("41840000000.00")}
    assert value.total == D("41840000120.00") and value.source == "gmo"
    assert valuer.holdings({"x": 1}, NOW + timedelta(hours=1)) is None
