"""Accounts in the config: ``[[watch]]``, ``[[label]]`` and ``[taint]`` with its ``[[taint.source]]``.

Amounts are written in XEM and held in micro-XEM (``*_micro`` attributes).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, Field, StrictInt, field_validator

from nemwatch.config.fields import (
    MODEL_CONFIG,
    Address,
    AwareDatetime,
    DecimalNumber,
    Flag,
    MicroXem,
    MosaicId,
    PositiveInt,
    Text,
    reject_repeats,
    type_name,
)
from nemwatch.config.mosaic_thresholds import MosaicThresholds
from nemwatch.core.models import MICRO_XEM

LabelKind = Literal["exchange", "relay", "thief", "victim", "service", "bystander", "other"]


def _source_url(value: Any) -> str:
    """Where a label comes from: an http(s) URL (a query is allowed; no user or password)."""
    if not isinstance(value, str):
        raise ValueError(f"expected a source URL string, got {type_name(value)}")
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ValueError("source is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("source must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("source must not contain a user name or password")
    if len(text) > 500 or any(c.isspace() or not c.isprintable() for c in text):
        raise ValueError("source must be one URL of at most 500 printable characters, no spaces")
    return text


SourceUrl = Annotated[str, BeforeValidator(_source_url)]
"""Where a ``[[label]]`` comes from (an exchange's deposit page, a report)."""

TaintModel = Literal["poison", "haircut", "fifo"]

KNOWN_MARKERS: tuple[str, ...] = (
    "mizunashi.coincheck_stolen_funds_do_not_accept_trades:owner_of_this_account_is_hacker",
    "ts:warning_dont_accept_stolen_funds",
)
"""The marker mosaics volunteers sent to the 2018 thief's accounts."""


class WatchConfig(BaseModel):
    """One watched address (``[[watch]]``)."""

    model_config = MODEL_CONFIG

    address: Address
    label: Text = ""
    urgent: Flag = False
    alert_outflow_micro: MicroXem = Field(0, alias="alert_outflow_xem")
    alert_inflow: Flag = False
    inflow_min_micro: MicroXem = Field(0, alias="inflow_min_xem")
    dormant_days: PositiveInt | None = None
    backfill_alerts: Flag = False
    alert_mosaics: MosaicThresholds = ()


class LabelConfig(BaseModel):
    """A name for an address that is not watched (``[[label]]``): an exchange, a relay, ..."""

    model_config = MODEL_CONFIG

    address: Address
    name: Annotated[Text, Field(min_length=1)]
    kind: LabelKind = "other"
    source: SourceUrl | None = None


class TaintSource(BaseModel):
    """An address whose funds are tainted from ``since`` on (``[[taint.source]]``)."""

    model_config = MODEL_CONFIG

    address: Address
    label: Text = ""
    since: AwareDatetime
    victim: Address | None = None


class TaintConfig(BaseModel):
    """How tainted funds are followed (``[taint]``)."""

    model_config = MODEL_CONFIG

    min_micro: MicroXem = Field(1000 * MICRO_XEM, alias="min_xem")
    min_percent: Annotated[DecimalNumber, Field(ge=0, le=100)] = Decimal(1)
    max_hops: Annotated[StrictInt, Field(ge=1, le=1000)] = 12
    ignore: tuple[Address, ...] = ()
    model: TaintModel = "fifo"
    markers: tuple[MosaicId, ...] = ()
    wakeup_days: PositiveInt = 7  # a tainted account quiet this long that moves: taint_wakeup
    sources: tuple[TaintSource, ...] = Field((), alias="source")

    @field_validator("markers")
    @classmethod
    def _markers_distinct(cls, markers: tuple[str, ...]) -> tuple[str, ...]:
        reject_repeats(markers, lambda m: m, "same marker as markers[{}]")
        return markers

    @field_validator("ignore")
    @classmethod
    def _ignore_distinct(cls, ignore: tuple[str, ...]) -> tuple[str, ...]:
        reject_repeats(ignore, lambda a: a, "same address as ignore[{}]")
        return ignore

    @field_validator("sources")
    @classmethod
    def _sources_distinct(cls, sources: tuple[TaintSource, ...]) -> tuple[TaintSource, ...]:
        reject_repeats(sources, lambda s: s.address, "same address as taint.source[{}]", "address")
        return sources

