"""The whole coincheck-2018 scenario as blocks fed straight to an engine (no node, no HTTP):
every scheduled transfer, with the scenario's addresses, grouped into one block per minute of
its announcement, committed through the engine's own block path (taint hook, matching, store).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from nemwatch.core.alert import Alert
from nemwatch.core.engine import CycleStats, Engine, EngineSettings
from nemwatch.core.models import Block, Message, MessageType, MosaicAmount, Transfer
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.taintwatch import TaintSettings, TaintWatch
from nemwatch.core.watchset import WatchSet
from nemwatch.sim.scenario_toml import load_scenario
from simfixtures import coincheck
from taintsim import EXCHANGES

FEE = 50_000


class NoNode:
    """The engine never asks a node for blocks here: they are handed to it."""

    async def heights(self) -> dict[str, int]:
        return {}


def _transfer(n: int, spec: Any, addr: Any, height: int) -> Transfer:
    text = spec.message.decode("utf-8") if spec.message is not None else None
    return Transfer(
        hash=f"{n:064x}", inner_hash=None, height=height, meta_id=None, sender=addr(spec.sender),
        sender_public_key="00" * 32, initiator=None, fee=FEE, nem_timestamp=0, timestamp=spec.at, deadline=0,
        version=2 if spec.mosaics else 1, signature=None, recipient=addr(spec.recipient), amount=spec.xem,
        xem=spec.xem, mosaics=tuple(MosaicAmount(*mid.split(":", 1), q) for mid, q in spec.mosaics),
        message=None if text is None else Message(MessageType.PLAIN, text.encode(), text),
    )


def scenario_blocks(until: datetime | None = None) -> Iterator[Block]:
    """The scenario's transfers, one block per minute they fall in, in chain order."""
    scenario = load_scenario("coincheck-2018")
    addr = coincheck().address
    specs = sorted(scenario.transfers, key=lambda t: t.at)
    groups: dict[int, list[Any]] = {}
    for spec in specs:
        if until is not None and spec.at > until:
            break
        minute = int((spec.at - scenario.start).total_seconds() // 60) + 1
        groups.setdefault(minute, []).append(spec)
    n = 0
    for minute in sorted(groups):
        height = scenario.start_height + minute
        txs = []
        for spec in groups[minute]:
            n += 1
            txs.append(_transfer(n, spec, addr, height))
        when = scenario.start + timedelta(minutes=minute)
        yield Block(height, 0, when, "00" * 32, "", "", "", 1, 0, tuple(txs))


@dataclass
class Fed:
    engine: Engine
    alerts: list[Alert]
    now: list[datetime]

    def rule(self, rule: str) -> list[Alert]:
        return [a for a in self.alerts if a.rule == rule]

    def close(self) -> None:
        self.engine.store.close()


def feed(tmp: Path, settings: TaintSettings, until: datetime | None = None) -> Fed:
    """An engine with ``settings`` fed the scenario's blocks; every alert it raised."""
    addr = coincheck().address
    ws = WatchSet({addr("coincheck-hot-wallet"): WatchRule(label="Coincheck hot wallet", urgent=True)})
    for x in EXCHANGES:
        ws.labels[addr(x)] = (x, "exchange")
    clock = [load_scenario("coincheck-2018").start]
    engine = Engine(
        source=NoNode(),  # type: ignore[arg-type]
        store=Store.open(tmp / "nemwatch.sqlite3", synchronous="NORMAL"),
        watch=ws,
        settings=EngineSettings(sinks=()),
        clock=lambda: clock[0],
        taint=TaintWatch(settings),
    )
    alerts: list[Alert] = []
    for block in scenario_blocks(until):
        clock[0] = block.timestamp + timedelta(seconds=5)
        stats = CycleStats()
        engine._commit_block(block, block.height, stats)
        alerts += stats.alerts
    return Fed(engine, alerts, clock)
