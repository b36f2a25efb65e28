"""The headless face as a user runs it: ``nemwatch watch`` and ``nemwatch check`` in real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crashkit import Receiver
from nemwatch.core.alert import JSON_FIELDS
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.scenario import ScenarioBuilder

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
TOKEN = "s3cr3tT0kenVALUE9876543210"
HOSTILE = "pay here \x1b]8;;https://evil.example/\x07CLICK\x1b]8;;\x07 \u202etxet [ @click=app.quit]x[/]"


def _scenario():  # type: ignore[no-untyped-def]
    b = ScenarioBuilder("headless-test", START, block_interval=60)
    b.account("hot", "hot_wallet", xem=1_000_000)
    b.account("thief", "thief")
    b.transfer(200, "hot", "thief", xem=1234, message=HOSTILE)
    b.transfer(500, "hot", "thief", xem=99)
    return b.build()


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    with SimCluster.start(_scenario(), nodes=1, clock=ManualClock(START)) as cluster:
        yield cluster


def _config(path: Path, node: str, watched: str, sinks: list[str]) -> Path:
    path.write_text(
        "[network]\n"
        f'nodes = ["{node}"]\n'
        "poll_seconds = 0.3\nrequest_timeout_seconds = 2\nmax_requests_per_second = 20\n\n"
        f'[[watch]]\naddress = "{watched}"\nlabel = "hot wallet"\n\n'
        "[price]\nsources = []\n\n"
        "[alerts]\nsinks = [" + ", ".join(f'"{s}"' for s in sinks) + "]\n"
    )
    path.chmod(0o600)
    return path


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nemwatch", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "NEMWATCH_CONFIG": ""},
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_watch_once_prints_only_json_lines_and_sanitizes(sim: SimCluster, tmp_path: Path) -> None:
    cfg = _config(tmp_path / "c.toml", sim.urls[0], sim.address("hot"), ["stdout"])
    state = tmp_path / "state"
    assert _run("watch", "--config", str(cfg), "--state", str(state), "--once").returncode == 0
    sim.advance(600)
    result = _run("watch", "--config", str(cfg), "--state", str(state), "--once")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    alerts = [json.loads(line) for line in lines]
    assert [a["amount_xem"] for a in alerts] == ["1234.000000", "99.000000"]
    for alert in alerts:
        assert list(alert)[: len(JSON_FIELDS)] == list(JSON_FIELDS)
        assert alert["rule"] == "outflow" and alert["stage"] == "confirmed"
    message = alerts[0]["message"]
    assert "\x1b" not in message and "\u202e" not in message and "CLICK" in message
    assert "\x1b" not in result.stdout and "\\u001b" not in result.stdout
    # logs went to stderr, alerts to stdout only
    assert "watching 1 addresses" in result.stderr and "{" not in result.stderr.split("\n")[0]


def test_check_exit_codes(sim: SimCluster, tmp_path: Path) -> None:
    cfg = _config(tmp_path / "c.toml", sim.urls[0], sim.address("hot"), ["stdout"])
    state = tmp_path / "state"
    first = _run("check", "--config", str(cfg), "--state", str(state))
    assert first.returncode == 0, first.stderr
    assert "OK" in first.stderr and "push 1/1 live" in first.stderr
    sim.advance(300)
    second = _run("check", "--config", str(cfg), "--state", str(state))
    assert second.returncode == 1 and "ALERT" in second.stderr
    dead = _config(tmp_path / "dead.toml", f"http://127.0.0.1:{_free_port()}", sim.address("hot"), ["stdout"])
    third = _run("check", "--config", str(dead), "--state", str(tmp_path / "s2"))
    assert third.returncode == 2 and "CANNOT WORK" in third.stderr


def test_webhook_token_never_leaks(sim: SimCluster, tmp_path: Path) -> None:
    failing = Receiver()
    failing.server.RequestHandlerClass.do_POST = lambda self: (  # type: ignore[method-assign]
        self.send_response(500), self.send_header("Content-Length", "0"), self.end_headers()
    )
    closed = _free_port()
    sinks = [
        f"webhook+{failing.url}/{TOKEN}",
        f"webhook+http://127.0.0.1:{closed}/hook?token={TOKEN}",
        "journal",
    ]
    cfg = _config(tmp_path / "c.toml", sim.urls[0], sim.address("hot"), sinks)
    state = tmp_path / "state"
    outputs = [_run("watch", "--config", str(cfg), "--state", str(state), "--once", "-vv")]
    sim.advance(600)
    for _ in range(3):
        outputs.append(_run("watch", "--config", str(cfg), "--state", str(state), "--once", "-vv"))
        time.sleep(1.1)
    outputs.append(_run("config", "show", str(cfg)))
    outputs.append(_run("config", "validate", str(cfg)))
    failing.close()
    text = "".join(o.stdout + o.stderr for o in outputs)
    assert "POST" in text or "delivery" in text.lower() or "500" in text  # the failures were logged
    assert TOKEN not in text
    for path in state.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path.name


def test_sigterm_stops_cleanly_and_sighup_reloads(sim: SimCluster, tmp_path: Path) -> None:
    cfg = _config(tmp_path / "c.toml", sim.urls[0], sim.address("hot"), ["stdout"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "nemwatch", "watch", "--config", str(cfg), "--state", str(tmp_path / "st")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        time.sleep(3)
        text = cfg.read_text().replace('label = "hot wallet"', 'label = "hot wallet"\n\n[[watch]]\n'
                                       f'address = "{sim.address("thief")}"\nlabel = "thief"')
        cfg.write_text(text)
        proc.send_signal(signal.SIGHUP)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "config reloaded: 2 watched addresses" in err
    assert "Traceback" not in err


def test_alerts_carry_jpy_from_the_price_feed(tmp_path: Path) -> None:
    b = ScenarioBuilder("priced", START)
    b.account("hot", "hot_wallet", xem=100_000)
    b.account("thief", "thief")
    b.transfer(200, "hot", "thief", xem=1000)
    b.price([(0, "120"), (3600, "80")], trades_per_minute=5)
    with SimCluster.start(b.build(), nodes=1, clock=ManualClock(START), market=True) as sim:
        cfg = _config(tmp_path / "c.toml", sim.urls[0], sim.address("hot"), ["stdout"])
        text = cfg.read_text().replace(
            "[price]\nsources = []\n",
            f'[price]\nsources = ["zaif"]\n[price.urls]\nzaif = "{sim.market_url}"\nzaif_chart = "{sim.market_url}"\n',
        )
        cfg.write_text(text)
        state = tmp_path / "state"
        assert _run("watch", "--config", str(cfg), "--state", str(state), "--once").returncode == 0
        sim.advance(600)
        result = _run("watch", "--config", str(cfg), "--state", str(state), "--once")
    (alert,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert alert["price_source"] == "zaif"
    price = float(alert["price_jpy"])
    assert 80 <= price <= 125
    assert abs(float(alert["amount_jpy"]) - 1000 * price) < 0.01


def test_check_reports_a_node_whose_push_is_refused_without_failing(sim: SimCluster, tmp_path: Path) -> None:
    import httpx

    cfg = _config(tmp_path / "c.toml", sim.urls[0], sim.address("hot"), ["stdout"])
    httpx.post(sim.urls[0] + "/_sim/fault", json={"kind": "push_refuse", "status": 503})
    try:
        result = _run("check", "--config", str(cfg), "--state", str(tmp_path / "state"))
    finally:
        httpx.request("DELETE", sim.urls[0] + "/_sim/fault")
    assert result.returncode == 0, result.stderr  # the push is a hint: polling goes on
    assert "push 0/1 live" in result.stderr
    assert "upgrade refused with HTTP 503" in result.stderr and "polled every poll_seconds" in result.stderr
