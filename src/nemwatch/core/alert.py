"""Alerts and their JSON line: a public contract.

Every alert, from any rule (outflow, inflow, balance drop, dormant wake-up, node trouble,
taint, price), is one ``Alert``. Its JSON line has a fixed set of fields, always present
(null where unknown). Later versions may add fields; none is removed or renamed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from nemwatch.core.models import MosaicAmount, format_xem
from nemwatch.core.text import sanitize


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]


class Stage(str, Enum):
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"
    SETTLED = "settled"
    RETRACTED = "retracted"
    FIRING = "firing"  # a condition alert (node trouble, price) starts
    RESOLVED = "resolved"  # ... and ends


# The JSON line's fields, in order. Append only.
JSON_FIELDS: tuple[str, ...] = (
    "alert_id",
    "rule",
    "stage",
    "severity",
    "address",
    "label",
    "counterparty",
    "counterparty_label",
    "amount_xem",
    "fee_xem",
    "mosaics",
    "tx_hash",
    "inner_hash",
    "height",
    "confirmations",
    "tx_time",
    "detected_at",
    "message",
    "message_type",
    "node",
    "amount_jpy",
    "price_jpy",
    "price_source",
    "summary",
)


def make_alert_id(network: str, rule: str, key: str, stage: Stage | str) -> str:
    """A stable id for (network, rule, subject, stage): the same across restarts and nodes."""
    stage_value = stage.value if isinstance(stage, Stage) else stage
    digest = hashlib.sha256(f"{network}|{rule}|{key}|{stage_value}".encode()).hexdigest()
    return digest[:32]


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _decimal_str(value: Decimal | None, places: int) -> str | None:
    if value is None:
        return None
    return str(value.quantize(Decimal(1).scaleb(-places)))


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert. ``amount`` and ``fee`` are micro-XEM. Text fields hold sanitized text only."""

    alert_id: str
    rule: str
    stage: Stage
    severity: Severity
    detected_at: datetime
    summary: str
    address: str | None = None
    label: str | None = None
    counterparty: str | None = None
    counterparty_label: str | None = None
    amount: int | None = None
    fee: int | None = None
    mosaics: tuple[MosaicAmount, ...] = ()
    tx_hash: str | None = None
    inner_hash: str | None = None
    height: int | None = None
    confirmations: int | None = None
    tx_time: datetime | None = None
    message: str | None = None
    message_type: str | None = None
    node: str | None = None
    amount_jpy: Decimal | None = None
    price_jpy: Decimal | None = None
    price_source: str | None = None
    extra: tuple[tuple[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        # Text reaching an alert may come from the chain: keep it clean whoever built us.
        for name in ("summary", "label", "counterparty_label", "message"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, sanitize(value))

    def to_json_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "alert_id": self.alert_id,
            "rule": self.rule,
            "stage": self.stage.value,
            "severity": self.severity.value,
            "address": self.address,
            "label": self.label,
            "counterparty": self.counterparty,
            "counterparty_label": self.counterparty_label,
            "amount_xem": format_xem(self.amount) if self.amount is not None else None,
            "fee_xem": format_xem(self.fee) if self.fee is not None else None,
            "mosaics": [{"id": m.id, "quantity": m.quantity} for m in self.mosaics],
            "tx_hash": self.tx_hash,
            "inner_hash": self.inner_hash,
            "height": self.height,
            "confirmations": self.confirmations,
            "tx_time": _iso(self.tx_time),
            "detected_at": _iso(self.detected_at),
            "message": self.message,
            "message_type": self.message_type,
            "node": self.node,
            "amount_jpy": _decimal_str(self.amount_jpy, 2),
            "price_jpy": _decimal_str(self.price_jpy, 4),
            "price_source": self.price_source,
            "summary": self.summary,
        }
        for key, value in self.extra:
            if key not in data:
                data[key] = value
        return data

    def to_json_line(self) -> str:
        """One line of JSON; ``ensure_ascii`` keeps control and bidi characters escaped."""
        return json.dumps(self.to_json_dict(), ensure_ascii=True, separators=(",", ":"))


def alert_from_json_dict(data: dict[str, Any]) -> Alert:
    """Rebuild an alert from its JSON form (the outbox stores alerts as JSON)."""

    def _dt(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None

    def _micro(value: str | None) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * 1_000_000).to_integral_value())

    known = set(JSON_FIELDS)
    extra = tuple((k, v) for k, v in data.items() if k not in known)
    mosaics = tuple(
        MosaicAmount(*m["id"].split(":", 1), quantity=int(m["quantity"])) for m in data.get("mosaics") or ()
    )
    detected = _dt(data.get("detected_at"))
    if detected is None:
        raise ValueError("alert without detected_at")
    return Alert(
        alert_id=data["alert_id"],
        rule=data["rule"],
        stage=Stage(data["stage"]),
        severity=Severity(data["severity"]),
        detected_at=detected,
        summary=data.get("summary") or "",
        address=data.get("address"),
        label=data.get("label"),
        counterparty=data.get("counterparty"),
        counterparty_label=data.get("counterparty_label"),
        amount=_micro(data.get("amount_xem")),
        fee=_micro(data.get("fee_xem")),
        mosaics=mosaics,
        tx_hash=data.get("tx_hash"),
        inner_hash=data.get("inner_hash"),
        height=data.get("height"),
        confirmations=data.get("confirmations"),
        tx_time=_dt(data.get("tx_time")),
        message=data.get("message"),
        message_type=data.get("message_type"),
        node=data.get("node"),
        amount_jpy=Decimal(data["amount_jpy"]) if data.get("amount_jpy") is not None else None,
        price_jpy=Decimal(data["price_jpy"]) if data.get("price_jpy") is not None else None,
        price_source=data.get("price_source"),
        extra=extra,
    )
