"""The whole configuration: one frozen ``Config`` made of the section models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from nemwatch import paths
from nemwatch.config.accounts import LabelConfig, TaintConfig, WatchConfig
from nemwatch.config.alerts import AlertsConfig
from nemwatch.config.fields import (
    MODEL_CONFIG,
    FieldProblem,
    Loc,
    LocalPath,
    reject_repeats,
)
from nemwatch.config.network import NetworkConfig
from nemwatch.config.price import PriceConfig
from nemwatch.config.retention import RetentionConfig
from nemwatch.core.models import Network
from nemwatch.core.nem.address import network_of
from nemwatch.redact import sink_secrets, url_secrets


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class StateConfig(BaseModel):
    """Where state lives (``[state]``); ``dir`` defaults to the platform state directory."""

    model_config = MODEL_CONFIG

    dir: LocalPath | None = None


class Config(BaseModel):
    """nemwatch's configuration, validated and immutable.

    Build it with ``nemwatch.config.load_config`` (a file) or ``config_from_data`` (a dict), which
    check addresses against ``[network] name`` and report one clear line per problem.
    ``source`` is the file it came from, or None for the built-in default.
    """

    model_config = MODEL_CONFIG

    network: NetworkConfig = NetworkConfig()
    watches: tuple[WatchConfig, ...] = Field((), alias="watch")
    taint: TaintConfig = TaintConfig()
    labels: tuple[LabelConfig, ...] = Field((), alias="label")
    price: PriceConfig = PriceConfig()
    alerts: AlertsConfig = AlertsConfig()
    state: StateConfig = StateConfig()
    retention: RetentionConfig = RetentionConfig()
    keys: dict[str, str] = {}  # dashboard key bindings by id (nemwatch.keymap); validated below

    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The file this configuration was read from; None for the built-in default."""
        return self._source

    def with_source(self, source: Path | None) -> Config:
        copy = self.model_copy()
        copy._source = source
        return copy

    # --- defaults that depend on another section -------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _settled_default(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        network, alerts = data.get("network"), data.get("alerts", {})
        if (
            isinstance(network, dict)
            and isinstance(alerts, dict)
            and _count(network.get("confirmations_settled"))
            and "settled_confirmations" not in alerts
        ):
            return {**data, "alerts": {**alerts, "settled_confirmations": network["confirmations_settled"]}}
        return data

    # --- cross-table checks ------------------------------------------------------------------

    @field_validator("watches")
    @classmethod
    def _one_watch_per_address(cls, watches: tuple[WatchConfig, ...]) -> tuple[WatchConfig, ...]:
        reject_repeats(watches, lambda w: w.address, "address already watched in watch[{}]", "address")
        return watches

    @field_validator("keys")
    @classmethod
    def _known_key_ids(cls, keys: dict[str, str]) -> dict[str, str]:
        from nemwatch.keymap import check_keymap

        return check_keymap(keys)

    @field_validator("labels")
    @classmethod
    def _one_label_per_address(cls, labels: tuple[LabelConfig, ...]) -> tuple[LabelConfig, ...]:
        reject_repeats(labels, lambda x: x.address, "address already labelled in label[{}]", "address")
        return labels

    @model_validator(mode="after")
    def _addresses_on_network(self) -> Config:
        network: Network = self.network.name
        for loc, address in self._addresses():
            found = network_of(address)
            if found is not network:
                where = found.value if found else "unknown"
                raise FieldProblem(loc, f"{where} address used on {network.value}")
        return self

    def _addresses(self) -> Iterator[tuple[Loc, str]]:
        for i, w in enumerate(self.watches):
            yield ("watch", i, "address"), w.address
        for i, s in enumerate(self.taint.sources):
            yield ("taint", "source", i, "address"), s.address
            if s.victim is not None:
                yield ("taint", "source", i, "victim"), s.victim
        for i, x in enumerate(self.labels):
            yield ("label", i, "address"), x.address

    # --- views -------------------------------------------------------------------------------

    def redacted(self) -> Config:
        """A copy with every secret masked: for display only."""
        copy = self.model_copy(update={"alerts": self.alerts.redacted(), "price": self.price.redacted()})
        copy._source = self._source
        return copy

    def secrets(self) -> list[str]:
        """Every secret string in the config, to ``redact.scrub`` from error text before showing it."""
        found = [s for sink in self.alerts.sinks for s in sink_secrets(sink)]
        found += url_secrets([*self.network.nodes, *self.network.push_urls, *self.price.urls.model_dump().values()])
        if self.price.coingecko_demo_key is not None:
            found.append(self.price.coingecko_demo_key.get_secret_value())
        return found

    def label_of(self, address: str) -> str | None:
        """The name the config gives ``address`` (watch label, taint source label, [[label]] name)."""
        for w in self.watches:
            if w.address == address and w.label:
                return w.label
        for s in self.taint.sources:
            if s.address == address and s.label:
                return s.label
        for x in self.labels:
            if x.address == address:
                return x.name
        return None

    def state_dir(self, *, create: bool = True) -> Path:
        """The state directory: ``[state] dir`` or the platform one (created 0700 by default)."""
        return paths.state_dir(self.state.dir, create=create)

    def db_path(self, *, create: bool = True) -> Path:
        return paths.default_db_path(self.state_dir(create=create))

    def journal_path(self, *, create: bool = True) -> Path:
        if self.alerts.journal_path is not None:
            return self.alerts.journal_path
        return paths.default_journal_path(self.state_dir(create=create))
