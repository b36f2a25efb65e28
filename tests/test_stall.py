"""Never silent: a watcher that cannot follow the chain raises a critical ``stalled`` alert to
every sink, with the cause, and ``resolved`` once it follows again."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakechain import FakeChain, transfer
from nemwatch.core.alert import Severity
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.rules import WatchRule
from nemwatch.core.stall import StallWatch
from nemwatch.core.store import Store
from nemwatch.core.watchset import WatchSet
from test_engine import HOT, THIEF, Clock


QUIET = {"backfill_per_cycle": 0, "balance_checks_per_cycle": 0, "sinks": ("stdout", "journal")}


def make(tmp_path: Path, chain: FakeChain, **settings: object) -> Engine:
    return Engine(
        source=chain,
        store=Store.open(tmp_path / "state.sqlite3"),
        watch=WatchSet({HOT: WatchRule(label="hot wallet")}),
        settings=EngineSettings(**{**QUIET, **settings}),  # type: ignore[arg-type]
        clock=Clock(),
    )


def stalls(engine: Engine) -> list[tuple[str, str]]:
    return [(a.stage.value, a.summary) for a in reversed(engine.store.recent_alerts(1000)) if a.rule == "stalled"]


async def cycles(engine: Engine, n: int) -> int:
    """Run ``n`` cycles; return how many failed."""
    failed = 0
    for _ in range(n):
        try:
            await engine.cycle()
        except Exception:
            failed += 1
    return failed


async def test_every_node_down_is_a_stall_and_a_critical_node_alert(tmp_path: Path) -> None:
    a, b = "http://127.0.0.1:1", "http://127.0.0.1:2"
    chain = FakeChain(tip=5, nodes=(a, b))
    engine = make(tmp_path, chain, min_severity=Severity.CRITICAL)
    await engine.cycle()
    chain.node_heights[a] = ConnectionRefusedError("connection refused")
    await cycles(engine, 3)
    node = [x for x in engine.store.recent_alerts(100) if x.rule == "node"]
    assert [x.severity for x in node] == [Severity.WARNING]  # one node left: not yet blind
    assert stalls(engine) == []
    chain.node_heights[b] = RuntimeError("HTTP 503: NIS_ILLEGAL_STATE_LOADING_CHAIN")
    await cycles(engine, 2)
    assert stalls(engine) == []  # two failed cycles: within the allowance
    await cycles(engine, 5)
    (firing,) = stalls(engine)
    assert firing[0] == "firing"
    assert "3 cycles in a row failed" in firing[1] and "503" in firing[1] and "refused" in firing[1]
    node = sorted((x.severity.value, x.node) for x in engine.store.recent_alerts(100) if x.rule == "node")
    assert node == [("critical", b), ("warning", a)]
    chain.node_heights.clear()
    chain.tip = 6
    await engine.cycle()
    assert [s for s, _ in stalls(engine)] == ["firing", "resolved"]
    # to every sink, whatever min_severity: the resolved one is info, yet queued like the firing one
    for alert in [x for x in engine.store.recent_alerts(100) if x.rule == "stalled"]:
        assert sorted(r.sink for r in engine.store.outbox_rows(alert.alert_id)) == ["journal", "stdout"]
        assert dict(alert.extra)["episode"] == 1


async def test_forged_blocks_stall_the_watcher_loudly(tmp_path: Path) -> None:
    chain = FakeChain(tip=5)
    engine = make(tmp_path, chain)
    await engine.cycle()
    chain.forgers[chain.nodes[0]] = [transfer(HOT, THIEF, 999, tag="invented")]
    chain.tip = 6
    assert await cycles(engine, 3) == 3
    (firing,) = stalls(engine)
    assert "ForgedBlockError" in firing[1] and "signature" in firing[1]
    (alert,) = [x for x in engine.store.recent_alerts(10) if x.rule == "stalled"]
    assert alert.severity is Severity.CRITICAL and dict(alert.extra)["failed_cycles"] == 3


async def test_a_fork_deeper_than_nis_can_rewrite_stalls(tmp_path: Path) -> None:
    chain = FakeChain(tip=10)
    engine = make(tmp_path, chain)
    await engine.cycle()
    for tip in range(11, 420, 100):
        chain.tip = tip
        await engine.cycle()
    chain.tip = 500
    await cycles(engine, 3)
    assert engine.store.get_cursor("chain").height == 500  # type: ignore[union-attr]
    chain.branch[20] = "impossible"  # everything from height 20 on: 481 blocks rewritten
    chain.tip = 501
    assert await cycles(engine, 3) == 3
    (firing,) = stalls(engine)
    assert "DeepRollbackError" in firing[1] and "360" in firing[1]


async def test_a_cursor_that_does_not_catch_up_is_a_stall(tmp_path: Path) -> None:
    chain = FakeChain(tip=10)
    # a follower that commits one block per cycle (two copies each: no catch-up fast path)
    engine = make(tmp_path, chain, max_blocks_per_cycle=1, catchup_after_blocks=0)
    await engine.cycle()
    chain.tip = 30  # a backlog of 20: caught up one block per cycle while the head stands still
    await cycles(engine, 12)
    assert stalls(engine) == []  # the gap shrinks every cycle: catching up is not stalling
    for _ in range(4):  # now the head runs away faster than the cursor follows
        chain.tip += 3
        await engine.cycle()
    (firing,) = stalls(engine)
    assert "behind the head" in firing[1]
    for _ in range(30):
        await engine.cycle()
    assert [s for s, _ in stalls(engine)] == ["firing", "resolved"]


async def test_a_stall_survives_a_restart_and_still_resolves(tmp_path: Path) -> None:
    chain = FakeChain(tip=5)
    engine = make(tmp_path, chain)
    await engine.cycle()
    chain.node_heights[chain.nodes[0]] = RuntimeError("down")
    await cycles(engine, 4)
    assert [s for s, _ in stalls(engine)] == ["firing"]
    engine.store.close()
    engine = make(tmp_path, chain)
    await cycles(engine, 4)
    assert [s for s, _ in stalls(engine)] == ["firing"]  # the same episode: no second firing
    chain.node_heights.clear()
    await engine.cycle()
    assert [s for s, _ in stalls(engine)] == ["firing", "resolved"]
    chain.node_heights[chain.nodes[0]] = RuntimeError("down again")
    await cycles(engine, 4)
    ids = [a.alert_id for a in engine.store.recent_alerts(100) if a.rule == "stalled"]
    assert len(ids) == 3 and len(set(ids)) == 3  # a new episode has new ids


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        (["fail", "fail", "ok", "fail", "fail"], []),  # never three in a row
        (["fail"] * 3, ["stalled"]),
        (["fail"] * 3 + ["ok"], ["stalled", "recovered"]),
        (["fail"] * 7 + ["ok"] * 3, ["stalled", "recovered"]),
    ],
)
def test_stall_watch_counts_failures_in_a_row(outcomes: list[str], expected: list[str]) -> None:
    watch = StallWatch()
    kinds = []
    for outcome in outcomes:
        change = watch.observe(error="boom" if outcome == "fail" else None, head=100, cursor=100)
        if change is not None:
            kinds.append(change.kind)
    assert kinds == expected
