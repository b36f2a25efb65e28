"""Run N simulated nodes that share one chain, in-process (tests) or from ``nemwatch sim``.

::

    with SimCluster.start(scenario, nodes=3, clock=ManualClock(start)) as sim:
        sim.urls                      # ["http://127.0.0.1:41001", ...]
        sim.nodes[1].faults.lag(30)   # one node 30 blocks behind
        sim.advance(600)              # ten simulated minutes: ten more blocks
        sim.rollback(5, "drop")       # rewrite the last five blocks, on every node

A node can leave the shared chain with ``sim.nodes[i].fork()`` (its rollbacks then stay its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from nemwatch.sim.chain import BlockSealer, Chain, RollbackMode, RollbackReport, seal_block
from nemwatch.sim.clock import ScaledClock, SimClock
from nemwatch.sim.node import SimNode
from nemwatch.sim.plan import CompiledScenario, PlannedTx, compile_scenario
from nemwatch.sim.scenario import Scenario, TransferSpec


class SimCluster:
    def __init__(
        self,
        scenario: Scenario | CompiledScenario,
        *,
        nodes: int = 1,
        clock: SimClock | None = None,
        host: str = "127.0.0.1",
        ports: Sequence[int] | None = None,
        id_offsets: Sequence[int] | None = None,
        hash_retention_hours: float | None = 36,
        sealer: BlockSealer = seal_block,
        market: bool = False,
        market_port: int = 0,
        public: bool | Sequence[int] = False,
    ) -> None:
        """``public``: nodes configured as public nodes (True for every node, or their indexes):
        their trusted API (``/local/*``, e.g. ``blocks-after``) answers 401."""
        if nodes < 1:
            raise ValueError("at least one node")
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the simulator serves on the loopback interface only")
        self.compiled = scenario if isinstance(scenario, CompiledScenario) else compile_scenario(scenario)
        self.scenario = self.compiled.scenario
        self.clock: SimClock = clock or ScaledClock(self.scenario.start, self.scenario.speed)
        self.chain = Chain(self.compiled, self.clock, sealer=sealer)
        ports = list(ports) if ports else [0] * nodes
        if len(ports) != nodes:
            raise ValueError("give one port per node")
        offsets = list(id_offsets) if id_offsets else [0] * nodes
        self.nodes: list[SimNode] = []
        self.market_server: Any = None
        self._market_started = False
        try:
            for i in range(nodes):
                self.nodes.append(
                    SimNode(self, i, self.chain, host=host, port=ports[i], id_offset=offsets[i],
                            hash_retention_hours=hash_retention_hours)
                )
            public_nodes = set(range(nodes)) if public is True else set(public or ())
            for i in public_nodes:
                self.nodes[i].api.public = True
            if market and self.scenario.price_path and self.scenario.price_trades_per_minute > 0:
                from nemwatch.sim.market import Market, MarketServer

                self.market_server = MarketServer(Market.from_scenario(self.scenario, self.clock), host, market_port)
        except OSError:
            self.stop()
            raise

    @classmethod
    def start(cls, scenario: Scenario | CompiledScenario, **kw: Any) -> SimCluster:
        cluster = cls(scenario, **kw)
        for node in cluster.nodes:
            node.start()
        if cluster.market_server is not None:
            cluster.market_server.start()
            cluster._market_started = True
        return cluster

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        if self.market_server is not None:
            if self._market_started:
                self.market_server.stop()
            else:
                self.market_server.server.server_close()
            self.market_server = None

    def __enter__(self) -> SimCluster:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- conveniences -----------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def market_url(self) -> str | None:
        """The price API (``market=True`` and a scenario with a price path), else None."""
        return self.market_server.url if self.market_server is not None else None

    @property
    def height(self) -> int:
        return self.chain.sync()

    def address(self, label: str) -> str:
        return self.compiled.address(label)

    def advance(self, seconds: float) -> int:
        return self.chain.advance(seconds)

    def advance_to(self, when: datetime) -> int:
        return self.chain.advance_to(when)

    def mine_until(self, height: int) -> int:
        return self.chain.mine_until(height)

    def rollback(self, depth: int, mode: RollbackMode = "reinclude", **kw: Any) -> RollbackReport:
        return self.chain.rollback(depth, mode, **kw)

    def submit(self, spec: TransferSpec) -> PlannedTx:
        return self.chain.submit(spec)
