"""The engine benchmark: requests per block, processing per full block, peak RSS, detection latency.

    python bench/run.py            # the full run (about 8 minutes on 2 cores); `make bench`
    python bench/run.py --quick    # smallest size, a few blocks (the smoke test runs this)

Against the local simulator with injected latency (50 ms per request by default), for each
watch-list size N (10, 1,000, 10,000, 100,000):

- the engine, in a fresh ``bench/worker.py`` process (so its peak RSS is its own), follows
  full blocks (120 transfers) and reports requests per new block (counted in the simulated
  node's request log), processing time per full block (block JSON decode + ``parse_block`` +
  match and store commit; network wait excluded) and peak RSS;
- a naive baseline, in another fresh process against its own fresh simulator, polls
  ``/account/transfers/outgoing`` for every watched address once per new block. It runs for
  real up to ``--baseline-max`` addresses; above that it polls a random sample of that many
  and its time per block is extrapolated linearly (its requests per block are N by
  construction).

Then ``nemwatch watch`` itself runs in a subprocess (poll_seconds = 1, stdout sink) against a
simulator in real time with a short block interval and one watched outflow per block; the
detection latency is the wall time a JSON line was read minus the wall time its block became
due (the block's time stamp mapped through the simulator's clock).

The report goes to ``bench/results/latest.json`` and a table to stdout. The simulator runs in
this process (threads); every child process is killed at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import summary, synthetic_addresses  # noqa: E402

from nemwatch.core.nem import nemtime  # noqa: E402
from nemwatch.sim import ManualClock, ScaledClock, ScenarioBuilder, SimCluster, compile_scenario  # noqa: E402
from nemwatch.sim.plan import CompiledScenario  # noqa: E402
from nemwatch.sim.scenario import TransferSpec  # noqa: E402

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
FULL_BLOCK = 120
BLOCK_INTERVAL = 60
SENDERS = 300
REAL_WATCHED = 10
WARMUP_BLOCKS = 2

TARGETS = {
    "requests_per_block_max": 2,
    "processing_ms_at_largest": 50.0,
    "rss_mb_max": 150.0,
    "latency_median_s": 1.5,
}


# --- child processes ------------------------------------------------------------------------


class Children:
    """Every subprocess started here, so that all of them can be killed at the end."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[Any]] = []

    def start(self, cmd: list[str], **kw: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(cmd, start_new_session=True, **kw)
        self.procs.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=grace)

    def kill_all(self) -> None:
        for proc in self.procs:
            self.kill(proc, grace=3.0)


CHILDREN = Children()


