"""The state database: SQLite in WAL mode, one file in the state directory.

``Store.open(path)`` opens and migrates it. The engine writes a processed block (its header,
transfers, the alerts they cause and the cursor) in one transaction with ``commit_block``;
delivery reads the outbox afterwards (``pending_deliveries``) and records each outcome.
See ``base`` for the durability settings and ``schema`` for the tables.
"""

from __future__ import annotations

from nemwatch.core.store.base import StoreError
from nemwatch.core.store.chain import BLOCK_WINDOW
from nemwatch.core.store.db import Store
from nemwatch.core.store.migrations import SchemaError, migrate, schema_version
from nemwatch.core.store.outbox import alert_identity
from nemwatch.core.store.rows import (
    AccountRow,
    BlockRow,
    Cursor,
    Delivery,
    DeliveryState,
    OutboxRow,
    TransferRow,
    TransferStatus,
    from_db_time,
    to_db_time,
)
from nemwatch.core.store.schema import CORE_MIGRATIONS, CORE_VERSION

__all__ = [
    "BLOCK_WINDOW",
    "CORE_MIGRATIONS",
    "CORE_VERSION",
    "AccountRow",
    "BlockRow",
    "Cursor",
    "Delivery",
    "DeliveryState",
    "OutboxRow",
    "SchemaError",
    "Store",
    "StoreError",
    "TransferRow",
    "TransferStatus",
    "alert_identity",
    "from_db_time",
    "migrate",
    "schema_version",
    "to_db_time",
]
