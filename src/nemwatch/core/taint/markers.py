"""Marker mosaics: an account that holds one, or receives one, is tagged (``marker_seen``).

In 2018 volunteers and the NEM Foundation sent non-transferable marker mosaics
(``[taint] markers``; the built-in config has both 2018 markers) to every account the stolen
funds reached, and exchanges were asked to refuse deposits from marked accounts. nemwatch reads
those marks; it never sends one. Two ways to see a mark, both pure:

- ``markers_held(address, owned, markers)``: from ``/account/mosaic/owned`` of an account;
- ``markers_received(transfer, markers)``: from a (v2) transfer that carries a marker.

``MarkedAccounts`` remembers which (account, marker) pairs are known, so the engine raises
``marker_seen`` once per pair::

    marked, new = marked.observe(markers_received(transfer, markers))
    for sighting in new:    # -> one marker_seen alert each (the engine's rules, later)
        ...
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from nemwatch.core.models import XEM_MOSAIC_ID, MosaicAmount, Transfer


class MarkVia(str, Enum):
    HOLDING = "holding"  # found among the account's owned mosaics
    TRANSFER = "transfer"  # received in a mosaic transfer


@dataclass(frozen=True, slots=True)
class MarkerSighting:
    """``address`` is marked with ``mosaic_id``. For ``TRANSFER`` sightings the transfer's
    identity, height, time and the marking account (``tagger``) are set."""

    address: str
    mosaic_id: str
    via: MarkVia
    quantity: int
    identity: str | None = None
    height: int | None = None
    at: datetime | None = None
    tagger: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.address, self.mosaic_id)


def marker_set(markers: Iterable[str]) -> frozenset[str]:
    """The configured marker ids, without ``nem:xem`` (XEM itself can never be a mark)."""
    return frozenset(m.strip() for m in markers if m.strip() and m.strip() != XEM_MOSAIC_ID)


def markers_held(address: str, owned: Iterable[MosaicAmount], markers: Collection[str]) -> tuple[MarkerSighting, ...]:
    """The markers among ``owned`` (an account's mosaics) with a positive quantity."""
    return tuple(
        MarkerSighting(address, m.id, MarkVia.HOLDING, m.quantity)
        for m in owned
        if m.id in markers and m.quantity > 0
    )


def markers_received(transfer: Transfer, markers: Collection[str]) -> tuple[MarkerSighting, ...]:
    """The markers ``transfer`` moves to its recipient (zero moved quantities do not mark)."""
    return tuple(
        MarkerSighting(
            transfer.recipient,
            m.id,
            MarkVia.TRANSFER,
            m.quantity,
            identity=transfer.identity,
            height=transfer.height,
            at=transfer.timestamp,
            tagger=transfer.sender,
        )
        for m in transfer.mosaics
        if m.id in markers and m.quantity > 0
    )


@dataclass(frozen=True)
class MarkedAccounts:
    """The (address, marker) pairs seen so far. Immutable: ``observe`` returns a new one."""

    pairs: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def is_marked(self, address: str) -> bool:
        return any(a == address for a, _ in self.pairs)

    def markers_of(self, address: str) -> frozenset[str]:
        return frozenset(m for a, m in self.pairs if a == address)

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset(a for a, _ in self.pairs)

    def observe(self, sightings: Iterable[MarkerSighting]) -> tuple[MarkedAccounts, tuple[MarkerSighting, ...]]:
        """Add ``sightings``; return the new state and the sightings that were first of their
        pair (in order; a pair seen twice in ``sightings`` counts once)."""
        known = set(self.pairs)
        new: list[MarkerSighting] = []
        for s in sightings:
            if s.key not in known:
                known.add(s.key)
                new.append(s)
        return (MarkedAccounts(frozenset(known)) if new else self), tuple(new)
