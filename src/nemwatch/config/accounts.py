"""Accounts in the config: ``[[watch]]``, ``[[label]]`` and ``[taint]`` with its ``[[taint.source]]``.

Amounts are written in XEM and held in micro-XEM (``*_micro`` attributes).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt, field_validator

from nemwatch.config.fields import (
    MODEL_CONFIG,
    Address,
    AwareDatetime,
    Flag,
    MicroXem,
    MosaicId,
    PositiveInt,
    Text,
    reject_repeats,
)
from nemwatch.core.models import MICRO_XEM

LabelKind = Literal["exchange", "relay", "thief", "victim", "service", "bystander", "other"]
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


class LabelConfig(BaseModel):
    """A name for an address that is not watched (``[[label]]``): an exchange, a relay, ..."""

    model_config = MODEL_CONFIG

    address: Address
    name: Annotated[Text, Field(min_length=1)]
    kind: LabelKind = "other"


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
    max_hops: Annotated[StrictInt, Field(ge=1, le=1000)] = 12
    model: TaintModel = "fifo"
    markers: tuple[MosaicId, ...] = ()
    sources: tuple[TaintSource, ...] = Field((), alias="source")

    @field_validator("markers")
    @classmethod
    def _markers_distinct(cls, markers: tuple[str, ...]) -> tuple[str, ...]:
        reject_repeats(markers, lambda m: m, "same marker as markers[{}]")
        return markers

    @field_validator("sources")
    @classmethod
    def _sources_distinct(cls, sources: tuple[TaintSource, ...]) -> tuple[TaintSource, ...]:
        reject_repeats(sources, lambda s: s.address, "same address as taint.source[{}]", "address")
        return sources

