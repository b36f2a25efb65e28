"""The store benchmark runs end to end at a small size: it upgrades the store it builds to the
current schema, times every listed query, and the engine's per-cycle ones read indexes (their
plans name no full scan). No figure of time is asserted."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "store_bench.py"
ENGINE_QUERIES = ("unconfirmed transfers", "due for settlement", "outbox pending (per sink)", "backfill cursors")


@pytest.mark.timeout(180)
def test_small_store_benchmark_report(tmp_path: Path) -> None:
    out = tmp_path / "store.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--transfers", "4000", "--alerts", "2400", "--repeat", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=150, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    from nemwatch.core.store import CORE_VERSION

    assert report["transfers"] == 4000 and report["schema_version"] == CORE_VERSION
    assert report["alerts"] > 2000 and report["prune"]["removed"]["transfers"] >= 0
    for name in ENGINE_QUERIES:
        query = report["queries"][name]
        assert query["plans"] and query["median_ms"] >= 0
        steps = [step.strip() for plan in query["plans"] for step in plan.split("; ")]
        assert not [s for s in steps if re.fullmatch(r"SCAN \w+", s) and s != "SCAN sqlite_master"], (name, steps)
