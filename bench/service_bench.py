"""The cost of the DEFAULT configuration shape users run, priced at one block a minute.

    python bench/service_bench.py            # all three parts (about 20 minutes on 2 cores)
    python bench/service_bench.py --quick    # short runs (the smoke test runs this)

The shape: three simulated nodes, the hot wallet watched and ``urgent``, 1,001 watched addresses
(the hot wallet and 1,000 synthetic ones), backfill and balance checks at their defaults
(``backfill_pages = 20``, ``balance_check_seconds = 600``), built from a config file by
``Service.build`` and driven by ``service_loop.run_service`` exactly as ``nemwatch watch`` does
(the follower and its side tasks; prices off: they go to exchanges, not nodes). The simulator
runs in this process; requests are counted at the simulated nodes' request logs.

1. ``cost``: the chain at one block a minute of simulated time, sped up ``--speed`` times
   (the watcher's clock and sleeps are the simulator's, so its polls happen at their
   simulated pace). First the initial backfill of the 1,001 addresses runs (reported apart:
   its requests and the blocks it spanned), then ``--blocks`` blocks of steady state:
   requests per block split into height polls, balance reads (batch + the height check after
   it), block reads, pool reads, backfill and other. Once at ``poll_seconds = 5`` (the default)
   and once at 1 s. ``max_requests_per_second`` is 20 (the cap) so that the real-time rate
   limit does not throttle the sped-up clock.
   Each with the websocket push on (the default: REST requests per block as above, and the
   websocket's connections and messages counted apart) and off (polling alone).
2. ``latency``: real time (speed 1), ``poll_seconds = 1``, blocks ``--interval`` s apart, one
   outflow of the hot wallet in each; the time from the block's due time to the alert's JSON
   line written by the stdout sink. Three runs: "quiet" (backfill off, no other sink) and "busy"
   (the default backfill of 1,001 fresh addresses running, and a webhook sink that takes 30 s
   per delivery) with the push on, and "quiet" with the push off. The busy median must equal
   the quiet one.
3. ``catchup``: the watcher stopped, the chain moved one day (1,440 blocks), the follower
   restarted with the default rate limit (5 requests per second per node): blocks per second
   until it is at the head again (``Engine.cycle`` back to back, as ``watch`` runs it while
   behind), (a) when the nodes serve ``/local/chain/blocks-after`` (one's own nodes) and (b)
   when none does (public nodes: 401), and both again at 20 per second (the cap).

    python bench/service_bench.py --only catchup     # one part (repeat --only for several)

The report goes to ``bench/results/service_latest.json`` and a summary to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import summary, synthetic_addresses  # noqa: E402

from nemwatch.config import load_config  # noqa: E402
from nemwatch.core.nem import nemtime  # noqa: E402
from nemwatch.service import Service  # noqa: E402
from nemwatch.service_loop import run_service  # noqa: E402
from nemwatch.sim import ManualClock, ScaledClock, ScenarioBuilder, SimCluster  # noqa: E402
from nemwatch.sim.scenario import TransferSpec  # noqa: E402

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
WATCHED = 1001


def scenario(interval: int):  # type: ignore[no-untyped-def]
    b = ScenarioBuilder("service-bench", START, block_interval=interval)
    b.account("hot", "hot_wallet", xem=10_000_000)
    b.account("sink", "user")
    for i in range(8):  # some traffic of the hot wallet, so its backfill has a page to read
        b.transfer(10 + i, "hot", "sink", xem=1 + i)
    return b.build()


def write_config(path: Path, sim: SimCluster, *, poll: float, rps: float, backfill_pages: int = 20,
                 sinks: tuple[str, ...] = ("stdout",), push: bool = True) -> None:
    nodes = ", ".join(f'"{u}"' for u in sim.urls)
    lines = ["[network]", f"nodes = [{nodes}]", f"poll_seconds = {poll}", f"max_requests_per_second = {rps}",
             f"backfill_pages = {backfill_pages}", f"push = {'true' if push else 'false'}", "",
             "[[watch]]", f'address = "{sim.address("hot")}"', 'label = "hot wallet"', "urgent = true", ""]
    for i, address in enumerate(synthetic_addresses(WATCHED - 1, seed=5)):
        lines += ["[[watch]]", f'address = "{address}"', f'label = "deposit {i}"', ""]
    lines += ["[state]", f'dir = "{path.parent / (path.stem + "-state")}"', "",
              "[price]", "sources = []", "", "[alerts]", "sinks = [" + ", ".join(f'"{s}"' for s in sinks) + "]", ""]
    path.write_text("\n".join(lines))


def category(path: str) -> str:
    p = path.split("?", 1)[0]
    return {
        "/chain/height": "height",
        "/block/at/public": "block",
        "/local/chain/blocks-after": "block",
        "/account/get/batch": "balance",
        "/account/get": "balance",
        "/account/unconfirmedTransactions": "pool",
        "/transactions/unconfirmed": "pool",
    }.get(p, "backfill" if p.startswith("/account/transfers/") else "other")


def push_counts(sim: SimCluster) -> Counter[str]:
    """The websocket push's counters summed over the nodes (apart from the REST request log)."""
    out: Counter[str] = Counter()
    for node in sim.nodes:
        stats = node.push.stats
        out.update({"connections": stats.connections, "refused": stats.refused, "messages": stats.messages})
    return out


