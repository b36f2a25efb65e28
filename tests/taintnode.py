"""Blocks handed straight to an engine (its own block path), with a node that answers the
per-account reads (balances, histories, owned mosaics) from the whole list of blocks, so that
the engine's backfill, balance pass and taint follow-up run as they do against a real node.
A transfer can be hidden from the block stream (the engine never sees it) while the node's
balances and histories still hold it: a missed hop, a paging gap."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from nemwatch.core.alert import Alert
from nemwatch.core.engine import CycleStats, Engine, EngineSettings
from nemwatch.core.models import AccountInfo, Block, MosaicAmount, Transaction
from nemwatch.core.store import Store
from nemwatch.core.taintwatch import TaintSettings, TaintWatch
from nemwatch.core.watchset import WatchSet


class BlocksNode:
    """The chain state at ``height`` over ``blocks`` (opening balances in ``initial``)."""

    def __init__(self, blocks: list[Block], initial: dict[str, int] | None = None) -> None:
        self.blocks = blocks
        self.initial = initial or {}
        self.height = 0
        self.reads: list[tuple[str, str]] = []

    def _txs(self, address: str) -> list[Transaction]:
        return [
            tx for b in self.blocks if b.height <= self.height for tx in b.transactions
            if address in (tx.sender, getattr(tx, "recipient", None))
        ]

    async def heights(self) -> dict[str, int]:
        return {"blocks": self.height}

    async def chain_height(self, *, node: str | None = None) -> int:
        return self.height

    async def account(self, address: str, *, node: str | None = None) -> AccountInfo:
        self.reads.append(("account", address))
        balance = self.initial.get(address, 0)
        for tx in self._txs(address):
            if tx.sender == address:
                balance -= getattr(tx, "xem", 0) + tx.fee
            if getattr(tx, "recipient", None) == address:
                balance += getattr(tx, "xem", 0)
        return AccountInfo(address, balance, balance, 0.0, None, None, 0, None)

    async def transfers(
        self, address: str, direction: str = "all", *, page_size: int = 100, until_hash: str | None = None,
        max_pages: int | None = None,
    ) -> list[Transaction]:
        self.reads.append(("transfers", address))
        txs = list(reversed(self._txs(address)))  # newest first, like NIS
        return txs[: page_size * max_pages] if max_pages else txs

    async def mosaics_owned(self, address: str, *, node: str | None = None) -> tuple[MosaicAmount, ...]:
        self.reads.append(("owned", address))
        return ()


@dataclass
class Run:
    engine: Engine
    node: BlocksNode
    alerts: list[Alert]

    def rule(self, rule: str) -> list[Alert]:
        return [a for a in self.alerts if a.rule == rule]

    def close(self) -> None:
        self.engine.store.close()


async def run_blocks(
    tmp: Path, blocks: Iterable[Block], settings: TaintSettings, watch: WatchSet, *,
    hide: Collection[str] = (), initial: dict[str, int] | None = None, backfill_max_pages: int = 20,
) -> Run:
    """Feed ``blocks`` (those of ``hide``'s identities left out of the stream), and after each
    one run the engine's backfill, balance pass and taint follow-up against a ``BlocksNode``."""
    every = list(blocks)
    node = BlocksNode(every, initial)
    clock = [every[0].timestamp]
    engine = Engine(
        source=node,  # type: ignore[arg-type]
        store=Store.open(tmp / "nemwatch.sqlite3", synchronous="NORMAL"),
        watch=watch,
        settings=EngineSettings(sinks=(), backfill_per_cycle=5, backfill_max_pages=backfill_max_pages,
                                balance_checks_per_cycle=50, balance_check_seconds=600),
        clock=lambda: clock[0],
        taint=TaintWatch(settings),
    )
    alerts: list[Alert] = []
    for block in every:
        clock[0] = block.timestamp + timedelta(seconds=5)
        node.height = block.height
        seen = replace(block, transactions=tuple(t for t in block.transactions if t.identity not in hide))
        stats = CycleStats()
        engine._commit_block(seen, block.height, stats)
        await engine._backfill_pass(block.height)
        await engine._balance_pass(block.height, stats)
        assert engine.taint is not None
        await engine.taint.on_cycle(block.height, stats)
        alerts += stats.alerts
    return Run(engine, node, alerts)
