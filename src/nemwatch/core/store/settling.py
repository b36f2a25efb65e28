"""Read-only queries the engine's later passes need: alerts due to settle, node episodes."""

from __future__ import annotations

import json

from nemwatch.core.alert import Alert, alert_from_json_dict
from nemwatch.core.store.db import Store
from nemwatch.core.store.rows import Cursor


def due_for_settlement(store: Store, max_height: int) -> list[tuple[Alert, int]]:
    """``confirmed`` transaction alerts whose transfer is still confirmed at or below
    ``max_height`` and has no ``settled`` alert yet, with the transfer's current height
    (which a rollback re-inclusion may have changed). Only the current inclusion counts: a
    ``confirmed`` alert followed by a ``retracted`` one was voided, and a re-inclusion settles
    on its own (``core.reorg``).

    The alerts still waiting are those with ``awaiting = 1`` (kept by triggers, see schema v5),
    read from their partial index: the cost follows the alerts of the last few blocks, not the
    size of the alert log. ``CROSS JOIN`` keeps the alerts as the outer loop.
    """
    rows = store.connection.execute(
        """
        SELECT a.json AS json, t.height AS height
          FROM alerts a CROSS JOIN transfers t ON t.identity = a.identity
         WHERE a.awaiting = 1 AND t.status = 'confirmed' AND t.height <= ?
         ORDER BY t.height, a.created_at
        """,
        (max_height,),
    ).fetchall()
    return [(alert_from_json_dict(json.loads(r["json"])), int(r["height"])) for r in rows]


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """``[low, high)`` of the text keys starting with ``prefix`` (a range the index can seek)."""
    if not prefix:
        raise ValueError("empty prefix")
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def cursors_with_prefix(store: Store, prefix: str) -> list[Cursor]:
    low, high = prefix_bounds(prefix)
    rows = store.connection.execute(
        "SELECT name, height, hash FROM cursors WHERE name >= ? AND name < ?", (low, high)
    ).fetchall()
    return [Cursor(r["name"], r["height"], r["hash"]) for r in rows]
