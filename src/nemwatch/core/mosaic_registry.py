"""What the engine knows of mosaic definitions, to price the levies watched accounts pay.

Definitions are learned from every mosaic definition creation in the blocks the engine reads
(any account's, so a levy is known before a watched account first sends the mosaic) and, for a
mosaic a watched account sends whose definition was created before the watcher started, from
a node's ``/namespace/mosaic/definition/page``. They persist in the state database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterable, Sequence
from datetime import datetime, timedelta

from nemwatch.core.models import XEM_MOSAIC_ID, MosaicDefinitionTx, MosaicLevy, Transaction, Transfer
from nemwatch.core.nem.mosaicdefs import divisibility_of
from nemwatch.core.store.db import Store
from nemwatch.core.store.mosaics import MosaicDefinitionRow

log = logging.getLogger("nemwatch.mosaics")

MAX_DEFINITION_PAGES = 5  # per namespace and attempt (100 definitions a page)
RETRY_AFTER = timedelta(minutes=10)  # a namespace a node could not serve is asked again after this


class MosaicRegistry:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self._known: dict[str, MosaicDefinitionRow] = {row.mosaic_id: row for row in store.mosaic_definitions()}
        self._failed: dict[str, datetime] = {}

    def lookup(self, mosaic_id: str) -> tuple[bool, MosaicLevy | None]:
        """(definition known, its levy or None); ``nem:xem`` is known and has none."""
        if mosaic_id == XEM_MOSAIC_ID:
            return True, None
        row = self._known.get(mosaic_id)
        return (row is not None, row.levy if row is not None else None)

    def put(self, row: MosaicDefinitionRow) -> None:
        if self.store.put_mosaic_definition(row, self.clock()):
            self._known[row.mosaic_id] = row

    def learn(self, transactions: Iterable[Transaction], height: int | None) -> None:
        """Remember the definitions created in a block (the newest wins, as in NIS)."""
        for tx in transactions:
            if isinstance(tx, MosaicDefinitionTx) and tx.mosaic_id:
                self.put(MosaicDefinitionRow(tx.mosaic_id, divisibility_of(tx.properties), tx.levy, height))

    def unknown_sent(self, transactions: Iterable[Transaction], senders: Container[str]) -> set[str]:
        """Mosaics the given senders transfer whose definition is not known."""
        return {
            m.id
            for tx in transactions
            if isinstance(tx, Transfer) and tx.sender in senders
            for m in tx.mosaics
            if not self.lookup(m.id)[0]
        }

    async def prefetch(self, source: object, transactions: Iterable[Transaction], senders: Container[str]) -> None:
        """Ask a node for the definitions of mosaics the given senders transfer that are not
        known yet. Never raises: a levy that stays unknown is flagged on the alert instead."""
        fetch = getattr(source, "mosaic_definitions", None)
        if fetch is None:
            return
        wanted = self.unknown_sent(transactions, senders)
        now = self.clock()
        by_namespace: dict[str, set[str]] = {}
        for mosaic_id in wanted:
            namespace = mosaic_id.split(":", 1)[0]
            failed = self._failed.get(namespace)
            if failed is None or now - failed >= RETRY_AFTER:
                by_namespace.setdefault(namespace, set()).add(mosaic_id)
        for namespace, ids in by_namespace.items():
            try:
                await self._fetch_namespace(fetch, namespace, ids)
            except Exception as err:  # a node's trouble must not delay the block
                log.warning("mosaic definitions of %s unavailable: %s", namespace, err)
                self._failed[namespace] = now
                continue
            if any(not self.lookup(i)[0] for i in ids):
                self._failed[namespace] = now

    async def _fetch_namespace(self, fetch: Callable[..., object], namespace: str, ids: set[str]) -> None:
        after: int | None = None
        for _ in range(MAX_DEFINITION_PAGES):
            page = await fetch(namespace, after_id=after)  # type: ignore[misc]
            if not page:
                return
            for meta_id, row in page:
                if not self.lookup(row.mosaic_id)[0] or row.mosaic_id in ids:
                    self.put(row)
                after = meta_id if after is None else min(after, meta_id)
            if all(self.lookup(i)[0] for i in ids):
                return


__all__ = ["MosaicRegistry"]
