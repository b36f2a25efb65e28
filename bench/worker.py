"""One measured watcher, in its own process, so that its peak RSS is its own.

Started by ``bench/run.py``; not meant to be run by hand. Two modes:

``engine``
    The real engine (``core.engine.Engine`` over ``NisClient`` and a SQLite ``Store``) with a
    watch list of N addresses, backfill and balance passes off and no urgent address, so that
    it does what follows blocks: per cycle one ``heights()`` and one ``block_at`` per new block.
    The worker moves the simulated chain one block at a time (``POST /_sim/advance``, a control
    request the node neither logs nor delays), runs one cycle, then reads the node's request log
    (``GET /_sim/requests``) to count what that cycle asked: the count is the server's, not the
    client's. Processing time per block is measured inside the real code path: the JSON decode
    of the block answer (``codec.parse_json``), ``codec.parse_block`` (which recomputes every
    transaction hash) and the engine's ``_commit_block`` (match against the watch set, the
    alerts' rules, and the one SQLite transaction with block, transfers, alerts and cursor).
    Network wait and gzip inflation are outside it. Two warm-up blocks come first (the first
    blocks after a start also calibrate the rollback check with one re-read of the tip; they
    are reported apart), and a few cycles with no new block come last (one request each).

``baseline``
    A naive poller: per new block, ``GET /account/transfers/outgoing?address=A`` for every
    watched address A, ``--concurrency`` requests in flight, each answer decoded and its hashes
    compared with what was seen before. It is told for free when a block arrives (no height
    polling of its own), so its requests per block are exactly N. ``--sample S`` polls S of the
    N addresses (drawn at random) for the runs whose time per block is extrapolated.

The result is one JSON object written to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import current_rss_mb, peak_rss_mb, read_addresses, summary  # noqa: E402

import httpx  # noqa: E402

from nemwatch.core.engine import Engine, EngineSettings  # noqa: E402
from nemwatch.core.events import BlockProcessed, Event  # noqa: E402
from nemwatch.core.models import Network  # noqa: E402
from nemwatch.core.nem import codec  # noqa: E402
from nemwatch.core.nem.client import NisClient  # noqa: E402
from nemwatch.core.retry import RetryPolicy  # noqa: E402
from nemwatch.core.rules import WatchRule  # noqa: E402
from nemwatch.core.store import Store  # noqa: E402
from nemwatch.core.watchset import WatchSet  # noqa: E402

CONTROL_TIMEOUT = 120.0  # a block of the simulator is produced (and signed) on demand


class Control:
    """The simulator's ``/_sim/`` endpoints: move the chain, read the request log."""

    def __init__(self, url: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=CONTROL_TIMEOUT)
        self.index = 0

    async def state(self) -> dict[str, Any]:
        r = await self.http.get("/_sim/state")
        r.raise_for_status()
        return r.json()

    async def advance_to_height(self, height: int) -> int:
        r = await self.http.post("/_sim/advance", json={"height": height})
        r.raise_for_status()
        return int(r.json()["height"])

    async def requests_since_mark(self) -> list[dict[str, Any]]:
        """Requests the node logged since the last call (or since ``mark``)."""
        r = await self.http.get("/_sim/requests", params={"since": str(self.index)})
        r.raise_for_status()
        body = r.json()
        self.index = int(body["next"])
        return list(body["data"])

    async def mark(self) -> None:
        await self.requests_since_mark()

    async def aclose(self) -> None:
        await self.http.aclose()


def path_of(record: dict[str, Any]) -> str:
    return str(record["path"]).split("?", 1)[0]


# --- engine mode --------------------------------------------------------------------------------


class Timings:
    """Per-block processing times, taken by wrapping the real functions in place."""

    def __init__(self) -> None:
        self.last_json_s = 0.0
        self.parse: dict[int, tuple[float, float]] = {}  # height -> (json decode s, parse_block s)
        self.commit: dict[int, float] = {}  # height -> _commit_block s
        self.blocks: dict[int, BlockProcessed] = {}

    def install(self, engine: Engine) -> None:
        parse_json = codec.parse_json
        parse_block = codec.parse_block

        def timed_parse_json(raw: Any) -> Any:
            t = time.perf_counter()
            try:
                return parse_json(raw)
            finally:
                self.last_json_s = time.perf_counter() - t

        def timed_parse_block(obj: Any, height: int | None = None, network: Network = Network.MAINNET) -> Any:
            t = time.perf_counter()
            block = parse_block(obj, height, network)
            # the pool decodes an answer and hands it to the parser with no await in between,
            # so the decode just before belongs to this block
            self.parse[block.height] = (self.last_json_s, time.perf_counter() - t)
            return block

        codec.parse_json = timed_parse_json  # type: ignore[assignment]
        codec.parse_block = timed_parse_block  # type: ignore[assignment]

        commit = engine._commit_block

        def timed_commit(block: Any, head: int, stats: Any) -> None:
            t = time.perf_counter()
            commit(block, head, stats)
            self.commit[block.height] = time.perf_counter() - t

        engine._commit_block = timed_commit  # type: ignore[method-assign]

        def listen(event: Event) -> None:
            if isinstance(event, BlockProcessed):
                self.blocks[event.height] = event

        engine.subscribe(listen)


