"""Store benchmark: the per-cycle queries on a state database the size of a busy year.

Builds a store with 1,000,000 transfers and 600,000 alerts (bulk insert at the oldest schema
version the benchmark knows, then the normal upgrade, timed), and times every query the engine,
the delivery loop and the dashboard run each cycle: median and p95 of repeated runs, and the
plan SQLite picked (``SCAN`` means a full scan). Then one retention prune, timed.

    .venv/bin/python bench/store_bench.py                       # full size (about 2 minutes)
    .venv/bin/python bench/store_bench.py --transfers 20000 --alerts 12000 --repeat 5   # quick

The JSON report goes to ``bench/results/store.json`` (not committed), a table to stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import synthetic_addresses  # noqa: E402

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id  # noqa: E402
from nemwatch.core.query import ReadModel  # noqa: E402
from nemwatch.core.store import Store  # noqa: E402
from nemwatch.core.store.migrations import migrate  # noqa: E402
from nemwatch.core.store.rows import to_db_time  # noqa: E402
from nemwatch.core.store.schema import COMPONENT, CORE_MIGRATIONS  # noqa: E402
from nemwatch.core.store.settling import cursors_with_prefix, due_for_settlement  # noqa: E402
from nemwatch.core.rules import WatchRule  # noqa: E402
from nemwatch.core.watchset import WatchSet  # noqa: E402

BUILD_VERSION = 4  # the schema the bulk insert writes; the upgrade to the current one is timed
TARGET_MS = 5.0
GENESIS = datetime(2025, 1, 1, tzinfo=UTC)
SINKS = ("stdout", "journal")
SETTLE_AFTER = 20
BLOCK_WINDOW = 400


def _chunks(rows: list[Any], size: int = 50_000) -> list[list[Any]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def build(path: Path, n_transfers: int, n_alerts: int, n_accounts: int = 1000, seed: int = 2018) -> dict[str, Any]:
    """A store at schema ``BUILD_VERSION`` holding a year of a busy chain's matched traffic.

    Two transfers per block; about one in 5,000 is still unconfirmed (the newest), one in 2,000
    retracted. Alerts come in pairs (confirmed, then settled) for the oldest transfers; those of
    the newest ``SETTLE_AFTER`` blocks are confirmed only (due for settlement soon). Every alert
    has a delivered outbox row per sink, except the newest 50 alerts (pending).
    """
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    migrate(conn, COMPONENT, CORE_MIGRATIONS, target=BUILD_VERSION)
    addresses = synthetic_addresses(n_accounts, seed)
    head = n_transfers // 2 + 1
    unconfirmed_from = n_transfers - max(1, n_transfers // 5000)
    transfers, identities = [], []
    for i in range(n_transfers):
        height = 1 + i // 2
        when = GENESIS + timedelta(minutes=height)
        sender, recipient = rng.sample(addresses, 2)
        status = "unconfirmed" if i >= unconfirmed_from else ("retracted" if rng.random() < 0.0005 else "confirmed")
        identity = f"{i:064x}"
        identities.append((identity, height, sender, when))
        transfers.append((
            identity, identity, None, None if status == "unconfirmed" else height, sender, recipient, None,
            rng.randrange(1, 10**12), 50_000, "[]", None, None, to_db_time(when), status, to_db_time(when),
        ))
    conn.execute("BEGIN")
    for chunk in _chunks(transfers):
        conn.executemany(
            "INSERT INTO transfers (identity, hash, inner_hash, height, sender, recipient, initiator, xem, fee, "
            "mosaics, message, message_type, tx_time, status, first_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            chunk,
        )
    conn.execute("COMMIT")
    template = Alert(
        alert_id="x", rule="outflow", stage=Stage.CONFIRMED, severity=Severity.WARNING, detected_at=GENESIS,
        summary="outflow of 1,000 XEM", address=addresses[0], counterparty=addresses[1], amount=10**9, fee=50_000,
        tx_hash="x", height=1, confirmations=1, tx_time=GENESIS,
    ).to_json_dict()
    confirmed_only_from = head - SETTLE_AFTER
    pairs = identities[-(n_alerts // 2) :] if n_alerts // 2 <= len(identities) else identities
    alerts, outbox = [], []
    for identity, height, sender, when in pairs:
        stages = [Stage.CONFIRMED] if height >= confirmed_only_from else [Stage.CONFIRMED, Stage.SETTLED]
        for stage in stages:
            detected = when + timedelta(minutes=SETTLE_AFTER if stage is Stage.SETTLED else 0)
            alert_id = make_alert_id("mainnet", "outflow", identity, stage)
            data = dict(template, alert_id=alert_id, stage=stage.value, tx_hash=identity, height=height,
                        address=sender, detected_at=detected.isoformat().replace("+00:00", "Z"))
            alerts.append((alert_id, "outflow", stage.value, "warning", sender, identity,
                           json.dumps(data, separators=(",", ":")), to_db_time(detected)))
    newest_pending = {a[0] for a in alerts[-50:]}
    for a in alerts:
        for sink in SINKS:
            if a[0] in newest_pending:
                outbox.append((a[0], sink, "pending", 0, a[7], None, None))
            else:
                outbox.append((a[0], sink, "delivered", 1, a[7], None, a[7]))
    conn.execute("BEGIN")
    for chunk in _chunks(alerts):
        conn.executemany(
            "INSERT INTO alerts (alert_id, rule, stage, severity, address, identity, json, created_at) "
            "VALUES (?,?,?,?,?,?,?,?)", chunk,
        )
    for chunk in _chunks(outbox):
        conn.executemany(
            "INSERT INTO outbox (alert_id, sink, state, attempts, next_attempt_at, last_error, settled_at) "
            "VALUES (?,?,?,?,?,?,?)", chunk,
        )
    conn.executemany(
        "INSERT INTO blocks (height, hash, prev_hash, signature, timestamp) VALUES (?,?,?,?,?)",
        [(h, f"{h:064x}", f"{h - 1:064x}", "00" * 64, to_db_time(GENESIS + timedelta(minutes=h)))
         for h in range(max(1, head - BLOCK_WINDOW), head + 1)],
    )
    conn.executemany(
        "INSERT INTO accounts (address, label, urgent, balance, balance_height, added_at) VALUES (?,?,?,?,?,?)",
        [(a, None, int(i < 10), 10**12, head - 100, to_db_time(GENESIS)) for i, a in enumerate(addresses)],
    )
    conn.executemany(
        "INSERT INTO cursors (name, height, hash) VALUES (?,?,?)",
        [("chain", head, f"{head:064x}"), *[(f"backfill:{a}", head, None) for a in addresses],
         ("node:http://127.0.0.1:7890", 0, "ok")],
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"head": head, "addresses": addresses, "alerts": len(alerts), "outbox": len(outbox),
            "now": GENESIS + timedelta(minutes=head + 1)}


def timed(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    t0 = time.perf_counter()
    fn()  # warm the page cache and the statement cache
    if time.perf_counter() - t0 > 0.2:
        repeat = min(repeat, 3)  # a slow query: a few runs tell its cost
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p95_ms": samples[min(len(samples) - 1, int(len(samples) * 0.95))],
            "max_ms": samples[-1]}


def plan(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> str:
    rows = conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return "; ".join(str(r[3]) for r in rows)


class _Tracer:
    """Collects the SQL a call runs, to show its query plans."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn, self.seen = conn, []

    def __enter__(self) -> _Tracer:
        self.conn.set_trace_callback(self.seen.append)
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.set_trace_callback(None)

    def plans(self) -> list[str]:
        out = []
        for sql in self.seen:
            if sql.lstrip().upper().startswith(("SELECT", "WITH")):
                try:
                    out.append(plan(self.conn, sql, ()))
                except sqlite3.Error:
                    continue
        return out


