"""The taint tracker's state in the state database (its own schema component, ``taint``).

What is kept, so that taint survives restarts and reloads and the exporter can rebuild it:

- ``taint_movements``: every movement the tracker was fed, in chain order (height, position in
  the block). Replaying them rebuilds the tracker exactly; a rollback deletes those above the
  fork. The exporter reads them (also from a read-only store).
- ``taint_sources``: sources added at run time (config sources come from the config).
- ``taint_accounts``: the accounts the taint reached, with where it came from (source, the
  account that passed it on, hop, model), the block that carried the hop and the one in which
  nemwatch marked the account (the tag lag), and the tainted micro-XEM per model.
- ``taint_marks``: (account, marker mosaic) pairs already seen, so ``marker_seen`` fires once.
- ``taint_totals``: where each model's taint is (at rest, at exchanges, left elsewhere, burned).
- ``taint_openings`` (v2): the balance a tracked account held before the block that first
  tainted it, learnt after the fact (``core.taint_followup``); a rebuild folds it in there.
- ``taint_inferred`` (v2): accounts whose history looks like an exchange's central wallet or a
  relay, with the evidence (JSON); an inferred exchange stops taint like a labelled one.
- ``taint_source_holdings`` (v3): the tainted micro-XEM each source itself still holds, per
  model, so a face shows a source's taint without the tracker (also from a read-only store).

Migrated like the core (``core.store.migrations``) under its own row of ``schema_versions``, so
it never collides with the core's steps. A store opened read-only is never migrated: a file
without these tables reads as empty.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nemwatch.core.store.db import Store
from nemwatch.core.store.migrations import migrate
from nemwatch.core.store.rows import from_db_time, to_db_time
from nemwatch.core.taint.inputs import MODELS, Model, Movement, TaintSource

COMPONENT = "taint"
_MODEL_COLUMNS = ", ".join(m.value for m in MODELS)

TAINT_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # v1: movements fed to the tracker, run-time sources, tainted accounts, marks, totals
    (
        """
        CREATE TABLE taint_movements (
            height     INTEGER NOT NULL,
            position   INTEGER NOT NULL,
            identity   TEXT NOT NULL,
            sender     TEXT NOT NULL,
            recipient  TEXT NOT NULL,
            amount     INTEGER NOT NULL,
            fee        INTEGER NOT NULL,
            tx_time    TEXT NOT NULL,
            PRIMARY KEY (height, position)
        )
        """,
        """
        CREATE TABLE taint_sources (
            address       TEXT PRIMARY KEY,
            label         TEXT NOT NULL DEFAULT '',
            since         TEXT NOT NULL,
            victim        TEXT,
            added_height  INTEGER NOT NULL,
            added_at      TEXT NOT NULL
        )
        """,
        f"""
        CREATE TABLE taint_accounts (
            address        TEXT PRIMARY KEY,
            source         TEXT NOT NULL,
            parent         TEXT,
            hop            INTEGER NOT NULL,
            model          TEXT NOT NULL,
            identity       TEXT,
            hop_height     INTEGER NOT NULL,
            marked_height  INTEGER NOT NULL,
            tainted_at     TEXT NOT NULL,
            marked_at      TEXT NOT NULL,
            followed       INTEGER NOT NULL DEFAULT 1,
            {", ".join(f"{m.value} INTEGER NOT NULL DEFAULT 0" for m in MODELS)}
        )
        """,
        """
        CREATE TABLE taint_marks (
            address    TEXT NOT NULL,
            mosaic_id  TEXT NOT NULL,
            identity   TEXT,
            height     INTEGER,
            PRIMARY KEY (address, mosaic_id)
        )
        """,
        """
        CREATE TABLE taint_totals (
            model         TEXT PRIMARY KEY,
            seeded        INTEGER NOT NULL,
            at_rest       INTEGER NOT NULL,
            at_exchanges  INTEGER NOT NULL,
            left_other    INTEGER NOT NULL,
            burned        INTEGER NOT NULL,
            accounts      INTEGER NOT NULL,
            height        INTEGER NOT NULL
        )
        """,
    ),
    # v2: opening balances of tracked accounts (learnt late, folded in at their height) and
    # exchange or relay labels inferred from an account's history (never config labels)
    (
        """
        CREATE TABLE taint_openings (
            address      TEXT PRIMARY KEY,
            height       INTEGER NOT NULL,
            micro        INTEGER NOT NULL,
            origin       TEXT NOT NULL,
            node_height  INTEGER
        )
        """,
        """
        CREATE TABLE taint_inferred (
            address   TEXT PRIMARY KEY,
            kind      TEXT NOT NULL,
            evidence  TEXT NOT NULL,
            height    INTEGER NOT NULL,
            at        TEXT NOT NULL
        )
        """,
    ),
    # v3: what each source itself still holds of the taint, per model (``taint_accounts`` holds
    # only the accounts the taint reached), as of block ``height``
    (
        f"""
        CREATE TABLE taint_source_holdings (
            address  TEXT PRIMARY KEY,
            height   INTEGER NOT NULL,
            {", ".join(f"{m.value} INTEGER NOT NULL DEFAULT 0" for m in MODELS)}
        )
        """,
    ),
)


@dataclass(frozen=True, slots=True)
class TaintedAccountRow:
    """One account the taint reached; ``tag_lag_blocks`` = marked_height - hop_height."""

    address: str
    source: str
    parent: str | None
    hop: int
    model: Model
    identity: str | None
    hop_height: int
    marked_height: int
    tainted_at: datetime
    marked_at: datetime
    followed: bool
    tainted_micro: tuple[int, ...]  # per model, in ``MODELS`` order

    @property
    def tag_lag_blocks(self) -> int:
        return self.marked_height - self.hop_height

    def of(self, model: Model) -> int:
        return self.tainted_micro[MODELS.index(model)]


@dataclass(frozen=True, slots=True)
class TotalsRow:
    """Where one model's taint is, as of ``height``."""

    model: Model
    seeded_micro: int
    at_rest_micro: int
    at_exchanges_micro: int
    left_other_micro: int
    burned_micro: int
    accounts: int
    height: int


