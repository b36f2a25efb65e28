"""The effective config written back as TOML, secrets masked (``nemwatch config show``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, SecretStr

from nemwatch.config.defaults import BUILTIN_DEFAULT_NAME
from nemwatch.config.fields import XemAmount, micro_to_xem
from nemwatch.config.model import Config
from nemwatch.config.mosaic_thresholds import PairsAsTable
from nemwatch.redact import MASK, redact_url


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return model_to_toml_data(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime | str | int | float | Decimal | bool):
        return value
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def model_to_toml_data(model: BaseModel) -> dict[str, Any]:
    """A model as the dict its TOML file would hold: keys as written, XEM amounts in XEM,
    None left out. Secrets are not masked here: pass a ``redacted()`` model."""
    out: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            continue
        key = field.alias or name
        if any(isinstance(m, XemAmount) for m in field.metadata):
            out[key] = micro_to_xem(value)
        elif any(isinstance(m, PairsAsTable) for m in field.metadata):
            out[key] = {k: _plain(v) for k, v in value}
        else:
            out[key] = _plain(value)
    return out


def config_to_toml(config: Config) -> str:
    """The effective config as TOML with every secret masked; it loads back as the same config
    except for the masked values."""
    safe = config.redacted()
    data = model_to_toml_data(safe)
    data["network"]["nodes"] = [redact_url(n) for n in data["network"]["nodes"]]
    data["price"]["urls"] = {k: redact_url(v) for k, v in data["price"].get("urls", {}).items()}
    # the directory nemwatch will use, not an empty table: [state] dir or the platform default
    data["state"] = {**data.get("state", {}), "dir": str(config.state_dir(create=False))}
    origin = str(config.source) if config.source is not None else BUILTIN_DEFAULT_NAME
    header = f"# nemwatch effective configuration, from {origin}\n# secrets are shown as {MASK}\n\n"
    return header + tomli_w.dumps(data)
