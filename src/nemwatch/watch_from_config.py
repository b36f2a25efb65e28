"""The watch set a config describes, with what a face added at run time.

Kept apart from ``nemwatch.service`` (which loads the engine, the node client and the alert
sinks) so that a dashboard attached read-only to a running watcher builds its watch set
without importing any of those: 0.7 s less before its first frame.
"""

from __future__ import annotations

from dataclasses import replace

from nemwatch.config import Config
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.watchset import WatchSet


def build_watchset(config: Config) -> WatchSet:
    """The watch set a config describes: ``[[watch]]`` entries, labels and taint sources' names."""
    ws = WatchSet()
    for label in config.labels:
        ws.labels[label.address] = (label.name, label.kind)
    for source in config.taint.sources:
        ws.labels.setdefault(source.address, (source.label or "taint source", "thief"))
    for w in config.watches:
        ws.add(
            w.address,
            WatchRule(
                label=w.label or None,
                urgent=w.urgent,
                alert_outflow_micro=w.alert_outflow_micro,
                alert_inflow=w.alert_inflow,
                inflow_min_micro=w.inflow_min_micro,
                dormant_days=w.dormant_days,
                alert_mosaics=w.alert_mosaics,
            ),
            backfill_alerts=w.backfill_alerts,
        )
    return ws


def apply_runtime_edits(ws: WatchSet, store: Store) -> WatchSet:
    """Add what a face added while running (``core.store.runtime_edits``) to a config's watch
    set: addresses watched from the dashboard, and its labels, which win over the config's
    (they are the user's latest word on that account)."""
    from nemwatch.core.store.runtime_edits import RuntimeEdits

    edits = RuntimeEdits(store)
    for w in edits.watches():
        if w.address not in ws.rules:
            ws.add(w.address, WatchRule(label=w.label or None))
    for label in edits.labels():
        ws.labels[label.address] = (label.name, label.kind)
        rule = ws.rules.get(label.address)
        if rule is not None:
            ws.rules[label.address] = replace(rule, label=label.name)
    return ws
