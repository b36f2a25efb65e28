"""Credentials in node and price URLs (a node behind an authenticating proxy) never appear in
logs (even at -vv, where httpx logs every URL), errors, the store or ``config show``."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from nemwatch.cli import main
from nemwatch.config import load_config
from nemwatch.sim import ManualClock, ScenarioBuilder, SimCluster

PASSWORD = "s3cretPassw0rd"
TOKEN = "tok3nV4lue123456"
START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    b = ScenarioBuilder("secrets", START, block_interval=60)
    b.account("hot", "hot_wallet", xem=1_000_000)
    b.account("thief", "thief")
    b.transfer(120, "hot", "thief", xem=5)
    with SimCluster.start(b.build(), nodes=1, clock=ManualClock(START)) as cluster:
        cluster.advance(600)
        yield cluster


def secret_url(url: str) -> str:
    return url.replace("http://", f"http://operator:{PASSWORD}@") + f"?token={TOKEN}"


def test_node_credentials_are_kept_for_requests_but_shown_masked(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[network]\nnodes = ["{secret_url("http://node.example:7890")}"]\n'
        f'[price.urls]\nzaif = "http://proxy:{PASSWORD}@prices.example"\n'
    )
    config.chmod(0o600)
    loaded = load_config(config)
    assert loaded.network.nodes[0] == f"http://operator:{PASSWORD}@node.example:7890?token={TOKEN}"
    assert PASSWORD in loaded.secrets() and TOKEN in loaded.secrets()
    shown = CliRunner().invoke(main, ["config", "show", str(config)])
    assert shown.exit_code == 0, shown.output
    assert PASSWORD not in shown.output and TOKEN not in shown.output
    assert "node.example:7890" in shown.output and "prices.example" in shown.output


def test_watch_vv_logs_no_node_secret(sim: SimCluster, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[network]\nnodes = ["{secret_url(sim.urls[0])}"]\nstart_height = 2\npoll_seconds = 0.3\nrequest_timeout_seconds = 2\n'
        f'[[watch]]\naddress = "{sim.address("hot")}"\n[price]\nsources = []\n'
    )
    config.chmod(0o600)
    state = tmp_path / "state"
    proc = subprocess.run(
        [sys.executable, "-m", "nemwatch", "watch", "--once", "-vv", "--config", str(config), "--state", str(state)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "HTTP Request" in proc.stderr  # httpx logged the requests ...
    assert PASSWORD not in proc.stderr and TOKEN not in proc.stderr  # ... without the secrets
    assert "<secret>" in proc.stderr
    assert '"outflow"' in proc.stdout  # the node was really used, credentials and all
    with sqlite3.connect(state / "nemwatch.sqlite3") as db:
        dump = "\n".join(db.iterdump())
    assert PASSWORD not in dump and TOKEN not in dump


def test_an_unreachable_secret_node_is_reported_without_its_secret(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[network]\nnodes = ["{secret_url("http://127.0.0.1:9")}"]\nrequest_timeout_seconds = 1\n'
                      '[price]\nsources = []\n')
    config.chmod(0o600)
    result = CliRunner().invoke(main, ["check", "-v", "--config", str(config), "--state", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert PASSWORD not in result.output and TOKEN not in result.output
