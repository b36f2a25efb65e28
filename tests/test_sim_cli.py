"""``nemwatch sim``: list scenarios, serve one until SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx
from click.testing import CliRunner

from nemwatch.cli import main


def test_list_shows_the_builtin_scenarios() -> None:
    result = CliRunner().invoke(main, ["sim", "--list"])
    assert result.exit_code == 0
    assert result.output.startswith("coincheck-2018: A reconstruction of the 2018 Coincheck theft")


def test_unknown_scenario_is_a_clean_error() -> None:
    result = CliRunner().invoke(main, ["sim", "--scenario", "nope", "--frozen"])
    assert result.exit_code == 1 and "no scenario 'nope'" in result.output


def test_serves_nodes_and_controls_until_sigterm() -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nemwatch", "sim", "--nodes", "2", "--frozen", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        urls = [m.group(1) for line in lines if (m := re.match(r"node \d+: (http://127\.0\.0\.1:\d+)$", line.strip()))]
        assert len(urls) == 2
        assert any(line.startswith("price API: http://127.0.0.1:") for line in lines)
        with httpx.Client(timeout=10) as client:
            heights = {client.get(u + "/chain/height").json()["height"] for u in urls}
            assert heights == {1485000}
            state = client.post(urls[1] + "/_sim/advance", json={"seconds": 120}).json()
            assert state["height"] == 1485002
            assert client.get(urls[0] + "/chain/height").json() == {"height": 1485002}  # one shared chain
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "simulator stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_price_api_is_served_on_the_node_port_too() -> None:
    import httpx

    from nemwatch.sim.clock import ManualClock
    from nemwatch.sim.cluster import SimCluster
    from nemwatch.sim.scenario_toml import load_scenario

    scenario = load_scenario("coincheck-2018")
    with SimCluster.start(scenario, nodes=1, clock=ManualClock(scenario.start), market=True) as sim:
        sim.advance(3600)
        ticker = httpx.get(f"{sim.urls[0]}/api/1/ticker/xem_jpy").json()
        alone = httpx.get(f"{sim.market_url}/api/1/ticker/xem_jpy").json()
        height = httpx.get(f"{sim.urls[0]}/chain/height").json()
    assert ticker == alone and 80 < ticker["last"] < 130
    assert height["height"] > scenario.start_height
