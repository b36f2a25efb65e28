"""Demo chase benchmark: how long ``nemwatch demo --headless --until end`` takes, and how fast the
engine follows the simulator when it starts behind (catch-up).

    .venv/bin/python bench/demo_chase.py                 # both (about 4 minutes on 2 cores)
    .venv/bin/python bench/demo_chase.py --catchup-only --blocks 1440

The chase runs the real command in a fresh process (wall time, alert lines by rule and stage).
Catch-up starts an engine ``--blocks`` blocks behind the ``coincheck-2018`` simulator (one node,
in-process) and cycles until it reaches the head. The client's per-node rate limit (at most
20 requests/s, one request per block) would cap any catch-up at 20 blocks/s, so its bucket is
given a clock that lets every request through: the figure is what the client, codec, engine
and store cost per block, with the simulator's own work on the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def chase(speed: str | None) -> dict[str, object]:
    cmd = [str(Path(sys.executable).parent / "nemwatch"), "demo", "--headless", "--until", "end"]
    if speed is not None:
        cmd += ["--speed", speed]
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    wall = time.perf_counter() - began
    counts = collections.Counter()
    for line in done.stdout.splitlines():
        alert = json.loads(line)
        counts[f"{alert['rule']}/{alert['stage']}"] += 1
    return {"command": " ".join(["nemwatch", *cmd[1:]]), "wall_s": round(wall, 1),
            "alerts": sum(counts.values()), "by_rule": dict(sorted(counts.items()))}


async def _catchup(blocks: int) -> dict[str, object]:
    from nemwatch import demo
    from nemwatch.core.engine import Engine, EngineSettings
    from nemwatch.core.models import Network
    from nemwatch.core.nem.client import NisClient
    from nemwatch.core.store import Store
    from nemwatch.sim.clock import ManualClock
    from nemwatch.sim.cluster import SimCluster
    from nemwatch.sim.scenario_toml import load_scenario

    scenario = load_scenario("coincheck-2018")
    clock = ManualClock(scenario.start)
    with SimCluster.start(scenario, nodes=1, clock=clock) as sim, tempfile.TemporaryDirectory() as tmp:
        clock.advance(scenario.block_interval * blocks)
        sim.height  # the simulator makes its blocks before the clock starts  # noqa: B018
        client = NisClient(sim.urls, Network.MAINNET, max_rps_per_node=20, burst=20,
                           clock=lambda: time.monotonic() * 1000)  # the bucket never binds
        engine = Engine(
            source=client, store=Store.open(Path(tmp) / "bench.sqlite3", synchronous="NORMAL"),
            watch=demo._watchset(sim, scenario),
            settings=EngineSettings(backfill_per_cycle=0, balance_checks_per_cycle=0, unconfirmed_poll_seconds=0,
                                    sinks=(), start_height=scenario.start_height + 1, max_blocks_per_cycle=200),
            clock=clock.now, taint=demo.demo_taint(sim, scenario),
        )
        began, cpu, followed, alerts, cycles = time.perf_counter(), time.process_time(), 0, 0, 0
        try:
            while True:
                stats = await engine.cycle()
                cycles += 1
                followed += stats.blocks
                alerts += len(stats.alerts)
                if stats.head is not None and stats.cursor is not None and stats.cursor >= stats.head:
                    break
        finally:
            await client.aclose()
            engine.store.close()
        wall = time.perf_counter() - began
        return {"blocks": followed, "cycles": cycles, "alerts": alerts, "wall_s": round(wall, 2),
                "cpu_s": round(time.process_time() - cpu, 2), "blocks_per_s": round(followed / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=1440, help="how far behind catch-up starts (default: a day)")
    parser.add_argument("--catchup-only", action="store_true")
    parser.add_argument("--speed", default=None, help="--speed for the chase (default: the demo's own)")
    args = parser.parse_args()
    report: dict[str, object] = {"catchup": asyncio.run(_catchup(args.blocks))}
    print(json.dumps(report["catchup"]), flush=True)
    if not args.catchup_only:
        report["chase"] = chase(args.speed)
        print(json.dumps(report["chase"]), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "demo_chase.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
