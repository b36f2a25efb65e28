"""The engine benchmark runs end to end at its smallest size and writes a complete report.

A ratio check, not a timing check: the engine asks at most 2 requests per new block while the
naive baseline asks one per watched address. No figure of time is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "bench" / "run.py"


@pytest.mark.timeout(180)
def test_quick_benchmark_report(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=150, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())

    for key in ("command", "date", "duration_s", "machine", "settings", "sizes", "latency", "targets"):
        assert key in report, key
    assert report["command"].startswith("python bench/run.py") and "--quick" in report["command"]
    assert report["machine"]["python"] and report["machine"]["cpus"]
    assert report["settings"]["full_block_transactions"] == 120

    (row,) = report["sizes"]
    n = row["n"]
    engine, baseline = row["engine"], row["baseline"]
    assert engine["n"] == n == engine["watched"]
    assert engine["blocks"] >= 1 and engine["full_blocks"] == engine["blocks"]
    # the engine follows blocks: one height poll and one block read per new block
    assert engine["requests_per_block"] <= 2
    assert engine["max_requests_per_cycle"] <= 2
    assert set(engine["request_paths"]) <= {"/chain/height", "/block/at/public"}
    assert engine["idle_cycle_requests"] and all(r == 1 for r in engine["idle_cycle_requests"])
    # the baseline asks once per watched address per block, counted at the node
    assert baseline["requests_per_block_measured"] == n == baseline["requests_per_block"]
    assert baseline["requests_per_block"] / engine["requests_per_block"] >= n / 2
    assert engine["alerts"] > 0 and engine["alerts_by_kind"].get("outflow/confirmed", 0) > 0
    for part in ("median", "p95", "max"):
        assert engine["processing_ms"][part] is not None and engine["processing_ms"][part] > 0
    assert set(engine["processing_parts_ms"]) == {"json", "parse_block", "commit"}
    assert engine["rss_mb"]["peak"] > 0 and baseline["rss_mb"]["peak"] > 0
    assert baseline["seconds_per_block"] is not None and baseline["basis"] == "measured"

    latency = report["latency"]
    assert latency["alerts_expected"] >= 1
    assert latency["alerts_seen"] >= 1
    assert latency["latency_s"]["median"] is not None
    assert all(s["latency_s"] > 0 for s in latency["samples"])

    assert set(report["targets"]) == {
        "requests_per_block", "processing_per_full_block", "peak_rss", "detection_latency"
    }
    assert report["targets"]["requests_per_block"]["pass"] is True
    assert "N" in proc.stdout and "detection latency" in proc.stdout
