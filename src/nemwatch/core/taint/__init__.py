"""Taint tracking: pure, I/O-free models of how stolen XEM spreads.

Five models are folded side by side over one ordered stream of movements (``inputs.Model``):
poison, haircut, FIFO, and the two bounds that bracket every conserving rule (taint leaves
first / clean leaves first). Names are exported here lazily: importing the package imports
none of its modules.

Wiring it into the engine::

    from nemwatch.core.taint import TaintTracker, movements_of_block, sources_of, thresholds_of

    tracker = TaintTracker(sources_of(cfg.taint), thresholds_of(cfg.taint), opening_micro=balances)
    changes = tracker.apply_block(block.height, movements_of_block(block), at=block.timestamp)
    for new in changes.new_accounts:   # NewTaint: address, model, hop, tainted_micro, movement
        ...                            # watch it (auto-follow), raise taint_new_account
    for move in changes.moves:         # TransferTaint: movement, tainted_micro per model, left
        ...                            # taint_move / taint_exchange (cfg.taint.model first)
    undone = tracker.rollback(fork_height)   # on a fork: what the retracted blocks had tainted
    for v in tracker.check_conservation(observed_micro):   # ConservationViolation
        ...                            # a `conservation` alert

Feed every block in order (its movements in block order, multisig inner transfers included);
pass ``balances_micro`` for accounts whose balance the engine learns. Readers (dashboard,
exporter) use ``tracker.account(address)``, ``tracker.accounts(model)``,
``tracker.transfers()`` and ``tracker.totals()``; ``trace(movements, sources, ...)`` is the
batch form over a whole stream (export, benchmark). Thresholds and how they act on each model:
``inputs.Thresholds``; conservation: ``conservation``; rollbacks and checkpoints: ``tracker``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Model": "inputs", "MODELS": "inputs", "Movement": "inputs", "TaintSource": "inputs",
    "Thresholds": "inputs",
    "TaintTracker": "tracker", "TaintChanges": "tracker", "trace": "tracker",
    "AccountTaint": "view", "ModelTaint": "view", "TransferTaint": "view", "NewTaint": "view",
    "ModelTotals": "view",
    "ConservationViolation": "conservation", "check_conservation": "conservation",
    "movement_of": "adapt", "movements_of_block": "adapt", "movements_of": "adapt",
    "sources_of": "adapt", "thresholds_of": "adapt",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(_EXPORTS)
