"""The service benchmark (the default shape's cost, latency and catch-up) runs end to end at a tiny
size and writes a complete report. Shape checks and the request split, never a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(240)
def test_tiny_service_benchmark_report(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    cmd = [sys.executable, str(ROOT / "bench" / "service_bench.py"), "--quick", "--watched", "21", "--blocks", "2",
           "--latency-blocks", "2", "--interval", "4", "--behind", "15", "--speed", "20", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=220, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["shape"]["watched"] == 21 and report["shape"]["default"] is False
    pushed, polled = report["cost"]  # the websocket push on (the default), then off
    assert pushed["push"] is True and polled["push"] is False
    for cost in (pushed, polled):
        assert cost["backfill_finished"] and cost["initial_backfill"]["requests"]["backfill"] >= 21
        split = cost["split_per_block"]
        assert set(split) == {"height_polls", "balance_reads", "block_reads", "pool", "backfill", "other"}
        # two nodes agree on each block; a node a moment behind makes the reading ask the third
        assert 1.0 <= split["block_reads"] <= 3.0
        assert split["backfill"] == 0  # done before the steady blocks
    # polling: one node asked every 5 s plus the others on each new block; no websocket at all
    assert polled["split_per_block"]["height_polls"] <= 60 / 5 + 1 + 2
    assert polled["websocket"]["connections"] == 0 and polled["websocket"]["messages_per_block"] == 0
    # push: every node's pushed height stands in for its REST answer, so the REST height polls
    # and pool looks fall to the safety poll's, and the websocket's messages are counted apart
    ws = pushed["websocket"]
    assert ws["nodes_live_at_end"] == 3 and ws["heights_taken_per_block"] >= 2
    assert ws["messages_per_block"] >= 3  # /blocks/new from each of the three nodes
    assert pushed["split_per_block"]["height_polls"] <= 2 and pushed["split_per_block"]["pool"] <= 2
    assert pushed["requests_per_block"] < polled["requests_per_block"]
    quiet, busy, quiet_polled = report["latency"]
    assert not quiet["busy"] and busy["busy"] and len(busy["sinks"]) == 2
    assert quiet["push"] and busy["push"] and not quiet_polled["push"]
    for run in (quiet, busy, quiet_polled):
        assert run["alerts_seen"] == run["alerts_expected"] == 2
    own, public = report["catchup"]  # nodes that serve blocks-after, then public nodes (401)
    assert own["blocks_after"] and not public["blocks_after"]
    for catchup in (own, public):
        assert catchup["blocks"] >= 15 and catchup["blocks_per_s"] > 0
        assert set(catchup["requests"]) <= {"height", "block"}
    # public: one read per block, plus a refused probe per node, the head probe, the top's
    # confirmation and the stored tip read again from two nodes; ten blocks a read otherwise
    assert own["requests"]["block"] < public["requests"]["block"] <= public["blocks"] + 10
