"""When nemwatch cannot work it says so, and why: ``watch --once`` exits 2, ``check`` names the
cause node by node (DNS failure, refused, an HTTP error such as 503, the wrong network)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nemwatch.core.models import Network
from nemwatch.headless.diagnose import diagnose, why
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.scenario import ScenarioBuilder

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"


def _scenario(network: str = "mainnet"):  # type: ignore[no-untyped-def]
    b = ScenarioBuilder("cannot-work", START, block_interval=60, network=network)
    b.account("hot", "hot_wallet", xem=1_000)
    return b.build()


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    with SimCluster.start(_scenario(), nodes=1, clock=ManualClock(START)) as cluster:
        yield cluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(path: Path, *nodes: str) -> Path:
    listed = ", ".join(f'"{n}"' for n in nodes)
    path.write_text(
        f"[network]\nnodes = [{listed}]\npoll_seconds = 0.3\nrequest_timeout_seconds = 2\n"
        "max_requests_per_second = 20\n\n"
        f'[[watch]]\naddress = "{HOT}"\nlabel = "hot wallet"\n\n[price]\nsources = []\n\n'
        '[alerts]\nsinks = ["stdout"]\n'
    )
    path.chmod(0o600)
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nemwatch", *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, "NEMWATCH_CONFIG": ""},
    )


async def test_each_node_gets_its_own_reason(sim: SimCluster) -> None:
    with SimCluster.start(_scenario("testnet"), nodes=2, clock=ManualClock(START)) as testnet:
        testnet.nodes[1].faults.error(503, message="NIS_ILLEGAL_STATE_LOADING_CHAIN")
        refused = f"http://127.0.0.1:{_free_port()}"
        nodes = [sim.urls[0], refused, "http://no-such-node.invalid:7890", testnet.urls[0], testnet.urls[1]]
        found = await diagnose(nodes, Network.MAINNET, timeout=3)
    by_node = {d.node: d for d in found}
    assert by_node[sim.urls[0]].ok and "height" in by_node[sim.urls[0]].detail
    assert by_node[refused].problem == "connection refused"
    assert by_node["http://no-such-node.invalid:7890"].problem == "DNS failure"
    assert by_node[testnet.urls[0]].problem == "wrong network"
    assert "testnet" in by_node[testnet.urls[0]].detail and "mainnet" in by_node[testnet.urls[0]].detail
    assert by_node[testnet.urls[1]].problem == "HTTP 503"
    assert "NIS_ILLEGAL_STATE_LOADING_CHAIN" in by_node[testnet.urls[1]].detail


async def test_secrets_in_a_node_url_are_not_shown() -> None:
    text = await why([f"http://user:s3cretPASS@127.0.0.1:{_free_port()}"], Network.MAINNET, timeout=2)
    assert "s3cretPASS" not in text and "connection refused" in text
    assert text.startswith("1 of 1 node(s) unusable: connection refused")


def test_watch_once_exits_2_and_says_why_when_no_node_answers(tmp_path: Path) -> None:
    cfg = _config(tmp_path / "c.toml", f"http://127.0.0.1:{_free_port()}")
    result = _run("watch", "--config", str(cfg), "--state", str(tmp_path / "state"), "--once")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "CANNOT WORK" in result.stderr and "connection refused" in result.stderr


def test_check_names_the_cause(sim: SimCluster, tmp_path: Path) -> None:
    sim.nodes[0].faults.error(503, message="NIS_ILLEGAL_STATE_LOADING_CHAIN")
    cfg = _config(tmp_path / "c.toml", sim.urls[0], "http://no-such-node.invalid:7890")
    result = _run("check", "--config", str(cfg), "--state", str(tmp_path / "state"))
    assert result.returncode == 2, result.stderr
    assert "nemwatch check: CANNOT WORK" in result.stderr
    assert "2 of 2 node(s) unusable: DNS failure, HTTP 503" in result.stderr
    assert f"{sim.urls[0]}: HTTP 503" in result.stderr