async def run_engine(args: argparse.Namespace) -> dict[str, Any]:
    rss_imports = current_rss_mb()
    t = time.perf_counter()
    addresses = read_addresses(Path(args.addresses), args.n)
    watch = WatchSet()
    for i, address in enumerate(addresses):
        watch.add(address, WatchRule(label=f"watched {i + 1}"))
    load_s = time.perf_counter() - t
    workdir = Path(tempfile.mkdtemp(prefix="nemwatch-bench-"))
    control = Control(args.url)
    client = NisClient(
        [args.url], Network.MAINNET, timeout=10.0, max_rps_per_node=20, burst=20,
        retry=RetryPolicy(attempts=2, backoff_base=0.05, backoff_max=0.2),
    )
    store = Store.open(workdir / "state.sqlite3")
    try:
        t = time.perf_counter()
        engine = Engine(
            source=client,
            store=store,
            watch=watch,
            settings=EngineSettings(backfill_per_cycle=0, balance_checks_per_cycle=0),
            clock=lambda: datetime.now(UTC),
        )
        init_s = time.perf_counter() - t  # includes recording every watched address in the store
        rss_ready = current_rss_mb()
        timings = Timings()
        timings.install(engine)

        await control.mark()
        first = await engine.cycle()  # no cursor yet: it starts at the current head
        height = first.head or int((await control.state())["height"])
        # Warm-up: the first blocks after a start also calibrate the rollback check (one re-read
        # of the tip until the computed block hashes are seen to chain) and fill caches.
        for _ in range(args.warmup):
            height = await control.advance_to_height(height + 1)
            await engine.cycle()
        warmup = await control.requests_since_mark()
        measured_from = height + 1
        cycles: list[dict[str, Any]] = []
        alerts: Counter[str] = Counter()
        for _ in range(args.blocks):
            height = await control.advance_to_height(height + 1)
            t = time.perf_counter()
            stats = await engine.cycle()
            cycle_s = time.perf_counter() - t
            logged = await control.requests_since_mark()
            for alert in stats.alerts:
                alerts[f"{alert.rule}/{alert.stage.value}"] += 1
            cycles.append(
                {
                    "head": stats.head,
                    "blocks": stats.blocks,
                    "requests": len(logged),
                    "paths": dict(Counter(path_of(r) for r in logged)),
                    "cycle_s": round(cycle_s, 4),
                    "alerts": len(stats.alerts),
                }
            )
        # cycles that find no new block: the cost of polling between blocks
        idle: list[int] = []
        for _ in range(args.idle):
            await engine.cycle()
            idle.append(len(await control.requests_since_mark()))
        per_block = []
        for h in sorted(x for x in timings.commit if x >= measured_from):
            json_s, parse_s = timings.parse.get(h, (0.0, 0.0))
            event = timings.blocks.get(h)
            commit_s = timings.commit[h]
            per_block.append(
                {
                    "height": h,
                    "transactions": event.transactions if event else None,
                    "matched": event.matched if event else None,
                    "json_ms": round(json_s * 1000, 3),
                    "parse_ms": round(parse_s * 1000, 3),
                    "commit_ms": round(commit_s * 1000, 3),
                    "total_ms": round((json_s + parse_s + commit_s) * 1000, 3),
                }
            )
        full = [b for b in per_block if b["transactions"] == args.full_block]
        new_blocks = sum(c["blocks"] for c in cycles)
        requests = sum(c["requests"] for c in cycles)
        return {
            "mode": "engine",
            "n": args.n,
            "watched": len(watch),
            "blocks": new_blocks,
            "requests": requests,
            "requests_per_block": round(requests / new_blocks, 3) if new_blocks else None,
            "max_requests_per_cycle": max((c["requests"] for c in cycles), default=None),
            "request_paths": dict(sum((Counter(c["paths"]) for c in cycles), Counter())),
            "idle_cycle_requests": idle,
            "warmup_blocks": args.warmup,
            "warmup_requests": len(warmup),
            "warmup_paths": dict(Counter(path_of(r) for r in warmup)),
            "full_blocks": len(full),
            "processing_ms": summary([b["total_ms"] for b in full]),
            "processing_parts_ms": {
                "json": summary([b["json_ms"] for b in full]),
                "parse_block": summary([b["parse_ms"] for b in full]),
                "commit": summary([b["commit_ms"] for b in full]),
            },
            "cycle_s": summary([c["cycle_s"] for c in cycles]),
            "matched_per_block": summary([b["matched"] for b in full if b["matched"] is not None], 1),
            "alerts": sum(alerts.values()),
            "alerts_by_kind": dict(sorted(alerts.items())),
            "load_s": round(load_s, 3),
            "engine_init_s": round(init_s, 3),
            "rss_mb": {"after_imports": rss_imports, "engine_ready": rss_ready, "peak": peak_rss_mb()},
            "per_block": per_block,
        }
    finally:
        await client.aclose()
        await control.aclose()
        store.close()
        shutil.rmtree(workdir, ignore_errors=True)


