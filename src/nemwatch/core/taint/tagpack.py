"""GraphSense TagPack YAML for NEM labels: parse (import) and render (export). Text in, text out.

A TagPack is a header (``title``, ``creator``, optional ``description``, ``is_public``) and a
list of ``tags``; each tag has ``label``, ``address``, ``source``, ``currency`` and optionally
``category``, ``abuse``, ``confidence``, ``lastmod``, ``context``. A field set in the header is
inherited by every tag that does not set it. NEM's currency code is ``XEM``.

nemwatch's label kind travels in ``context`` (JSON, ``{"nemwatch_kind": "relay"}``) so a round
trip keeps it exactly; without it the kind is read from ``category``/``abuse`` (``exchange`` ->
exchange, ``service_hack`` -> thief, ...). A tag of another currency, without an address, or with
an address that fails its checksum is skipped with a reason, not fatal: one bad line of a shared
pack must not lose the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import yaml

from nemwatch.core.models import Network
from nemwatch.core.nem.address import AddressError, validate
from nemwatch.core.taint.labels import Label, LabelKind, LabelOrigin
from nemwatch.core.text import sanitize

CURRENCY = "XEM"
MAX_TAGPACK_BYTES = 16 * 1024 * 1024
DEFAULT_CONFIDENCE = "forensic"
INHERITED = ("label", "source", "currency", "network", "category", "abuse", "confidence", "lastmod", "context")

# kind -> (category, abuse) written on export
_EXPORT_CONCEPTS: dict[LabelKind, tuple[str | None, str | None]] = {
    LabelKind.EXCHANGE: ("exchange", None),
    LabelKind.THIEF: (None, "service_hack"),
    LabelKind.VICTIM: (None, None),
    LabelKind.RELAY: (None, None),
    LabelKind.SERVICE: (None, None),
    LabelKind.BYSTANDER: (None, None),
    LabelKind.OTHER: (None, None),
}
_IMPORT_CATEGORIES = {"exchange": LabelKind.EXCHANGE, "mixing_service": LabelKind.RELAY}
_IMPORT_ABUSES = {"service_hack": LabelKind.THIEF, "scam": LabelKind.THIEF, "dark_web": LabelKind.THIEF}


class TagPackError(ValueError):
    """A file that is not a TagPack at all (not YAML, no tags list); one line."""


@dataclass(frozen=True, slots=True)
class SkippedTag:
    index: int
    reason: str


@dataclass(frozen=True, slots=True)
class TagPack:
    """A parsed TagPack: its header and the NEM labels it holds."""

    title: str
    creator: str
    description: str | None
    labels: tuple[Label, ...]
    skipped: tuple[SkippedTag, ...] = ()


def _text(value: Any, max_len: int = 200) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool | int | float | date):
        value = str(value)
    if not isinstance(value, str):
        return None
    return sanitize(value, max_len=max_len).strip() or None


def _lastmod(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int) and value > 0:  # GraphSense stores lastmod as a Unix time
        try:
            return datetime.fromtimestamp(value, UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _kind(tag: dict[str, Any]) -> LabelKind:
    context = tag.get("context")
    if isinstance(context, str):
        try:
            context = json.loads(context)
        except ValueError:
            context = None
    if isinstance(context, dict) and isinstance(context.get("nemwatch_kind"), str):
        try:
            return LabelKind.parse(context["nemwatch_kind"])
        except ValueError:
            pass
    category = _text(tag.get("category"), 60)
    if category and category.lower() in _IMPORT_CATEGORIES:
        return _IMPORT_CATEGORIES[category.lower()]
    abuse = _text(tag.get("abuse"), 60)
    if abuse and abuse.lower() in _IMPORT_ABUSES:
        return _IMPORT_ABUSES[abuse.lower()]
    return LabelKind.OTHER


def _one_tag(i: int, tag: Any, header: dict[str, Any], network: Network) -> Label | SkippedTag:
    if not isinstance(tag, dict):
        return SkippedTag(i, "not a mapping")
    merged = {k: header[k] for k in INHERITED if k in header} | tag
    currency = _text(merged.get("currency"), 20)
    if currency is None or currency.upper() != CURRENCY:
        return SkippedTag(i, f"currency {currency or 'missing'}, not {CURRENCY}")
    raw_address = merged.get("address")
    if not isinstance(raw_address, str):
        return SkippedTag(i, "no address")
    try:
        address = validate(raw_address, network)
    except AddressError as err:
        return SkippedTag(i, f"address: {err}")
    name = _text(merged.get("label"))
    if name is None:
        return SkippedTag(i, "no label")
    return Label(
        address=address,
        name=name,
        kind=_kind(merged),
        source=_text(merged.get("source"), 500),
        origin=LabelOrigin.IMPORT,
        confidence=_text(merged.get("confidence"), 40),
        lastmod=_lastmod(merged.get("lastmod")),
    )


def parse_tagpack(text: str | bytes, network: Network = Network.MAINNET) -> TagPack:
    """Parse a TagPack (YAML text) into NEM labels; ``TagPackError`` when it is no TagPack.

    Only ``yaml.safe_load`` is used (no arbitrary objects); the file is capped at 16 MiB.
    """
    if len(text) > MAX_TAGPACK_BYTES:
        raise TagPackError(f"file is larger than {MAX_TAGPACK_BYTES // (1024 * 1024)} MiB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise TagPackError(f"not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise TagPackError("not a TagPack: expected a mapping with title, creator and tags")
    tags = data.get("tags")
    if not isinstance(tags, list):
        raise TagPackError("not a TagPack: no 'tags' list")
    labels: list[Label] = []
    skipped: list[SkippedTag] = []
    for i, tag in enumerate(tags):
        result = _one_tag(i, tag, data, network)
        (skipped if isinstance(result, SkippedTag) else labels).append(result)  # type: ignore[arg-type]
    return TagPack(
        title=_text(data.get("title")) or "untitled",
        creator=_text(data.get("creator")) or "unknown",
        description=_text(data.get("description"), 1000),
        labels=tuple(labels),
        skipped=tuple(skipped),
    )


def _tag(label: Label, default_source: str, default_confidence: str) -> dict[str, Any]:
    tag: dict[str, Any] = {
        "address": label.address,
        "label": label.name,
        "source": label.source or default_source,
        "confidence": label.confidence or default_confidence,
    }
    category, abuse = _EXPORT_CONCEPTS[label.kind]
    if category:
        tag["category"] = category
    if abuse:
        tag["abuse"] = abuse
    if label.lastmod is not None:
        tag["lastmod"] = label.lastmod
    tag["context"] = json.dumps({"nemwatch_kind": label.kind.value}, separators=(",", ":"))
    return tag


def render_tagpack(
    labels: Iterable[Label],
    *,
    title: str,
    creator: str,
    description: str | None = None,
    default_source: str = "nemwatch",
    default_confidence: str = DEFAULT_CONFIDENCE,
    is_public: bool = False,
) -> str:
    """The labels as a TagPack (YAML text), ``currency``/``network`` XEM in the header.

    A label without a source gets ``default_source``; without a confidence
    ``default_confidence``. Tags are sorted by address then name, so the output is stable.
    """
    header: dict[str, Any] = {"title": title, "creator": creator}
    if description:
        header["description"] = description
    header |= {"is_public": is_public, "currency": CURRENCY, "network": CURRENCY}
    ordered = sorted(labels, key=lambda x: (x.address, x.name, x.source or ""))
    header["tags"] = [_tag(x, default_source, default_confidence) for x in ordered]
    return yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=120)
