"""JPY values: micro-XEM x Decimal price, rounding, stale prices give null, alert JSON fields."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from price_support import utc

from nemwatch.core.alert import Alert, Severity, Stage
from nemwatch.core.models import PriceTick
from nemwatch.core.price.valuation import Valuer, value_jpy

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
    empty = valuer.annotate(alert(10_000_000)).to_json_dict()
    assert (empty["amount_jpy"], empty["price_jpy"], empty["price_source"]) == (None, None, None)

    current[0] = PriceTick("zaif", "xem_jpy", D("88.549"), NOW - timedelta(minutes=4))
    assert valuer.price_for_alert(NOW) == (D("88.549"), "zaif")
    data = valuer.annotate(alert(10_000_000)).to_json_dict()
    assert (data["amount_jpy"], data["price_jpy"], data["price_source"]) == ("885.49", "88.5490", "zaif")
    no_amount = valuer.annotate(alert(None)).to_json_dict()
    assert no_amount["amount_jpy"] is None and no_amount["price_jpy"] == "88.5490"

    current[0] = PriceTick("zaif", "xem_jpy", D("88.549"), NOW - timedelta(minutes=6))
    assert valuer.price_for_alert(NOW) == (None, None)
    stale = valuer.annotate(alert(10_000_000)).to_json_dict()
    assert stale["amount_jpy"] is None and stale["price_jpy"] is None


def test_holdings_value() -> None:
    valuer = Valuer(lambda: PriceTick("gmo", "xem_jpy", D("80"), NOW), timedelta(minutes=5))
    value = valuer.holdings({"hot wallet": 1_500_000, "thief (poison)": 523_000_000_000_000}, NOW)
    assert value is not None
    assert value.as_dict() == {"hot wallet": D("120.00"), "thief (poison)": D("41840000000.00")}
    assert value.total == D("41840000120.00") and value.source == "gmo"
    assert valuer.holdings({"x": 1}, NOW + timedelta(hours=1)) is None
