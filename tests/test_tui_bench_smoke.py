"""The dashboard benchmark runs end to end at its smallest size (a real pty, the real
``nemwatch --attach``) and writes a complete report. No figure of time is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(180)
def test_quick_dashboard_benchmark_report(tmp_path: Path) -> None:
    out = tmp_path / "tui.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "tui_bench.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=170, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["command"].startswith("python bench/tui_bench.py") and "--quick" in report["command"]
    assert report["settings"]["watched"] == 200 and report["settings"]["transfers"] == 2000
    assert report["first_frame_s"] > 0
    keys = report["key_to_repaint_ms"]
    assert keys["all"]["count"] >= 10  # nearly every key press was seen to repaint
    assert {"down", "s", "]", "p", "tab"} <= set(keys)
    assert report["idle_cpu_percent"] >= 0 and report["memory_mb"]["VmRSS"] > 0
    assert report["exit_code"] == 0  # q ended the dashboard cleanly
    assert set(report["targets"]) == {"first_frame_s", "key_p95_ms", "idle_cpu_percent"}
    assert "first frame" in proc.stdout