# --- baseline mode ------------------------------------------------------------------------------


async def sweep(
    http: httpx.AsyncClient, addresses: list[str], seen: dict[str, set[str]], concurrency: int, count: bool
) -> tuple[int, int]:
    """One request per address; returns (transfers not seen before, failed requests)."""
    queue = iter(addresses)
    new = 0
    failed = 0

    async def one_worker() -> None:
        nonlocal new, failed
        for address in queue:
            try:
                r = await http.get("/account/transfers/outgoing", params={"address": address})
                r.raise_for_status()
                page = codec.parse_json(r.content)
            except (httpx.HTTPError, codec.ParseError):
                failed += 1
                continue
            for item in page.get("data", []):
                tx_hash = item["meta"]["hash"]["data"]
                known = seen.setdefault(address, set())
                if tx_hash not in known:
                    known.add(tx_hash)
                    new += count
    await asyncio.gather(*(one_worker() for _ in range(concurrency)))
    return new, failed


async def run_baseline(args: argparse.Namespace) -> dict[str, Any]:
    addresses = read_addresses(Path(args.addresses), args.n)
    polled = addresses if args.sample >= args.n else random.Random(7).sample(addresses, args.sample)
    control = Control(args.url)
    http = httpx.AsyncClient(
        base_url=args.url, timeout=10.0,
        limits=httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency),
    )
    seen: dict[str, set[str]] = {}
    try:
        height = int((await control.state())["height"])
        t = time.perf_counter()
        _, prime_failed = await sweep(http, polled, seen, args.concurrency, count=False)
        prime_s = time.perf_counter() - t
        await control.mark()
        sweeps: list[dict[str, Any]] = []
        for _ in range(args.blocks):
            height = await control.advance_to_height(height + 1)
            t = time.perf_counter()
            new, failed = await sweep(http, polled, seen, args.concurrency, count=True)
            sweep_s = time.perf_counter() - t
            logged = await control.requests_since_mark()
            sweeps.append({"requests": len(logged), "seconds": round(sweep_s, 3), "detected": new, "failed": failed})
        requests = sum(s["requests"] for s in sweeps)
        blocks = len(sweeps)
        per_block_s = sum(s["seconds"] for s in sweeps) / blocks if blocks else None
        return {
            "mode": "baseline",
            "n": args.n,
            "polled": len(polled),
            "extrapolated": len(polled) < args.n,
            "concurrency": args.concurrency,
            "blocks": blocks,
            "requests": requests,
            "requests_per_block_measured": round(requests / blocks, 3) if blocks else None,
            "seconds_per_block_measured": round(per_block_s, 3) if per_block_s is not None else None,
            "requests_per_second": round(requests / sum(s["seconds"] for s in sweeps), 1) if blocks else None,
            "prime_seconds": round(prime_s, 3),
            "prime_failed": prime_failed,
            "detected": sum(s["detected"] for s in sweeps),
            "failed": sum(s["failed"] for s in sweeps),
            "rss_mb": {"peak": peak_rss_mb()},
            "sweeps": sweeps,
        }
    finally:
        await http.aclose()
        await control.aclose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("engine", "baseline"), required=True)
    p.add_argument("--url", required=True, help="the simulated node (http://127.0.0.1:PORT)")
    p.add_argument("--addresses", required=True, help="file: one address a line, the watch list is the first N")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--blocks", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2, help="engine: blocks followed before measuring")
    p.add_argument("--idle", type=int, default=2, help="engine: cycles with no new block, after the measured ones")
    p.add_argument("--full-block", type=int, default=120, help="transactions in a full block")
    p.add_argument("--sample", type=int, default=0, help="baseline: poll this many of the N (0: all)")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if args.sample <= 0:
        args.sample = args.n
    runner = run_engine if args.mode == "engine" else run_baseline
    result = asyncio.run(runner(args))
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
