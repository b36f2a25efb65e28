"""The taint benchmark runs end to end at its smallest size and writes a complete report.

No figure of time is asserted: only the report's shape, that the fold kept its books, and (when
networkx is installed) that the naive baseline computed the same totals for every model.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "taint_bench.py"
MODELS = {"poison", "haircut", "fifo", "taint_first", "clean_first"}


@pytest.mark.timeout(120)
def test_quick_taint_benchmark_report(tmp_path: Path) -> None:
    out = tmp_path / "taint.json"
    baseline = importlib.util.find_spec("networkx") is not None
    cmd = [sys.executable, str(BENCH), "--quick", "--out", str(out)] + ([] if baseline else ["--no-baseline"])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=100, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["command"].startswith("python bench/taint_bench.py --quick")
    (row,) = report["sizes"]
    core = row["core"]
    assert core["transfers"] == 2_000 and core["violations"] == 0
    assert set(core["totals"]) == MODELS
    fifo = core["totals"]["fifo"]
    assert fifo["seeded"] == fifo["at_rest"] + fifo["left"] + fifo["burned"] > 0
    assert core["totals"]["poison"]["accounts"] >= fifo["accounts"] > 1
    if baseline:
        assert row["agree"] is True and row["baseline"]["totals"] == core["totals"]
