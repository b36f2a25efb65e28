"""What checking transaction signatures costs per full block.

A block of 120 signed transfers (one in ten a 2-of-3 multisig with its cosignature), every one of
them matched by the watch set, so every one is checked: the worst case the engine meets. Prints,
per block (medians over ``--rounds``): the signature checks alone (``core.nem.verify.check`` on
the 120), the whole reading rule on two agreeing copies (``core.agreement.judge``: grouping,
matching and the checks), and ``parse_block`` for scale.

    .venv/bin/python bench/sigcheck.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nemwatch.core import agreement  # noqa: E402
from nemwatch.core.models import Network  # noqa: E402
from nemwatch.core.nem import codec, verify  # noqa: E402
from nemwatch.sim import ManualClock, ScenarioBuilder, SimCluster  # noqa: E402

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
FULL = 120


def full_block() -> dict:
    b = ScenarioBuilder("sigcheck", START, block_interval=60, max_block_transactions=FULL)
    for i in range(24):
        b.account(f"a{i}", "user", xem=1_000_000)
    for c in ("c1", "c2", "c3"):
        b.account(c, "cosigner", xem=100)
    b.multisig("vault", ["c1", "c2", "c3"], 2, xem=1_000_000)
    for n in range(FULL):
        if n % 10 == 0:
            b.transfer(1, "vault", f"a{n % 24}", xem=1 + n, via="c1")  # cosigned within the minute
        else:
            b.transfer(40, f"a{n % 24}", f"a{(n + 7) % 24}", xem=1 + n, message=f"m{n}" if n % 3 == 0 else None)
    with SimCluster.start(b.build(), nodes=1, clock=ManualClock(START)) as sim:
        sim.advance(600)
        for h in range(sim.chain.start_height, sim.height + 1):
            raw = sim.chain.block(h).to_json()
            if len(raw["transactions"]) == FULL:
                return json.loads(json.dumps(raw))
    raise SystemExit("no full block was made")


def median_ms(run, rounds: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    raw = full_block()
    block = codec.parse_block(raw)
    multisig = sum(1 for tx in block.transactions if tx.multisig)
    assert len(block.transactions) == FULL and block.signed is True
    everything = list  # the watch set matches every transaction: all 120 are checked

    def checks() -> None:
        assert all(verify.check(tx, Network.MAINNET).signature_valid for tx in block.transactions)

    def reading() -> None:
        r = agreement.judge(block.height, {"a": block, "b": block}, everything, several=True)
        assert r.agreed and len(r.chosen.matched) == FULL  # type: ignore[union-attr]

    def parse() -> None:
        codec.parse_block(raw)

    rows = [("signature checks, 120 matched", *median_ms(checks, args.rounds)),
            ("reading rule on two agreeing copies", *median_ms(reading, args.rounds)),
            ("parse_block (for scale)", *median_ms(parse, args.rounds))]
    print(f"full block: {FULL} transactions ({multisig} multisig with a cosignature), all matched; "
          f"{args.rounds} rounds; Python {platform.python_version()}, {platform.machine()}")
    for name, med, p95 in rows:
        print(f"  {name:<40} median {med:7.2f} ms   p95 {p95:7.2f} ms")


if __name__ == "__main__":
    main()
