"""Names for addresses: typed labels and the frozen label book everything else queries.

A ``Label`` says who controls an address (an exchange, the thief, a relay, ...) and where that
knowledge comes from. Labels come from the config (``[[label]]``, taint sources), from imported
GraphSense TagPacks (``nemwatch labels import``) and, later, from heuristics; the ``LabelBook``
holds them all, keyed by normalized address, and answers the questions the engine, the
dashboard and the exporters ask::

    book = LabelBook.of(labels)
    book.kind_of(address)        # LabelKind.EXCHANGE or None
    book.is_exchange(address)    # a tainted hop into it is a taint_exchange alert
    book.name_of(address)        # what a face shows next to the address

Label names may come from an imported file written by someone else: they are sanitized here,
once, so every face can show them as plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from types import MappingProxyType

from nemwatch.core.nem.address import normalize
from nemwatch.core.text import sanitize

MAX_NAME_LEN = 200
MAX_SOURCE_LEN = 500


class LabelKind(str, Enum):
    """Who controls a labelled address. The order below is the order of precedence when one
    address carries labels of several kinds (an exchange label wins over a relay label)."""

    EXCHANGE = "exchange"
    THIEF = "thief"
    VICTIM = "victim"
    RELAY = "relay"
    SERVICE = "service"
    BYSTANDER = "bystander"
    OTHER = "other"

    @classmethod
    def parse(cls, text: str) -> LabelKind:
        """``"Exchange"`` -> ``LabelKind.EXCHANGE``; ``ValueError`` naming the valid kinds."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            valid = ", ".join(k.value for k in cls)
            raise ValueError(f"unknown label kind (valid: {valid})") from None


_PRECEDENCE = {kind: i for i, kind in enumerate(LabelKind)}


class LabelOrigin(str, Enum):
    """Where a label was learnt. Config labels win over imported ones for the display name."""

    CONFIG = "config"
    TAINT_SOURCE = "taint_source"
    IMPORT = "import"
    HEURISTIC = "heuristic"


_ORIGIN_RANK = {LabelOrigin.CONFIG: 0, LabelOrigin.TAINT_SOURCE: 1, LabelOrigin.IMPORT: 2, LabelOrigin.HEURISTIC: 3}


@dataclass(frozen=True, slots=True)
class Label:
    """One attribution: ``address`` (normalized) is ``name``, of ``kind``.

    ``source`` is a URL or a short description of where the attribution comes from (TagPack
    ``source``); ``confidence`` a GraphSense confidence id (``ownership``, ``forensic``,
    ``web_crawl``, ...) when known; ``lastmod`` the day it was last checked.
    """

    address: str
    name: str
    kind: LabelKind = LabelKind.OTHER
    source: str | None = None
    origin: LabelOrigin = LabelOrigin.CONFIG
    confidence: str | None = None
    lastmod: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", normalize(self.address))
        object.__setattr__(self, "kind", LabelKind(self.kind))
        object.__setattr__(self, "origin", LabelOrigin(self.origin))
        name = sanitize(self.name, max_len=MAX_NAME_LEN).strip()
        if not name:
            raise ValueError("a label needs a name")
        object.__setattr__(self, "name", name)
        if self.source is not None:
            object.__setattr__(self, "source", sanitize(self.source, max_len=MAX_SOURCE_LEN).strip() or None)
        if self.confidence is not None:
            object.__setattr__(self, "confidence", sanitize(self.confidence, max_len=40).strip() or None)

    @property
    def key(self) -> tuple[str, str, str]:
        """TagPack identity of a tag: (address, label, source)."""
        return (self.address, self.name, self.source or "")


def _rank(label: Label) -> tuple[int, int]:
    return (_ORIGIN_RANK[label.origin], _PRECEDENCE[label.kind])


@dataclass(frozen=True)
class LabelBook:
    """Every known label, by address. Immutable: build a new book with ``merged``.

    Lookups accept any spelling of an address (dashed, lowercase); an unknown address gives
    ``()`` / None, never an error.
    """

    _by_address: Mapping[str, tuple[Label, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, labels: Iterable[Label]) -> LabelBook:
        """A book of ``labels``; repeats of the same (address, name, source) keep the first."""
        grouped: dict[str, list[Label]] = {}
        seen: set[tuple[str, str, str]] = set()
        for label in labels:
            if label.key in seen:
                continue
            seen.add(label.key)
            grouped.setdefault(label.address, []).append(label)
        frozen = {a: tuple(sorted(ls, key=_rank)) for a, ls in grouped.items()}
        return cls(MappingProxyType(frozen))

    def merged(self, labels: Iterable[Label]) -> LabelBook:
        """A new book with ``labels`` added (this book's labels first)."""
        return LabelBook.of([*self, *labels])

    def __iter__(self) -> Iterator[Label]:
        for labels in self._by_address.values():
            yield from labels

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_address.values())

    def __contains__(self, address: object) -> bool:
        return isinstance(address, str) and normalize(address) in self._by_address

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset(self._by_address)

    def labels_of(self, address: str) -> tuple[Label, ...]:
        """All labels of ``address``, best first (config before imports, then by kind)."""
        return self._by_address.get(normalize(address), ())

    def primary(self, address: str) -> Label | None:
        """The label a face shows for ``address``: the first of ``labels_of``."""
        labels = self.labels_of(address)
        return labels[0] if labels else None

    def name_of(self, address: str) -> str | None:
        label = self.primary(address)
        return label.name if label is not None else None

    def kind_of(self, address: str) -> LabelKind | None:
        """The strongest kind any label gives ``address`` (exchange > thief > victim > ...)."""
        labels = self.labels_of(address)
        if not labels:
            return None
        return min((label.kind for label in labels), key=_PRECEDENCE.__getitem__)

    def has_kind(self, address: str, kind: LabelKind) -> bool:
        return any(label.kind is kind for label in self.labels_of(address))

    def is_exchange(self, address: str) -> bool:
        """True when any label calls ``address`` an exchange (the taint_exchange trigger)."""
        return self.has_kind(address, LabelKind.EXCHANGE)

    def of_kind(self, kind: LabelKind) -> frozenset[str]:
        """Every address with a label of ``kind``."""
        return frozenset(a for a, ls in self._by_address.items() if any(x.kind is kind for x in ls))
