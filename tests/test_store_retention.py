"""Retention: old rows go, what is still needed stays, and a year of a busy chain stays flat.
Every test runs on a fake clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nemwatch.config import config_from_data
from nemwatch.config.errors import ConfigError
from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.store import BlockRow, Store, TransferRow, TransferStatus
from nemwatch.core.store.retention import Pruner, RetentionPolicy, prune
from nemwatch.core.store.taint import TaintTables

T0 = datetime(2018, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
A, B, TAINTED, CHECKED = ("N" + c * 39 for c in "ABTC")


def transfer(name: str, day: float, *, height: int | None = 1, sender: str = A, recipient: str = B,
             status: TransferStatus = TransferStatus.CONFIRMED) -> TransferRow:
    when = T0 + day * DAY
    return TransferRow(identity=name, hash=name, inner_hash=None, height=height, sender=sender, recipient=recipient,
                       xem=1, fee=1, tx_time=when, status=status, first_seen=when)


def alert(name: str, day: float, stage: Stage = Stage.SETTLED) -> Alert:
    return Alert(alert_id=make_alert_id("mainnet", "outflow", name, stage), rule="outflow", stage=stage,
                 severity=Severity.WARNING, detected_at=T0 + day * DAY, summary=name, address=A, tx_hash=name)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "nemwatch.sqlite3", synchronous="NORMAL")
    yield s
    s.close()


def identities(store: Store) -> set[str]:
    return {r[0] for r in store.connection.execute("SELECT identity FROM transfers")}


def alert_names(store: Store) -> set[str]:
    return {r[0] for r in store.connection.execute("SELECT identity FROM alerts")}


def test_old_rows_go_and_what_is_needed_stays(store: Store) -> None:
    now = T0 + 200 * DAY
    # the chain window: blocks 500..510 are kept for rollback
    for h in range(500, 511):
        store.record_block(BlockRow(h, f"h{h}", f"h{h - 1}", "sig", T0 + 199 * DAY))
    store.upsert_account(CHECKED, label=None, urgent=False, now=T0)
    store.set_balance(CHECKED, 10, 300)  # the reconciler adds up what came after height 300
    TaintTables(store)
    store.connection.execute(
        "INSERT INTO taint_accounts (address, source, hop, model, hop_height, marked_height, tainted_at, marked_at) "
        "VALUES (?, ?, 1, 'poison', 1, 1, '2018-01-01T00:00:00.000000Z', '2018-01-01T00:00:00.000000Z')",
        (TAINTED, TAINTED),
    )
    rows = [
        transfer("old", 1),
        transfer("old-retracted", 1, status=TransferStatus.RETRACTED),
        transfer("recent", 150),
        transfer("pool", 1, height=None, status=TransferStatus.UNCONFIRMED),
        transfer("in-window", 1, height=505),
        transfer("waits", 1, height=400),
        transfer("tainted", 1, sender=TAINTED),
        transfer("reconciled", 1, height=301, recipient=CHECKED),
        transfer("below-balance", 1, height=299, recipient=CHECKED),
    ]
    for row in rows:
        store.upsert_transfer(row)
    store.add_alerts([alert("waits", 1, Stage.CONFIRMED)], [])  # no settled stage yet
    store.add_alerts([alert("delivered-old", 1), alert("pending-old", 1), alert("dead-young", 1),
                      alert("dead-old", 1), alert("fresh", 195)], ["stdout"])
    at = {
        "delivered-old": ("delivered", T0 + DAY), "dead-young": ("dead", T0 + 150 * DAY),
        "dead-old": ("dead", T0 + 2 * DAY), "fresh": ("delivered", T0 + 196 * DAY),
    }
    for name, (state, when) in at.items():
        alert_id = alert(name, 0).alert_id
        (store.mark_delivered if state == "delivered" else lambda a, s, t: store.mark_dead(a, s, "gone", t))(
            alert_id, "stdout", when
        )
        store.journal_record(alert_id, 100, when)
    store.acknowledge_alerts([alert("delivered-old", 0).alert_id], T0 + 2 * DAY)

    report = prune(store, RetentionPolicy(), now)

    assert identities(store) == {"recent", "pool", "in-window", "waits", "tainted", "reconciled"}
    assert alert_names(store) == {"waits", "pending-old", "dead-young", "fresh"}
    assert report.transfers == 3 and report.alerts == 2 and report.dead_letters == 1
    assert store.outbox_counts() == {"pending": 1, "delivered": 1, "dead": 1}
    # journal records of pruned alerts go, except the newest (the recovery scan starts at its end)
    journal = {r[0] for r in store.connection.execute("SELECT alert_id FROM journal")}
    assert alert("delivered-old", 0).alert_id not in journal and alert("fresh", 0).alert_id in journal
    assert store.acknowledged([alert("delivered-old", 0).alert_id]) == set()
    assert store.integrity_check() == "ok"
    assert prune(store, RetentionPolicy(), now).total == 0  # nothing left to do


def test_delivered_rows_go_before_their_alert_but_each_sink_keeps_its_newest(store: Store) -> None:
    store.add_alerts([alert("a", 1), alert("b", 2)], ["stdout", "journal"])
    for name, day in (("a", 1), ("b", 2)):
        for sink in ("stdout", "journal"):
            store.mark_delivered(alert(name, 0).alert_id, sink, T0 + day * DAY)
    prune(store, RetentionPolicy(), T0 + 30 * DAY)
    left = {(r.alert_id, r.sink) for r in store.outbox_rows()}
    assert left == {(alert("b", 0).alert_id, "stdout"), (alert("b", 0).alert_id, "journal")}
    assert alert_names(store) == {"a", "b"}  # the alerts stay for alerts_days


def test_zero_days_keeps_forever_and_short_retention_is_refused(store: Store) -> None:
    store.upsert_transfer(transfer("old", 1))
    store.add_alerts([alert("old", 1)], [])
    policy = RetentionPolicy.from_days(transfers_days=0, alerts_days=0, delivered_days=0, dead_letter_days=0)
    assert prune(store, policy, T0 + 5000 * DAY).total == 0
    assert identities(store) == {"old"}
    with pytest.raises(ValueError, match="at least 2 days"):
        RetentionPolicy(transfers=timedelta(hours=12))


def test_a_year_of_a_busy_chain_stays_flat(store: Store) -> None:
    """Every simulated day brings 20 transfers, 5 alerts and their deliveries; a pruner on the same
    fake clock keeps the tables at the retention window's worth, not a year's."""
    clock = [T0]
    pruner = Pruner(store, RetentionPolicy(every=DAY), lambda: clock[0])
    sizes = []
    for day in range(365):
        with store.transaction():
            for i in range(20):
                store.upsert_transfer(transfer(f"d{day}-{i}", day + i / 100, height=day * 1440 + i))
            added = store.add_alerts([alert(f"d{day}-{i}", day) for i in range(5)], ["stdout"])
            for a in added:
                store.mark_delivered(a.alert_id, "stdout", a.detected_at)
        store.record_block(BlockRow(day * 1440 + 100, f"h{day}", "p", "sig", T0 + day * DAY))
        clock[0] = T0 + (day + 1) * DAY
        pruner.maybe_prune()
        sizes.append(store.connection.execute("SELECT count(*) FROM transfers").fetchone()[0])
    assert max(sizes) <= 92 * 20 and sizes[-1] == sizes[200]  # flat after the first 90 days
    counts = store.outbox_counts()
    assert len(alert_names(store)) <= 92 * 5 and counts["delivered"] <= 9 * 5
    assert pruner.totals.transfers >= 270 * 20 and pruner.totals.alerts >= 270 * 5


def test_pruner_runs_when_due_and_stops(store: Store) -> None:
    clock = [T0 + 100 * DAY]
    store.upsert_transfer(transfer("old", 1))
    pruner = Pruner(store, RetentionPolicy(every=timedelta(hours=1)), lambda: clock[0])
    assert pruner.maybe_prune() is not None and identities(store) == set()
    store.upsert_transfer(transfer("old2", 2))
    assert pruner.maybe_prune() is None  # not due yet
    clock[0] += timedelta(hours=1)
    assert pruner.maybe_prune() is not None and identities(store) == set()

    async def run() -> int:
        stop = asyncio.Event()
        passes = []

        async def fake_sleep(seconds: float) -> None:
            clock[0] += timedelta(seconds=seconds)
            passes.append(pruner.last)
            if len(passes) >= 120:
                stop.set()

        await pruner.run(stop, sleep=fake_sleep, check_seconds=60)
        return len(set(passes))

    assert asyncio.run(run()) == 2  # 2 hours of fake time, one pass an hour


def test_retention_config_is_validated_and_documented() -> None:
    cfg = config_from_data({"retention": {"transfers_days": 0, "alerts_days": 30}})
    policy = cfg.retention.policy()
    assert policy.transfers is None and policy.alerts == timedelta(days=30)
    assert config_from_data({}).retention.policy() == RetentionPolicy()  # defaults match the core's
    for bad in ({"transfers_days": 1}, {"delivered_days": -1}, {"prune_every_minutes": 0}, {"keep_days": 3}):
        with pytest.raises(ConfigError):
            config_from_data({"retention": bad})
    example = (Path(__file__).parents[1] / "config.example.toml").read_text()
    section = example.split("[retention]", 1)[1].split("\n[", 1)[0]
    for key in type(cfg.retention).model_fields:
        assert f"\n{key} = " in section, key
