"""Mosaic definitions the watcher has learned (divisibility and levy), to price levies.

A definition is learned from a mosaic definition creation transaction in a block, or from a
node's ``/namespace/mosaic/definition/page``; the newest one (highest height) wins, as in NIS
where a later definition of the same mosaic replaces the earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nemwatch.core.models import MosaicLevy
from nemwatch.core.store.base import StoreBase
from nemwatch.core.store.rows import to_db_time


@dataclass(frozen=True, slots=True)
class MosaicDefinitionRow:
    """What levy pricing needs of a mosaic definition. ``height`` is where it was defined
    (None when a node's definition page gave it without one)."""

    mosaic_id: str
    divisibility: int | None
    levy: MosaicLevy | None
    height: int | None = None


class MosaicTables(StoreBase):
    def mosaic_definition(self, mosaic_id: str) -> MosaicDefinitionRow | None:
        rows = self._read("SELECT * FROM mosaic_definitions WHERE mosaic_id = ?", (mosaic_id,))
        if not rows:
            return None
        r = rows[0]
        levy = None
        if r["levy_type"] is not None:
            levy = MosaicLevy(int(r["levy_type"]), r["levy_recipient"], r["levy_mosaic"], int(r["levy_fee"]))
        return MosaicDefinitionRow(r["mosaic_id"], r["divisibility"], levy, r["height"])

    def mosaic_definitions(self) -> list[MosaicDefinitionRow]:
        ids = [r["mosaic_id"] for r in self._read("SELECT mosaic_id FROM mosaic_definitions ORDER BY mosaic_id")]
        return [d for d in (self.mosaic_definition(i) for i in ids) if d is not None]

    def put_mosaic_definition(self, row: MosaicDefinitionRow, now: datetime) -> bool:
        """Store a definition unless a newer one (higher height) is known; True when stored."""
        levy = row.levy
        changed = self._write(
            "INSERT INTO mosaic_definitions (mosaic_id, divisibility, levy_type, levy_recipient, levy_mosaic, "
            "levy_fee, height, learned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (mosaic_id) DO UPDATE SET divisibility = excluded.divisibility, "
            "levy_type = excluded.levy_type, levy_recipient = excluded.levy_recipient, "
            "levy_mosaic = excluded.levy_mosaic, levy_fee = excluded.levy_fee, height = excluded.height, "
            "learned_at = excluded.learned_at "
            "WHERE coalesce(excluded.height, -1) >= coalesce(mosaic_definitions.height, -1)",
            (
                row.mosaic_id,
                row.divisibility,
                levy.type if levy else None,
                levy.recipient if levy else None,
                levy.mosaic_id if levy else None,
                levy.fee if levy else None,
                row.height,
                to_db_time(now),
            ),
        )
        return changed > 0
