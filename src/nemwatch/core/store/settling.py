"""Read-only queries the engine's later passes need: alerts due to settle, node episodes."""

from __future__ import annotations

import json

from nemwatch.core.alert import Alert, alert_from_json_dict
from nemwatch.core.store.db import Store
from nemwatch.core.store.rows import Cursor

_SETTLING_RULES = ("outflow", "inflow", "multisig_change", "importance_transfer")


def due_for_settlement(store: Store, max_height: int) -> list[tuple[Alert, int]]:
    """``confirmed`` transaction alerts whose transfer is still confirmed at or below
    ``max_height`` and has no ``settled`` alert yet, with the transfer's current height
    (which a rollback re-inclusion may have changed). Only the current inclusion counts: a
    ``confirmed`` alert followed by a ``retracted`` one was voided, and a re-inclusion settles
    on its own (``core.reorg``)."""
    marks = ",".join("?" * len(_SETTLING_RULES))
    rows = store.connection.execute(
        f"""
        SELECT a.json AS json, t.height AS height
          FROM alerts a JOIN transfers t ON t.identity = a.identity
         WHERE a.stage = 'confirmed' AND a.rule IN ({marks})
           AND t.status = 'confirmed' AND t.height <= ?
           AND NOT EXISTS (SELECT 1 FROM alerts s
                            WHERE s.identity = a.identity AND s.rule = a.rule
                              AND s.stage IN ('settled', 'retracted') AND s.rowid > a.rowid)
         ORDER BY t.height, a.created_at
        """,
        (*_SETTLING_RULES, max_height),
    ).fetchall()
    return [(alert_from_json_dict(json.loads(r["json"])), int(r["height"])) for r in rows]


def cursors_with_prefix(store: Store, prefix: str) -> list[Cursor]:
    rows = store.connection.execute(
        "SELECT name, height, hash FROM cursors WHERE substr(name, 1, ?) = ?", (len(prefix), prefix)
    ).fetchall()
    return [Cursor(r["name"], r["height"], r["hash"]) for r in rows]