def _stop_on_signal(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- scenarios ------------------------------------------------------------------------------


def full_blocks_scenario(blocks: int, seed: int = 7) -> CompiledScenario:
    """``blocks`` blocks of exactly 120 transfers among 300 accounts (signed by the SDK).

    Batch b is announced between 5 and 34 s after the time stamp of block b + 1, so block b + 2
    (60 s later) takes all 120. Senders and recipients are drawn at random, so each of the first
    ten accounts (the real part of every watch list) sends and receives about 0.4 transfers a
    block: the watched matches are the same at every N.
    """
    rng = random.Random(seed)
    b = ScenarioBuilder("bench-full-blocks", START, block_interval=BLOCK_INTERVAL, max_block_transactions=FULL_BLOCK)
    labels = [f"a{i:03d}" for i in range(SENDERS)]
    for label in labels:
        b.account(label, "user", xem=1_000_000)
    for block in range(blocks):
        for k in range(FULL_BLOCK):
            sender = rng.choice(labels)
            recipient = rng.choice(labels)
            while recipient == sender:
                recipient = rng.choice(labels)
            message = f"bench {block}/{k}" if rng.random() < 0.1 else None
            b.transfer(block * BLOCK_INTERVAL + 5 + k // 4, sender, recipient, xem=rng.randint(1, 1000), message=message)
    return compile_scenario(b.build())


def write_addresses(path: Path, compiled: CompiledScenario, count: int) -> list[str]:
    """The watch lists: the first REAL_WATCHED scenario accounts, then synthetic addresses."""
    real = [compiled.address(f"a{i:03d}") for i in range(REAL_WATCHED)]
    synthetic = synthetic_addresses(max(0, count - len(real)))
    addresses = real + synthetic
    path.write_text("\n".join(addresses) + "\n")
    return addresses


def check_sample(addresses: list[str], k: int = 200) -> int:
    from nemwatch.core.nem import address as nem_address

    sample = random.Random(1).sample(addresses, min(k, len(addresses)))
    for a in sample:
        nem_address.validate(a)
    return len(sample)


# --- the worker runs --------------------------------------------------------------------------


@dataclass
class Settings:
    sizes: list[int]
    blocks: int
    baseline_blocks: int
    baseline_max: int
    concurrency: int
    latency_ms: float
    latency_blocks: int
    latency_interval: int
    latency_watch: int
    worker_timeout: float
    quick: bool


def run_worker(compiled: CompiledScenario, args: list[str], work: Path, latency_ms: float, timeout: float) -> dict[str, Any]:
    """Start a fresh simulator (this process, threads) and a fresh worker process against it."""
    out = work / f"worker-{time.monotonic_ns()}.json"
    err = work / f"worker-{time.monotonic_ns()}.log"
    with SimCluster.start(compiled, nodes=1, clock=ManualClock(START)) as sim:
        sim.nodes[0].faults.latency(latency_ms)
        cmd = [sys.executable, str(HERE / "worker.py"), "--url", sim.urls[0], "--out", str(out), *args]
        with err.open("w") as errfile:
            proc = CHILDREN.start(cmd, stdout=errfile, stderr=subprocess.STDOUT)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                CHILDREN.kill(proc)
                raise RuntimeError(f"worker {' '.join(args)} did not finish within {timeout:g} s") from None
    if code != 0 or not out.exists():
        tail = err.read_text()[-3000:]
        raise RuntimeError(f"worker {' '.join(args)} failed (exit {code}):\n{tail}")
    return json.loads(out.read_text())


def engine_run(compiled: CompiledScenario, addresses: Path, n: int, s: Settings, work: Path) -> dict[str, Any]:
    args = ["--mode", "engine", "--addresses", str(addresses), "--n", str(n), "--blocks", str(s.blocks),
            "--warmup", str(WARMUP_BLOCKS), "--full-block", str(FULL_BLOCK)]
    return run_worker(compiled, args, work, s.latency_ms, s.worker_timeout)


def baseline_run(compiled: CompiledScenario, addresses: Path, n: int, s: Settings, work: Path) -> dict[str, Any]:
    sample = min(n, s.baseline_max)
    args = ["--mode", "baseline", "--addresses", str(addresses), "--n", str(n), "--sample", str(sample),
            "--blocks", str(s.baseline_blocks), "--concurrency", str(s.concurrency)]
    result = run_worker(compiled, args, work, s.latency_ms, s.worker_timeout)
    polled = result["polled"]
    measured_s = result["seconds_per_block_measured"]
    result["requests_per_block"] = n  # one request per watched address per block, by construction
    result["seconds_per_block"] = round(measured_s * n / polled, 2) if measured_s is not None else None
    result["basis"] = "measured" if polled == n else f"extrapolated linearly from a {polled}-address sample"
    return result


# --- detection latency ------------------------------------------------------------------------


def write_watch_config(path: Path, node: str, watched: list[str]) -> None:
    lines = [
        "[network]",
        'name = "mainnet"',
        f'nodes = ["{node}"]',
        "poll_seconds = 1",
        "request_timeout_seconds = 5",
        "max_requests_per_second = 20",
        "",
    ]
    for i, address in enumerate(watched):
        lines += ["[[watch]]", f'address = "{address}"', f'label = "bench {i}"', ""]
    lines += ["[alerts]", 'sinks = ["stdout"]', ""]
    path.write_text("\n".join(lines))


def latency_run(s: Settings, work: Path) -> dict[str, Any]:
    """``nemwatch watch`` against a real-time simulator; one watched outflow per block."""
    b = ScenarioBuilder("bench-latency", START, block_interval=s.latency_interval)
    b.account("hot", "hot_wallet", xem=10_000_000)
    b.account("sink", "user")
    clock = ScaledClock(START, 1.0)
    lines: list[tuple[float, str]] = []
    with SimCluster.start(b.build(), nodes=1, clock=clock) as sim:
        sim.nodes[0].faults.latency(s.latency_ms)
        hot = sim.address("hot")
        watched = [hot] + synthetic_addresses(max(0, s.latency_watch - 1), seed=99)
        config = work / "latency.toml"
        write_watch_config(config, sim.urls[0], watched)
        state = work / "latency-state"
        errlog = work / "latency-watch.log"
        cmd = [sys.executable, "-m", "nemwatch", "watch", "--config", str(config), "--state", str(state)]
        with errlog.open("w") as errfile:
            proc = CHILDREN.start(cmd, stdout=subprocess.PIPE, stderr=errfile, text=True, bufsize=1)

            def read() -> None:
                assert proc.stdout is not None
                for line in proc.stdout:
                    lines.append((time.time(), line))

            reader = threading.Thread(target=read, name="watch-stdout", daemon=True)
            reader.start()
            try:
                deadline = time.monotonic() + 60
                while not sim.nodes[0].requests:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"nemwatch watch did not start:\n{errlog.read_text()[-3000:]}")
                    time.sleep(0.1)
                time.sleep(3.0)  # its first cycles: cursor at the head, backfill of the watch list
                first = sim.height + 1
                heights = list(range(first, first + s.latency_blocks))
                submitted: dict[str, int] = {}
                for h in heights:
                    due = nemtime.to_datetime(sim.chain.block_time(h))
                    at = max(due - timedelta(seconds=s.latency_interval / 2), clock.now())
                    tx = sim.submit(TransferSpec(at, "hot", "sink", xem=(h - first + 1) * 1_000_000))
                    submitted[tx.hash] = h
                offset = time.time() - clock.now().timestamp()  # real = simulated + offset (speed 1)
                last_due = nemtime.to_datetime(sim.chain.block_time(heights[-1])).timestamp() + offset
                deadline = last_due + 20.0
                while time.time() < deadline and proc.poll() is None:
                    if len(_outflows(lines, submitted)) >= len(submitted):
                        break
                    time.sleep(0.1)
            finally:
                CHILDREN.kill(proc, grace=10.0)
                reader.join(timeout=5)
        samples = []
        for read_at, alert in _outflows(lines, submitted).values():
            height = int(alert["height"])
            due = nemtime.to_datetime(sim.chain.block_time(height)).timestamp() + offset
            samples.append({"height": height, "included_in_expected_block": height == submitted[alert["tx_hash"]],
                            "latency_s": round(read_at - due, 3)})
    latencies = [x["latency_s"] for x in samples]
    return {
        "blocks": len(heights),
        "block_interval_s": s.latency_interval,
        "poll_seconds": 1,
        "injected_latency_ms": s.latency_ms,
        "watched": len(watched),
        "alerts_expected": len(submitted),
        "alerts_seen": len(samples),
        "latency_s": summary(latencies),
        "samples": sorted(samples, key=lambda x: x["height"]),
        "stdout_lines": len(lines),
    }


def _outflows(lines: list[tuple[float, str]], submitted: dict[str, int]) -> dict[str, tuple[float, dict[str, Any]]]:
    found: dict[str, tuple[float, dict[str, Any]]] = {}
    for read_at, line in list(lines):
        try:
            alert = json.loads(line)
        except ValueError:
            continue
        if alert.get("rule") == "outflow" and alert.get("stage") == "confirmed" and alert.get("tx_hash") in submitted:
            found.setdefault(alert["tx_hash"], (read_at, alert))
    return found


# --- report ---------------------------------------------------------------------------------


def verdicts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = report["sizes"]
    largest = max(rows, key=lambda r: r["n"])
    worst_requests = max(r["engine"]["requests_per_block"] for r in rows)
    processing = largest["engine"]["processing_ms"]
    worst_rss = max(r["engine"]["rss_mb"]["peak"] for r in rows)
    out = {
        "requests_per_block": {
            "target": f"<= {TARGETS['requests_per_block_max']} at every N",
            "measured": worst_requests,
            "pass": worst_requests <= TARGETS["requests_per_block_max"],
        },
        "processing_per_full_block": {
            "target": f"< {TARGETS['processing_ms_at_largest']:g} ms at N = {largest['n']:,} (p95 checked)",
            "measured": {"median_ms": processing["median"], "p95_ms": processing["p95"]},
            "pass": processing["p95"] is not None and processing["p95"] < TARGETS["processing_ms_at_largest"],
        },
        "peak_rss": {
            "target": f"< {TARGETS['rss_mb_max']:g} MB at every N",
            "measured": worst_rss,
            "pass": worst_rss < TARGETS["rss_mb_max"],
        },
    }
    latency = report.get("latency")
    if latency is not None:
        median = latency["latency_s"]["median"]
        out["detection_latency"] = {
            "target": f"median < {TARGETS['latency_median_s']:g} s",
            "measured": {"median_s": median, "p95_s": latency["latency_s"]["p95"]},
            "pass": median is not None and median < TARGETS["latency_median_s"]
            and latency["alerts_seen"] == latency["alerts_expected"],
        }
    return out


def table(report: dict[str, Any]) -> str:
    head = (
        f"{'N':>8} | {'eng req/blk':>11} | {'proc ms med':>11} | {'proc ms p95':>11} | {'peak RSS MB':>11} | "
        f"{'alerts':>6} | {'base req/blk':>12} | {'base s/blk':>10} | base basis"
    )
    out = [head, "-" * len(head)]
    for row in report["sizes"]:
        e, b = row["engine"], row["baseline"]
        out.append(
            f"{row['n']:>8,} | {e['requests_per_block']:>11} | {e['processing_ms']['median']:>11} | "
            f"{e['processing_ms']['p95']:>11} | {e['rss_mb']['peak']:>11} | {e['alerts']:>6} | "
            f"{b['requests_per_block']:>12,} | {b['seconds_per_block']:>10} | {b['basis']}"
        )
    idle = sorted({r for row in report["sizes"] for r in row["engine"]["idle_cycle_requests"]})
    warmup = sorted({row["engine"]["warmup_requests"] for row in report["sizes"]})
    out.append("")
    out.append(
        f"engine: a cycle with no new block asks {idle} request(s); the first cycle and the {WARMUP_BLOCKS} "
        f"warm-up blocks before measuring asked {warmup} in all (one of them the tip re-read that "
        "calibrates the rollback check)"
    )
    latency = report.get("latency")
    if latency is not None:
        lat = latency["latency_s"]
        out.append("")
        out.append(
            f"detection latency (nemwatch watch, poll 1 s, {latency['block_interval_s']} s blocks, "
            f"{latency['alerts_seen']}/{latency['alerts_expected']} alerts): median {lat['median']} s, "
            f"p95 {lat['p95']} s, max {lat['max']} s"
        )
    out.append("")
    for name, v in report["targets"].items():
        out.append(f"{'PASS' if v['pass'] else 'FAIL'}  {name}: {v['target']}; measured {v['measured']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="nemwatch engine benchmark against the local simulator")
    p.add_argument("--quick", action="store_true", help="smallest size, few blocks, short latency run")
    p.add_argument("--sizes", default=None, help="comma-separated watch-list sizes (default 10,1000,10000,100000)")
    p.add_argument("--blocks", type=int, default=None, help="full blocks the engine follows per size (default 25)")
    p.add_argument("--baseline-blocks", type=int, default=2)
    p.add_argument("--baseline-max", type=int, default=1000, help="largest baseline polled for real; above: sample")
    p.add_argument("--concurrency", type=int, default=16, help="baseline requests in flight")
    p.add_argument("--latency-ms", type=float, default=50.0, help="injected latency per request")
    p.add_argument("--latency-blocks", type=int, default=None, help="blocks of the latency run (default 20)")
    p.add_argument("--latency-interval", type=int, default=None, help="block interval of the latency run, s (default 10)")
    p.add_argument("--latency-watch", type=int, default=10, help="addresses nemwatch watch watches")
    p.add_argument("--no-latency", action="store_true", help="skip the detection latency run")
    p.add_argument("--worker-timeout", type=float, default=900.0)
    p.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    a = p.parse_args(argv)
    quick = a.quick
    s = Settings(
        sizes=[int(x) for x in (a.sizes or ("10" if quick else "10,1000,10000,100000")).split(",")],
        blocks=a.blocks or (3 if quick else 25),
        baseline_blocks=max(1, a.baseline_blocks if not quick else 1),
        baseline_max=a.baseline_max,
        concurrency=a.concurrency,
        latency_ms=a.latency_ms,
        latency_blocks=a.latency_blocks or (3 if quick else 20),
        latency_interval=a.latency_interval or (3 if quick else 10),
        latency_watch=a.latency_watch,
        worker_timeout=a.worker_timeout,
        quick=quick,
    )
    if min(s.sizes) < 1 or s.blocks < 1:
        p.error("sizes and blocks must be positive")
    signal.signal(signal.SIGTERM, _stop_on_signal)
    work = Path(tempfile.mkdtemp(prefix="nemwatch-bench-"))
    started = time.time()
    try:
        t = time.perf_counter()
        compiled = full_blocks_scenario(max(s.blocks + WARMUP_BLOCKS, s.baseline_blocks) + 1)
        compile_s = time.perf_counter() - t
        addresses_file = work / "addresses.txt"
        addresses = write_addresses(addresses_file, compiled, max(s.sizes))
        checked = check_sample(addresses)
        print(
            f"scenario: {len(compiled.txs):,} signed transfers in full blocks of {FULL_BLOCK}, {SENDERS} accounts "
            f"({compile_s:.1f} s); {len(addresses):,} watch-list addresses ({checked} checked valid)",
            flush=True,
        )
        rows = []
        for n in s.sizes:
            print(f"N = {n:,}: engine ...", end="", flush=True)
            engine = engine_run(compiled, addresses_file, n, s, work)
            print(f" {engine['requests_per_block']} req/block, {engine['processing_ms']['median']} ms/block; "
                  "baseline ...", end="", flush=True)
            baseline = baseline_run(compiled, addresses_file, n, s, work)
            print(f" {baseline['seconds_per_block']} s/block ({baseline['basis']})", flush=True)
            rows.append({"n": n, "engine": engine, "baseline": baseline})
        latency = None
        if not a.no_latency:
            print(f"detection latency: nemwatch watch, {s.latency_blocks} blocks of {s.latency_interval} s ...",
                  flush=True)
            latency = latency_run(s, work)
        report: dict[str, Any] = {
            "command": "python bench/run.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_s": None,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(terse=True),
            },
            "settings": {
                "quick": quick,
                "full_block_transactions": FULL_BLOCK,
                "engine_blocks": s.blocks,
                "engine_warmup_blocks": WARMUP_BLOCKS,
                "baseline_blocks": s.baseline_blocks,
                "baseline_concurrency": s.concurrency,
                "baseline_measured_up_to": s.baseline_max,
                "injected_latency_ms": s.latency_ms,
                "real_addresses_in_watch_list": REAL_WATCHED,
                "scenario_transfers": len(compiled.txs),
                "scenario_accounts": SENDERS,
            },
            "sizes": rows,
            "latency": latency,
        }
        report["targets"] = verdicts(report)
        report["duration_s"] = round(time.time() - started, 1)
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1) + "\n")
        print()
        print(table(report))
        try:
            shown = out.resolve().relative_to(Path.cwd())
        except ValueError:
            shown = out
        print(f"\nreport: {shown} ({report['duration_s']} s)")
        return 0
    finally:
        CHILDREN.kill_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