def queries(store: Store, info: dict[str, Any]) -> dict[str, Callable[[], object]]:
    head, now, addresses = info["head"], info["now"], info["addresses"]
    watch = WatchSet({a: WatchRule(urgent=i < 10) for i, a in enumerate(addresses)})
    model = ReadModel(store, watch=watch, clock=lambda: now)
    sample = f"{info['transfers'] - 5000:064x}"
    many = [*addresses, *synthetic_addresses(9000, 7)]  # the 1,000 that moved and 9,000 that never did
    return {
        "chain cursor": lambda: store.get_cursor("chain"),
        "unconfirmed transfers": store.unconfirmed_transfers,
        "due for settlement": lambda: due_for_settlement(store, head - SETTLE_AFTER + 1),
        "outbox pending (per sink)": lambda: store.pending_deliveries(now, 100, sinks=["stdout"]),
        "outbox next attempt (per sink)": lambda: store.next_attempt_at(["stdout"]),
        "backfill cursors": lambda: cursors_with_prefix(store, "backfill:"),
        "node cursors": lambda: cursors_with_prefix(store, "node:"),
        "transfer by identity": lambda: store.get_transfer(sample),
        "alerts of a transfer": lambda: store.alerts_for_identity(sample),
        "watched account": lambda: store.account(addresses[0]),
        "newest block": lambda: store.recent_blocks(1),
        "rollback check (transfers from head-5)": lambda: store.transfers_from(head - 5),
        "read model: first page of alerts": lambda: model.alerts(limit=50),
        "read model: alert counts": model.alert_counts,
        "read model: first page of transfers": lambda: model.transfers(limit=50),
        "read model: transfers of an address": lambda: model.transfers(addresses[3], limit=50),
        "read model: transfer count": model.transfer_count,
        "read model: watched accounts (1,000)": model.watched,
        "read model: last moves (10,000 addresses)": lambda: model.last_moves(many),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--alerts", type=int, default=600_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "store.json")
    parser.add_argument("--keep", type=Path, help="build the store here and keep it (default: a temp dir)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "nemwatch.sqlite3"
        t0 = time.perf_counter()
        info = build(path, args.transfers, args.alerts)
        info["transfers"] = args.transfers
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        store = Store.open(path)
        upgrade_s = time.perf_counter() - t0
        report: dict[str, Any] = {
            "transfers": args.transfers, "alerts": info["alerts"], "outbox_rows": info["outbox"],
            "build_s": round(build_s, 1), "upgrade_s": round(upgrade_s, 2),
            "schema_version": store.schema_version(), "file_mb": round(path.stat().st_size / 1e6, 1),
            "target_ms": TARGET_MS, "queries": {},
        }
        for name, fn in queries(store, info).items():
            with _Tracer(store.connection) as tracer:
                fn()
            result = timed(fn, args.repeat)
            result["plans"] = tracer.plans()
            report["queries"][name] = result
            print(f"  {name}: {result['median_ms']:.2f} ms", file=sys.stderr, flush=True)
        prune = getattr(__import__("nemwatch.core.store.retention", fromlist=["x"]), "prune_once", None) \
            if _has_module("nemwatch.core.store.retention") else None
        if prune is not None:
            t0 = time.perf_counter()
            removed = prune(store, info["now"])
            report["prune"] = {"seconds": round(time.perf_counter() - t0, 2), "removed": removed}
        store.close()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"store: {report['transfers']:,} transfers, {report['alerts']:,} alerts, {report['outbox_rows']:,} outbox rows, "
          f"{report['file_mb']} MB; built in {report['build_s']} s, upgraded to v{report['schema_version']} "
          f"in {report['upgrade_s']} s")
    print(f"{'query':44} {'median':>9} {'p95':>9}  plan")
    slow = 0
    for name, r in report["queries"].items():
        scan = any(full_scan(p) for p in r["plans"])
        slow += r["p95_ms"] > TARGET_MS
        print(f"{name:44} {r['median_ms']:8.2f}ms {r['p95_ms']:8.2f}ms  {'FULL SCAN ' if scan else ''}"
              + " | ".join(r["plans"])[:110])
    if "prune" in report:
        print(f"retention prune: {report['prune']['seconds']} s, removed {report['prune']['removed']}")
    print(f"{slow} of {len(report['queries'])} queries above {TARGET_MS} ms at p95")
    return 0


def full_scan(plan_text: str) -> bool:
    """A plan step that reads a whole table (not an index, not the schema, not a subquery)."""
    for step in plan_text.split("; "):
        m = re.fullmatch(r"SCAN (\w+)", step.strip())
        if m and m.group(1) != "sqlite_master":
            return True
    return False


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    sys.exit(main())
