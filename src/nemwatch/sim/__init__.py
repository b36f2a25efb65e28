"""A local NIS1 node simulator: real HTTP nodes on 127.0.0.1 over a scenario-driven chain.

Transactions are built, signed and hashed with the official NEM SDK, so their hashes and
signatures are genuine; blocks are produced lazily from an injectable clock; faults are set
per node from Python or over HTTP (``/_sim/fault``). The core never imports this package.

    from nemwatch.sim import ManualClock, SimCluster, load_scenario

    scenario = load_scenario("coincheck-2018")
    with SimCluster.start(scenario, nodes=3, clock=ManualClock(scenario.start)) as sim:
        sim.advance_to(...); sim.urls; sim.nodes[0].faults.error(503, count=2)
"""

from nemwatch.sim.chain import Chain, RollbackReport
from nemwatch.sim.clock import ManualClock, ScaledClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.faults import Faults
from nemwatch.sim.node import RequestRecord, SimNode
from nemwatch.sim.plan import CompiledScenario, PlannedTx, compile_scenario
from nemwatch.sim.scenario import (
    AccountSpec,
    MosaicSpec,
    Role,
    ScaleSpec,
    Scenario,
    ScenarioBuilder,
    ScenarioError,
    TransferSpec,
)
from nemwatch.sim.scenario_toml import builtin_names, load_scenario

__all__ = [
    "AccountSpec",
    "Chain",
    "CompiledScenario",
    "Faults",
    "ManualClock",
    "MosaicSpec",
    "PlannedTx",
    "RequestRecord",
    "Role",
    "RollbackReport",
    "ScaleSpec",
    "ScaledClock",
    "Scenario",
    "ScenarioBuilder",
    "ScenarioError",
    "SimCluster",
    "SimNode",
    "TransferSpec",
    "builtin_names",
    "compile_scenario",
    "load_scenario",
]