class Requests:
    """Request counts of every node of a cluster since the last ``take``."""

    def __init__(self, sim: SimCluster) -> None:
        self.sim = sim
        self.seen = [0] * len(sim.nodes)

    def take(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for i, node in enumerate(self.sim.nodes):
            records = node.requests
            out.update(category(r.path) for r in records[self.seen[i]:])
            self.seen[i] = len(records)
        return out


def scaled(service: Service, speed: float) -> None:
    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / speed)

    service.engine.sleep = sleep
    service.engine.task_sleep = sleep


async def wait_for(predicate: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return bool(predicate())


# --- 1. cost per block ----------------------------------------------------------------------


async def cost_run(work: Path, *, poll: float, speed: float, blocks: int, push: bool = True) -> dict[str, Any]:
    with SimCluster.start(scenario(60), nodes=3, clock=ScaledClock(START + timedelta(minutes=5), speed)) as sim:
        config = work / f"cost-{poll}-{push}.toml"
        write_config(config, sim, poll=poll, rps=20, push=push)
        service = Service.build(load_config(config), clock=sim.clock.now, stdout=io.StringIO(), price=False)
        scaled(service, speed)
        engine = service.engine
        counter = Requests(sim)
        stop = asyncio.Event()
        task = asyncio.create_task(run_service(service, stop))
        try:
            h0, t0 = sim.height, time.monotonic()
            done = await wait_for(lambda: engine.backfiller.todo == [], timeout=600)
            backfill = counter.take()
            backfill_blocks = sim.height - h0
            backfill_s = time.monotonic() - t0
            polls0 = engine.heightpoll.requests
            pool0 = engine.pool.requests
            pushed0 = engine.heightpoll.pushes
            ws0 = push_counts(sim)
            start_height = sim.height
            await wait_for(lambda: sim.height >= start_height + blocks, timeout=blocks * 60 / speed + 60)
            await asyncio.sleep(1.0 / speed)  # the last block's reads
            steady = counter.take()
            measured = sim.height - start_height
            height_polls = engine.heightpoll.requests - polls0
            ws = push_counts(sim) - ws0
            pushed_heights = engine.heightpoll.pushes - pushed0
            live_at_end = sum(service.push.hub.live(n) for n in service.client.nodes) if service.push else 0
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=60)
            await service.close()
    per_block = {k: round(v / measured, 2) for k, v in sorted(steady.items())}
    balance_heights = max(0, steady["height"] - height_polls)
    split = {
        "height_polls": round(height_polls / measured, 2),
        "balance_reads": round((steady["balance"] + balance_heights) / measured, 2),
        "block_reads": round(steady["block"] / measured, 2),
        "pool": round(steady["pool"] / measured, 2),
        "backfill": round(steady["backfill"] / measured, 2),
        "other": round(steady["other"] / measured, 2),
    }
    return {
        "poll_seconds": poll,
        "speed": speed,
        "nodes": 3,
        "watched": WATCHED,
        "backfill_finished": done,
        "initial_backfill": {"requests": dict(backfill), "blocks_spanned": backfill_blocks,
                             "wall_s": round(backfill_s, 1)},
        "blocks": measured,
        "push": push,
        "requests_per_block": round(sum(steady.values()) / measured, 2),  # REST only
        "split_per_block": split,
        # the websocket, apart: connections opened and MESSAGE frames sent by the three nodes
        # during the steady blocks, and the pushed heights the height poll took as answers
        "websocket": {"connections": ws["connections"], "refused": ws["refused"],
                      "messages_per_block": round(ws["messages"] / measured, 2),
                      "heights_taken_per_block": round(pushed_heights / measured, 2),
                      "nodes_live_at_end": live_at_end},
        "paths_per_block": per_block,
        "pool_reads": engine.pool.requests - pool0,
    }


# --- 2. detection latency ------------------------------------------------------------------


