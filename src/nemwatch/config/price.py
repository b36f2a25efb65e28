"""``[price]``: XEM/JPY price sources, their base URLs, and ``[[price.alert]]`` rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from nemwatch.config.fields import (
    MODEL_CONFIG,
    BaseUrl,
    DecimalNumber,
    FieldProblem,
    PositiveInt,
    Seconds,
    reject_repeats,
    type_name,
)
from nemwatch.redact import MASK

PriceSource = Literal["zaif", "gmo", "coincheck", "coingecko", "synthetic"]
PriceAlertKind = Literal["above", "below", "move_pct", "cross_vwap", "stale"]

DEFAULT_SOURCES: tuple[PriceSource, ...] = ("zaif", "gmo", "coincheck", "coingecko", "synthetic")

# Default window per alert kind (minutes); kinds absent here take no window or an optional one.
DEFAULT_WINDOW_MINUTES: dict[str, int] = {"move_pct": 60, "cross_vwap": 1440}


class PriceUrls(BaseModel):
    """Base URL of each provider (``[price.urls]``); tests point them at the local simulator."""

    model_config = MODEL_CONFIG

    zaif: BaseUrl = "https://api.zaif.jp"
    zaif_chart: BaseUrl = "https://zaif.jp"
    gmo: BaseUrl = "https://api.coin.z.com"
    coincheck: BaseUrl = "https://coincheck.com"
    coingecko: BaseUrl = "https://api.coingecko.com"


class PriceAlert(BaseModel):
    """One price rule (``[[price.alert]]``).

    - ``above`` / ``below``: ``value`` is a JPY price per XEM.
    - ``move_pct``: ``value`` is a move in percent within ``window_minutes`` (default 60).
    - ``cross_vwap``: the price crosses the VWAP of the last ``window_minutes`` (default 1440).
    - ``stale``: no fresh price for ``window_minutes`` (default ``price.stale_after_seconds``).
    ``hysteresis_pct``: how far (percent) the price must come back before the rule re-arms.
    """

    model_config = MODEL_CONFIG

    kind: PriceAlertKind
    value: Annotated[DecimalNumber, Field(gt=0)] | None = None
    window_minutes: PositiveInt | None = None
    hysteresis_pct: Annotated[DecimalNumber, Field(ge=0, lt=100)] = Decimal("1")

    @model_validator(mode="before")
    @classmethod
    def _default_window(cls, data: Any) -> Any:
        if isinstance(data, dict) and "window_minutes" not in data:
            window = DEFAULT_WINDOW_MINUTES.get(data.get("kind"))  # type: ignore[arg-type]
            if window is not None:
                return {**data, "window_minutes": window}
        return data

    @model_validator(mode="after")
    def _fits_kind(self) -> PriceAlert:
        needs_value = self.kind in ("above", "below", "move_pct")
        if needs_value and self.value is None:
            raise FieldProblem(("value",), f"'{self.kind}' alerts need a value")
        if not needs_value and self.value is not None:
            raise FieldProblem(("value",), f"'{self.kind}' alerts take no value")
        if self.kind in ("above", "below") and self.window_minutes is not None:
            raise FieldProblem(("window_minutes",), f"'{self.kind}' alerts take no window")
        return self


class PriceConfig(BaseModel):
    """Price feeds, in order of preference (``[price]``)."""

    model_config = MODEL_CONFIG

    sources: tuple[PriceSource, ...] = DEFAULT_SOURCES
    poll_seconds: Seconds = 15.0
    stale_after_seconds: Seconds = 300.0
    coingecko_demo_key: SecretStr | None = None
    urls: PriceUrls = PriceUrls()
    retention_days: PositiveInt = 400
    alerts: tuple[PriceAlert, ...] = Field((), alias="alert")

    @field_validator("coingecko_demo_key", mode="before")
    @classmethod
    def _key_is_text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str | SecretStr):
            raise ValueError(f"expected a string, got {type_name(value)}")
        if isinstance(value, str) and not value.strip():
            raise ValueError("key is empty; remove the line to go without one")
        return value

    @field_validator("sources")
    @classmethod
    def _sources_distinct(cls, sources: tuple[str, ...]) -> tuple[str, ...]:
        reject_repeats(sources, lambda s: s, "same source as sources[{}]")
        return sources

    def redacted(self) -> PriceConfig:
        """A copy with the CoinGecko key masked."""
        if self.coingecko_demo_key is None:
            return self
        return self.model_copy(update={"coingecko_demo_key": SecretStr(MASK)})
