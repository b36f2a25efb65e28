"""Mosaic definitions as a node serves them (``/namespace/mosaic/definition/page``).

Levies are on the mosaic definition, not on the transfer: to know what a transfer of a mosaic
really takes from its sender, the watcher needs the definition's ``levy`` (``{}`` when none).
"""

from __future__ import annotations

from typing import Any

from nemwatch.core.models import MosaicLevy, Network
from nemwatch.core.nem import nisjson as j
from nemwatch.core.nem.nisjson import ParseError
from nemwatch.core.store.mosaics import MosaicDefinitionRow

DEFINITION_PAGE_PATH = "/namespace/mosaic/definition/page"


def parse_levy(definition: dict[str, Any], network: Network) -> MosaicLevy | None:
    levy = j.optional_object(definition, "levy")
    if levy is None:
        return None
    kind = j.integer(levy, "type", j.UINT31)
    if kind not in (1, 2):
        raise ParseError("levy.type: expected 1 (absolute) or 2 (percentile)")
    namespace, name = j.mosaic_id(j.required(levy, "mosaicId"), "levy.mosaicId")
    return MosaicLevy(kind, j.address(levy, "recipient", network), f"{namespace}:{name}", j.integer(levy, "fee"))


def divisibility_of(properties: tuple[tuple[str, str], ...]) -> int | None:
    """The divisibility among a parsed definition's (name, value) properties, if valid."""
    for name, value in properties:
        if name == "divisibility" and value.isdigit() and 0 <= int(value) <= 6:
            return int(value)
    return None


def divisibility(definition: dict[str, Any]) -> int | None:
    for entry in j.array(definition, "properties", optional=True):
        entry = j.as_dict(entry, "properties[]")
        if j.text(entry, "name") == "divisibility":
            try:
                value = int(j.text(entry, "value"))
            except ValueError:
                raise ParseError("divisibility: not an integer") from None
            if not 0 <= value <= 6:
                raise ParseError("divisibility: expected 0..6")
            return value
    return None


@j.untrusted
def parse_definition_page(obj: Any, network: Network = Network.MAINNET) -> tuple[tuple[int, MosaicDefinitionRow], ...]:
    """``{"data": [{"meta": {"id": n}, "mosaic": {...}}]}`` -> ((meta id, definition), ...)."""
    out = []
    for item in j.array(j.as_dict(obj, "page"), "data"):
        item = j.as_dict(item, "data[]")
        meta_id = j.integer(j.as_dict(j.required(item, "meta"), "meta"), "id")
        mosaic = j.as_dict(j.required(item, "mosaic"), "mosaic")
        namespace, name = j.mosaic_id(j.required(mosaic, "id"), "id")
        out.append((meta_id, MosaicDefinitionRow(f"{namespace}:{name}", divisibility(mosaic), parse_levy(mosaic, network))))
    return tuple(out)


__all__ = ["DEFINITION_PAGE_PATH", "divisibility", "divisibility_of", "parse_definition_page", "parse_levy"]