class TimedLines(io.TextIOBase):
    """A stdout for the stdout sink: each JSON line with the wall time it was written."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, dict[str, Any]]] = []
        self._buf = ""

    def write(self, text: str) -> int:
        self._buf += text
        while "\n" in self._buf:
            line, self._buf = self._buf.split("\n", 1)
            try:
                self.lines.append((time.time(), json.loads(line)))
            except ValueError:
                pass
        return len(text)

    def flush(self) -> None:
        return None


class SlowHook(BaseHTTPRequestHandler):
    delay = 30.0

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(self.delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


async def latency_run(work: Path, *, busy: bool, blocks: int, interval: int, push: bool = True) -> dict[str, Any]:
    hook = ThreadingHTTPServer(("127.0.0.1", 0), SlowHook)
    hook.daemon_threads = True
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    clock = ScaledClock(START + timedelta(seconds=20 * interval), 1.0)
    try:
        with SimCluster.start(scenario(interval), nodes=3, clock=clock) as sim:
            config = work / f"latency-{busy}-{push}.toml"
            sinks = ("stdout", f"webhook+http://127.0.0.1:{hook.server_address[1]}/hook") if busy else ("stdout",)
            write_config(config, sim, poll=1, rps=5, backfill_pages=20 if busy else 0, sinks=sinks, push=push)
            out = TimedLines()
            service = Service.build(load_config(config), clock=sim.clock.now, stdout=out, price=False)  # type: ignore[arg-type]
            stop = asyncio.Event()
            task = asyncio.create_task(run_service(service, stop))
            try:
                await asyncio.sleep(3.0)  # first cycles; the busy run's backfill is under way
                first = sim.height + 1
                submitted: dict[str, int] = {}
                for h in range(first, first + blocks):
                    due = nemtime.to_datetime(sim.chain.block_time(h))
                    at = max(due - timedelta(seconds=interval / 2), clock.now())
                    tx = sim.submit(TransferSpec(at, "hot", "sink", xem=1000 + h - first))
                    submitted[tx.hash] = h
                offset = time.time() - clock.now().timestamp()
                last_due = nemtime.to_datetime(sim.chain.block_time(first + blocks - 1)).timestamp() + offset

                def seen() -> dict[str, tuple[float, dict[str, Any]]]:
                    found: dict[str, tuple[float, dict[str, Any]]] = {}
                    for at_, alert in list(out.lines):
                        if alert.get("rule") == "outflow" and alert.get("stage") == "confirmed" and alert.get("tx_hash") in submitted:
                            found.setdefault(alert["tx_hash"], (at_, alert))
                    return found

                await wait_for(lambda: len(seen()) >= len(submitted), timeout=last_due - time.time() + 20)
                backfill_left = len(service.engine.backfiller.todo or [])
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=60)
                # the hanging webhook is left out of the final delivery of close(): it would wait on it
                service.dispatcher._sinks.pop(next((n for n in service.dispatcher.sink_names if n != "stdout"), ""), None)
                await service.close()
            samples = []
            for at_, alert in seen().values():
                h = int(alert["height"])
                due_at = nemtime.to_datetime(sim.chain.block_time(h)).timestamp() + offset
                samples.append(round(at_ - due_at, 3))
    finally:
        hook.shutdown()
    return {
        "busy": busy,
        "push": push,
        "poll_seconds": 1,
        "block_interval_s": interval,
        "alerts_expected": blocks,
        "alerts_seen": len(samples),
        "latency_s": summary(samples),
        "backfill_addresses_left_at_end": backfill_left,
        "sinks": list(sinks),
    }


# --- 3. catch-up ---------------------------------------------------------------------------


async def catchup_run(work: Path, *, rps: float, behind: int, public: bool = False) -> dict[str, Any]:
    """``public``: every node refuses blocks-after (401), so each block is one /block/at/public."""
    clock = ManualClock(START + timedelta(minutes=5))
    with SimCluster.start(scenario(60), nodes=3, clock=clock, public=public) as sim:
        config = work / f"catchup-{rps}-{'public' if public else 'own'}.toml"
        write_config(config, sim, poll=5, rps=rps)
        service = Service.build(load_config(config), clock=sim.clock.now, stdout=io.StringIO(), price=False)
        engine = service.engine
        engine.tasks_apart = True  # the follower alone, as the service runs it
        await engine.cycle()
        start = engine.store.get_cursor("chain").height  # type: ignore[union-attr]
        sim.advance(behind * 60)
        target = sim.height
        sim.chain.block(target)  # the simulator makes its blocks on first use: not timed
        counter = Requests(sim)
        t0 = time.perf_counter()
        cycles = 0
        while engine.store.get_cursor("chain").height < target and cycles < 10_000:  # type: ignore[union-attr]
            await engine.cycle()
            cycles += 1
        wall = time.perf_counter() - t0
        reqs = counter.take()
        fast_requests = engine.catchup.requests
        await service.close()
    caught = target - start
    return {"max_requests_per_second": rps, "nodes": 3, "blocks_after": not public, "blocks": caught,
            "wall_s": round(wall, 2), "blocks_per_s": round(caught / wall, 1), "cycles": cycles,
            "requests": dict(reqs), "requests_per_block": round(sum(reqs.values()) / caught, 3),
            "fast_path_requests": fast_requests}


# --- report ----------------------------------------------------------------------------------


PARTS = ("cost", "latency", "catchup")
# (requests per second per node, nodes public): blocks-after served (one's own nodes) or refused
CATCHUP_RUNS = ((5.0, False), (5.0, True), (20.0, False), (20.0, True))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="nemwatch service benchmark: the default shape at one block a minute")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--speed", type=float, default=10.0, help="simulated seconds per real second (cost part)")
    p.add_argument("--blocks", type=int, default=None, help="steady blocks measured (default 20, quick 3)")
    p.add_argument("--latency-blocks", type=int, default=None, help="default 12, quick 3")
    p.add_argument("--interval", type=int, default=8, help="block interval of the latency runs, s")
    p.add_argument("--behind", type=int, default=None, help="blocks behind for catch-up (default 1440, quick 60)")
    p.add_argument("--watched", type=int, default=1001, help="watched addresses (the default shape: 1001)")
    p.add_argument("--only", action="append", choices=PARTS, help="run only this part (repeatable)")
    p.add_argument("--push", choices=("both", "on", "off"), default="both",
                   help="cost part: with the websocket push on (the default config), off (polling alone), or both")
    p.add_argument("--out", default=str(HERE / "results" / "service_latest.json"))
    a = p.parse_args(argv)
    global WATCHED
    WATCHED = max(1, a.watched)
    blocks = a.blocks or (3 if a.quick else 20)
    lat_blocks = a.latency_blocks or (3 if a.quick else 12)
    behind = a.behind or (60 if a.quick else 1440)
    started = time.time()

    async def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="nemwatch-svc-bench-") as tmp:
            work = Path(tmp)
            only = set(a.only or PARTS)
            polls = ((5.0,) if a.quick else (5.0, 1.0)) if "cost" in only else ()
            cost = []
            pushes = {"both": (True, False), "on": (True,), "off": (False,)}[a.push]
            for push in pushes:  # the websocket push on (the default), then off: polling alone
                for poll in polls:
                    print(f"cost: poll {poll} s, push {'on' if push else 'off'}, {blocks} blocks at speed {a.speed:g} ...",
                          flush=True)
                    cost.append(await cost_run(work, poll=poll, speed=a.speed, blocks=blocks, push=push))
            latency = []
            for busy, push in ((False, True), (True, True), (False, False)) if "latency" in only else ():
                print(f"latency: {'busy' if busy else 'quiet'}, push {'on' if push else 'off'}, {lat_blocks} blocks "
                      f"of {a.interval} s ...", flush=True)
                latency.append(await latency_run(work, busy=busy, blocks=lat_blocks, interval=a.interval, push=push))
            catchup = []
            for rps, public in (CATCHUP_RUNS[:2] if a.quick else CATCHUP_RUNS) if "catchup" in only else ():
                kind = "public nodes (no blocks-after)" if public else "blocks-after served"
                print(f"catch-up: {behind} blocks behind, {rps:g} requests/s per node, {kind} ...", flush=True)
                catchup.append(await catchup_run(work, rps=rps, behind=behind, public=public))
            return {"cost": cost, "latency": latency, "catchup": catchup}

    parts = asyncio.run(run())
    report = {
        "command": "python bench/service_bench.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(terse=True)},
        "shape": {"default": WATCHED == 1001, "nodes": 3, "watched": WATCHED, "urgent": 1, "backfill_pages": 20, "balance_check_seconds": 600},
        **parts,
        "duration_s": round(time.time() - started, 1),
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    for c in report["cost"]:
        print(f"cost, poll {c['poll_seconds']} s, push {'on' if c['push'] else 'off'}: {c['requests_per_block']} REST "
              f"requests/block {c['split_per_block']}; websocket {c['websocket']}; "
              f"initial backfill {c['initial_backfill']}")
    for lat in report["latency"]:
        print(f"latency {'busy' if lat['busy'] else 'quiet'}, push {'on' if lat['push'] else 'off'}: "
              f"{lat['alerts_seen']}/{lat['alerts_expected']} alerts, {lat['latency_s']}")
    for c in report["catchup"]:
        kind = "blocks-after served" if c["blocks_after"] else "public nodes"
        print(f"catch-up at {c['max_requests_per_second']:g} req/s per node, {kind}: {c['blocks']} blocks in "
              f"{c['wall_s']} s, {c['blocks_per_s']} blocks/s, {c['requests_per_block']} requests/block")
    print(f"report: {out} ({report['duration_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
