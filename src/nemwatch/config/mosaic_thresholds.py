"""``[[watch]] alert_mosaics``: per-mosaic outflow thresholds.

Written as a table from mosaic id to a quantity in the mosaic's smallest units (as NIS and the
alert's ``mosaics[].quantity`` count it: for a mosaic of divisibility 2, ``150`` is 1.50)::

    alert_mosaics = { "loot:coin" = 100, "ts:warning_dont_accept_stolen_funds" = "1" }

Held as a tuple of ``(mosaic id, quantity)`` pairs, sorted by id.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from nemwatch.config.fields import _mosaic_id, type_name
from nemwatch.core.models import XEM_MOSAIC_ID

MAX_MOSAIC_QUANTITY = 9_000_000_000 * 10**6  # NIS: at most 9 billion whole units, divisibility up to 6


def _quantity(mosaic: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{mosaic}: expected a whole number of the mosaic's smallest units, got {type_name(value)}")
    text = str(value).strip().replace("_", "")
    if not text.isdigit():
        raise ValueError(
            f"{mosaic}: expected a whole number of the mosaic's smallest units (not negative, no decimal point), "
            f"got {str(value)[:40]!r}"
        )
    quantity = int(text)
    if quantity > MAX_MOSAIC_QUANTITY:
        raise ValueError(f"{mosaic}: more than any mosaic's supply can be ({MAX_MOSAIC_QUANTITY:,})")
    return quantity


def _thresholds(value: Any) -> tuple[tuple[str, int], ...]:
    if isinstance(value, tuple):  # already parsed
        return value
    if not isinstance(value, dict):
        raise ValueError(f'expected a table such as {{ "namespace:name" = 100 }}, got {type_name(value)}')
    out: dict[str, int] = {}
    for key, raw in value.items():
        try:
            mosaic = _mosaic_id(key)
        except ValueError as err:
            raise ValueError(f"{str(key)[:60]!r}: {err}") from None
        if mosaic == XEM_MOSAIC_ID:
            raise ValueError("nem:xem: use alert_outflow_xem for XEM")
        if mosaic in out:
            raise ValueError(f"{mosaic}: listed twice")
        out[mosaic] = _quantity(mosaic, raw)
    return tuple(sorted(out.items()))


class PairsAsTable:
    """Marks a tuple of (key, value) pairs written as a TOML table (``nemwatch config show``)."""


MosaicThresholds = Annotated[tuple[tuple[str, int], ...], BeforeValidator(_thresholds), PairsAsTable()]

__all__ = ["MAX_MOSAIC_QUANTITY", "MosaicThresholds", "PairsAsTable"]