@dataclass(frozen=True, slots=True)
class Opening:
    """``address`` held ``micro`` before block ``height``; ``origin``: ``history`` (the backfilled
    history up to that block) or ``node`` (the node's balance at ``node_height`` minus the
    movements since)."""

    address: str
    height: int
    micro: int
    origin: str
    node_height: int | None = None


@dataclass(frozen=True, slots=True)
class InferredRow:
    """A label inferred from history: ``kind`` ``exchange`` or ``relay``; ``evidence`` JSON."""

    address: str
    kind: str
    evidence: dict[str, Any]
    height: int
    at: datetime


@dataclass(frozen=True, slots=True)
class RuntimeSource:
    source: TaintSource
    added_height: int
    added_at: datetime


def _has_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'taint_accounts'"
    ).fetchone() is not None


class TaintTables:
    """The taint tables of one ``Store``; writes join the caller's store transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store
        if not store.read_only:
            migrate(store.connection, COMPONENT, TAINT_MIGRATIONS)
        self.present = _has_tables(store.connection)
        self.has_v2 = self.present and store.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'taint_openings'"
        ).fetchone() is not None
        self.has_v3 = self.present and store.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'taint_source_holdings'"
        ).fetchone() is not None

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        if not self.present:
            return []
        return self._store.connection.execute(sql, params).fetchall()

    def _exec(self, sql: str, params: tuple[object, ...] = ()) -> None:
        self._store.connection.execute(sql, params)

    # -- movements ------------------------------------------------------------------------

    def add_movements(self, movements: Iterable[Movement]) -> None:
        self._store.connection.executemany(
            "INSERT OR REPLACE INTO taint_movements (height, position, identity, sender, recipient, amount, fee, tx_time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(m.height, m.index, m.identity, m.sender, m.recipient, m.amount_micro, m.fee_micro, to_db_time(m.timestamp))
             for m in movements],
        )

    def movements(self) -> list[Movement]:
        """Every stored movement, in chain order."""
        rows = self._rows(
            "SELECT height, position, identity, sender, recipient, amount, fee, tx_time FROM taint_movements "
            "ORDER BY height, position"
        )
        out = []
        for r in rows:
            when = from_db_time(r["tx_time"])
            assert when is not None
            out.append(Movement(r["height"], r["position"], r["identity"], r["sender"], r["recipient"],
                                r["amount"], r["fee"], when))
        return out

    def last_outgoing(self, address: str, below: int) -> datetime | None:
        """When ``address`` last sent in a block below ``below`` (None: never seen sending)."""
        rows = self._rows(
            "SELECT max(tx_time) AS t FROM taint_movements WHERE sender = ? AND height < ?", (address, below)
        )
        return from_db_time(rows[0]["t"]) if rows and rows[0]["t"] else None

    def rewind(self, ancestor: int) -> None:
        """Forget what a rollback undid: movements, marks and accounts above ``ancestor`` (sources
        added at run time stay: the user marked them, not the chain)."""
        self._exec("DELETE FROM taint_movements WHERE height > ?", (ancestor,))
        self._exec("DELETE FROM taint_marks WHERE height > ?", (ancestor,))
        self._exec("DELETE FROM taint_accounts WHERE hop_height > ?", (ancestor,))
        if self.has_v2:
            self._exec("DELETE FROM taint_openings WHERE height > ?", (ancestor,))
        if self.has_v3:  # rewritten by the taint watch's resync after the rollback
            self._exec("DELETE FROM taint_source_holdings WHERE height > ?", (ancestor,))

    # -- sources --------------------------------------------------------------------------

    def add_source(self, source: TaintSource, *, height: int, now: datetime) -> None:
        self._exec(
            "INSERT OR REPLACE INTO taint_sources (address, label, since, victim, added_height, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (source.address, source.label, to_db_time(source.since), source.victim, height, to_db_time(now)),
        )

    def runtime_sources(self) -> list[RuntimeSource]:
        out = []
        for r in self._rows("SELECT * FROM taint_sources ORDER BY added_height, added_at"):
            since, added = from_db_time(r["since"]), from_db_time(r["added_at"])
            assert since is not None and added is not None
            out.append(RuntimeSource(TaintSource(r["address"], since, r["label"], r["victim"]), r["added_height"], added))
        return out

    def set_source_holdings(self, address: str, tainted_micro: Sequence[int], height: int) -> None:
        """What source ``address`` itself holds of the taint per model (``MODELS`` order)."""
        marks = ", ".join("?" * len(MODELS))
        self._exec(
            f"INSERT OR REPLACE INTO taint_source_holdings (address, height, {_MODEL_COLUMNS}) VALUES (?, ?, {marks})",
            (address, height, *tainted_micro),
        )

    def source_holdings(self) -> dict[str, tuple[int, ...]]:
        """Per source: the tainted micro-XEM it holds per model (empty on a store before v3)."""
        if not self.has_v3:
            return {}
        return {
            r["address"]: tuple(int(r[m.value]) for m in MODELS)
            for r in self._rows("SELECT * FROM taint_source_holdings ORDER BY address")
        }

    # -- accounts -------------------------------------------------------------------------

    def upsert_account(self, row: TaintedAccountRow) -> None:
        marks = ", ".join("?" * len(MODELS))
        self._exec(
            f"INSERT INTO taint_accounts (address, source, parent, hop, model, identity, hop_height, marked_height, "
            f"tainted_at, marked_at, followed, {_MODEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {marks}) "
            f"ON CONFLICT (address) DO UPDATE SET hop = min(hop, excluded.hop), "
            + ", ".join(f"{m.value} = excluded.{m.value}" for m in MODELS),
            (row.address, row.source, row.parent, row.hop, row.model.value, row.identity, row.hop_height,
             row.marked_height, to_db_time(row.tainted_at), to_db_time(row.marked_at), int(row.followed),
             *row.tainted_micro),
        )

    def set_amounts(self, address: str, tainted_micro: Sequence[int], hop: int | None = None) -> None:
        sets = ", ".join(f"{m.value} = ?" for m in MODELS)
        if hop is None:
            self._exec(f"UPDATE taint_accounts SET {sets} WHERE address = ?", (*tainted_micro, address))
        else:
            self._exec(f"UPDATE taint_accounts SET {sets}, hop = ? WHERE address = ?", (*tainted_micro, hop, address))

    def remove_accounts(self, addresses: Iterable[str]) -> None:
        self._store.connection.executemany("DELETE FROM taint_accounts WHERE address = ?", [(a,) for a in addresses])

    def account(self, address: str) -> TaintedAccountRow | None:
        rows = self._accounts("SELECT * FROM taint_accounts WHERE address = ?", (address,))
        return rows[0] if rows else None

    def accounts(self) -> list[TaintedAccountRow]:
        """Every tainted account, sources first, then by hop and the block that tainted it."""
        return self._accounts("SELECT * FROM taint_accounts ORDER BY hop, hop_height, address")

    def _accounts(self, sql: str, params: tuple[object, ...] = ()) -> list[TaintedAccountRow]:
        out = []
        for r in self._rows(sql, params):
            tainted_at, marked_at = from_db_time(r["tainted_at"]), from_db_time(r["marked_at"])
            assert tainted_at is not None and marked_at is not None
            out.append(TaintedAccountRow(
                r["address"], r["source"], r["parent"], r["hop"], Model(r["model"]), r["identity"], r["hop_height"],
                r["marked_height"], tainted_at, marked_at, bool(r["followed"]), tuple(int(r[m.value]) for m in MODELS),
            ))
        return out

    # -- marks ----------------------------------------------------------------------------

    def add_mark(self, address: str, mosaic_id: str, identity: str | None, height: int | None) -> None:
        self._exec(
            "INSERT OR IGNORE INTO taint_marks (address, mosaic_id, identity, height) VALUES (?, ?, ?, ?)",
            (address, mosaic_id, identity, height),
        )

    def marks(self) -> list[tuple[str, str]]:
        return [(r["address"], r["mosaic_id"]) for r in self._rows("SELECT address, mosaic_id FROM taint_marks")]

    # -- opening balances and inferred labels (v2) ------------------------------------------

    def set_opening(self, opening: Opening) -> None:
        self._exec(
            "INSERT OR REPLACE INTO taint_openings (address, height, micro, origin, node_height) VALUES (?, ?, ?, ?, ?)",
            (opening.address, opening.height, opening.micro, opening.origin, opening.node_height),
        )

    def openings(self) -> list[Opening]:
        if not self.has_v2:
            return []
        return [
            Opening(r["address"], r["height"], r["micro"], r["origin"], r["node_height"])
            for r in self._rows("SELECT * FROM taint_openings ORDER BY height, address")
        ]

    def first_height(self, address: str) -> int | None:
        """The first block in which the tracker was fed a movement of ``address``."""
        rows = self._rows(
            "SELECT min(height) AS h FROM (SELECT height FROM taint_movements WHERE sender = ? "
            "UNION ALL SELECT height FROM taint_movements WHERE recipient = ?)", (address, address),
        )
        return rows[0]["h"] if rows and rows[0]["h"] is not None else None

    def add_inferred(self, row: InferredRow) -> None:
        self._exec(
            "INSERT OR REPLACE INTO taint_inferred (address, kind, evidence, height, at) VALUES (?, ?, ?, ?, ?)",
            (row.address, row.kind, json.dumps(row.evidence, sort_keys=True), row.height, to_db_time(row.at)),
        )

    def inferred(self) -> list[InferredRow]:
        if not self.has_v2:
            return []
        out = []
        for r in self._rows("SELECT * FROM taint_inferred ORDER BY height, address"):
            at = from_db_time(r["at"])
            assert at is not None
            out.append(InferredRow(r["address"], r["kind"], json.loads(r["evidence"]), r["height"], at))
        return out

    # -- totals ---------------------------------------------------------------------------

    def set_totals(self, rows: Iterable[TotalsRow]) -> None:
        self._store.connection.executemany(
            "INSERT OR REPLACE INTO taint_totals (model, seeded, at_rest, at_exchanges, left_other, burned, accounts, height) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(t.model.value, t.seeded_micro, t.at_rest_micro, t.at_exchanges_micro, t.left_other_micro,
              t.burned_micro, t.accounts, t.height) for t in rows],
        )

    def totals(self) -> list[TotalsRow]:
        order = {m.value: i for i, m in enumerate(MODELS)}
        rows = self._rows("SELECT * FROM taint_totals")
        out = [
            TotalsRow(Model(r["model"]), r["seeded"], r["at_rest"], r["at_exchanges"], r["left_other"], r["burned"],
                      r["accounts"], r["height"])
            for r in rows
        ]
        return sorted(out, key=lambda t: order[t.model.value])


__all__ = ["COMPONENT", "InferredRow", "Opening", "RuntimeSource", "TAINT_MIGRATIONS", "TaintTables", "TaintedAccountRow", "TotalsRow"]
