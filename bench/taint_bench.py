"""The taint benchmark: all five models over generated transfer graphs, beside a networkx baseline.

    python bench/taint_bench.py            # 100,000 transfers / 10,000 accounts and 1,000,000 / 100,000
    python bench/taint_bench.py --quick    # 2,000 / 200 (the smoke test runs this)

The baseline needs networkx: ``pip install -e '.[bench]'`` (or ``pip install networkx``);
``--no-baseline`` runs without it. For each size a fresh worker process (so that its peak RSS
is its own) generates the same seeded graph, then folds it with ``nemwatch.core.taint.trace``
(every model at once, one pass) and reports the fold time and peak RSS; another fresh process
builds the networkx graph and propagates each model in its own pass (``taint_baseline``). The
two must agree on every model's totals (at rest, left, burned, seeded, accounts tracked).

The graph: one victim pays a thief 500,000,000 XEM in 10 transfers; then every transfer has a
random sender, one in five of them an account the stolen funds reached recently (a laundering
walk), paying part of its balance (fee 0.05 XEM) to a random account; 100 transfers a block.
Every opening balance is known. Default thresholds (1,000 XEM, 1 %, 12 hops).
The report goes to ``bench/results/taint_latest.json`` and a table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from nemwatch.core.taint.inputs import MODELS, Movement, TaintSource, Thresholds  # noqa: E402

X = 1_000_000
T0 = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
SIZES = ((100_000, 10_000, 2.0), (1_000_000, 100_000, 20.0))
QUICK = ((2_000, 200, 2.0),)
RSS_LIMIT_MB = 1024
PER_BLOCK = 100


def generate(transfers: int, accounts: int, seed: int = 2018) -> tuple[list[Movement], dict[str, int], TaintSource]:
    rng = random.Random(seed)
    names = [f"ACC{i:07d}" for i in range(accounts)]
    bal = {n: rng.randrange(10, 2_000_000) * X for n in names}
    bal["VICTIM"], bal["THIEF"] = 600_000_000 * X, 0
    opening = dict(bal)
    source = TaintSource("THIEF", T0, "thief", victim="VICTIM")
    stream: list[Movement] = []
    for i in range(10):
        stream.append(Movement(1, i, f"seed{i}", "VICTIM", "THIEF", 50_000_000 * X, 50_000, T0))
        bal["VICTIM"] -= 50_000_000 * X + 50_000
        bal["THIEF"] += 50_000_000 * X
    reached = ["THIEF"]
    height, index, when = 2, 0, T0 + timedelta(minutes=1)
    for k in range(transfers - 10):
        if index == PER_BLOCK:
            height, index, when = height + 1, 0, when + timedelta(minutes=1)
        walk = rng.random() < 0.2
        sender = reached[rng.randrange(max(0, len(reached) - 1000), len(reached))] if walk else names[rng.randrange(accounts)]
        recipient = names[rng.randrange(accounts)]
        have = bal[sender] - 50_000
        if have <= 0:
            sender, have, walk = "VICTIM", bal["VICTIM"] - 50_000, False
        amount = have * rng.randrange(5, 60) // 100
        stream.append(Movement(height, index, f"t{k}", sender, recipient, amount, 50_000, when))
        bal[sender] -= amount + 50_000
        bal[recipient] += amount
        if walk and amount >= 1000 * X:
            reached.append(recipient)
        index += 1
    return stream, opening, source


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def work(mode: str, transfers: int, accounts: int) -> dict[str, Any]:
    t = time.perf_counter()
    stream, opening, source = generate(transfers, accounts)
    generated_s = time.perf_counter() - t
    rss_generated = peak_rss_mb()
    th = Thresholds()
    totals: dict[str, dict[str, int]] = {}
    t = time.perf_counter()
    if mode == "core":
        from nemwatch.core.taint.tracker import trace

        tracker = trace(stream, [source], th, opening)
        elapsed = time.perf_counter() - t
        for tot in tracker.totals():
            totals[tot.model.value] = {
                "at_rest": tot.at_rest_micro, "left": tot.left_micro, "burned": tot.burned_micro,
                "seeded": tot.seeded_micro, "absorbed": tot.absorbed_micro, "accounts": tot.accounts}
        violations = len(tracker.check_conservation())
        tainted_transfers = len(tracker.ledger.rec_mv)
    else:
        from taint_baseline import build_graph, propagate

        g = build_graph(stream, opening)
        for m in MODELS:
            totals[m.value] = propagate(g, m.value, source, th)
        elapsed = time.perf_counter() - t
        violations = tainted_transfers = -1
    return {"mode": mode, "transfers": len(stream), "accounts": accounts, "seconds": elapsed,
            "generate_seconds": generated_s, "rss_after_generate_mb": rss_generated,
            "peak_rss_mb": peak_rss_mb(), "totals": totals, "violations": violations,
            "tainted_transfers": tainted_transfers}


def run_worker(mode: str, transfers: int, accounts: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__)), "--worker", mode, "--size", f"{transfers}/{accounts}"],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} worker failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one small size (the smoke test)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the networkx baseline")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "taint_latest.json")
    ap.add_argument("--worker", choices=("core", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--size", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        transfers, accounts = map(int, args.size.split("/"))
        print(json.dumps(work(args.worker, transfers, accounts)))
        return 0
    started = time.perf_counter()
    rows = []
    for transfers, accounts, limit_s in QUICK if args.quick else SIZES:
        core = run_worker("core", transfers, accounts)
        row: dict[str, Any] = {"transfers": transfers, "accounts": accounts, "limit_s": limit_s, "core": core}
        if not args.no_baseline:
            base = run_worker("baseline", transfers, accounts)
            row["baseline"] = base
            row["agree"] = base["totals"] == core["totals"]
            row["speedup"] = base["seconds"] / core["seconds"]
        row["pass"] = core["seconds"] < limit_s and core["peak_rss_mb"] < RSS_LIMIT_MB and core["violations"] == 0
        rows.append(row)
        base_txt = (f"baseline {row['baseline']['seconds']:.2f} s, {row['baseline']['peak_rss_mb']:.0f} MB, "
                    f"x{row['speedup']:.1f}, agree={row['agree']}") if "baseline" in row else "no baseline"
        print(f"{transfers:>9,} transfers / {accounts:>7,} accounts: core {core['seconds']:.2f} s "
              f"(limit {limit_s:g} s), peak RSS {core['peak_rss_mb']:.0f} MB, "
              f"{core['totals']['poison']['accounts']:,} poisoned, {core['totals']['fifo']['accounts']:,} "
              f"FIFO-tainted, violations {core['violations']}; {base_txt}", flush=True)
    report = {
        "command": "python bench/taint_bench.py" + (" --quick" if args.quick else "")
        + (" --no-baseline" if args.no_baseline else ""),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": time.perf_counter() - started,
        "machine": {"python": platform.python_version(), "system": platform.system(),
                    "machine": platform.machine(), "cpus": os.cpu_count()},
        "thresholds": {"min_xem": 1000, "min_percent": 1, "max_hops": 12},
        "sizes": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    ok = all(r["pass"] and r.get("agree", True) for r in rows)
    print("all targets met" if ok else "TARGET MISSED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
