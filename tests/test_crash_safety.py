"""SIGKILL the watcher at random moments of a busy chain: no alert is lost.

Every alert committed reaches the webhook at least once (duplicates carry the same alert id),
the local journal holds each alert exactly once, and the database passes
``PRAGMA integrity_check`` after every kill. The negative control (cursor before outbox) must
lose alerts under the same treatment. 50 kills in the normal suite, 200 with ``--long``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from crashkit import Receiver, busy_scenario, write_config
from nemwatch.sim.clock import ScaledClock
from nemwatch.sim.cluster import SimCluster

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
BLOCKS = 240
SPEED = 60.0  # one block a second


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    return env


def _integrity(db: Path) -> str:
    if not db.exists():
        return "ok"
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _kill_loop(cmd: list[str], kills: int, db: Path, rng: random.Random) -> list[str]:
    checks = []
    for _ in range(kills):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
        time.sleep(rng.uniform(0.4, 2.2))  # start-up is about a second: kills land everywhere
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        checks.append(_integrity(db))
    return checks


def _cursor(db: Path) -> int:
    """The watcher's chain cursor, 0 before it has one (or before its schema exists)."""
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT height FROM cursors WHERE name = 'chain'").fetchone()
        return row[0] if row else 0
    except sqlite3.OperationalError:  # the first watcher is still creating the tables
        return 0
    finally:
        conn.close()


def _pending(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def _run(tmp_path: Path, kills: int, naive: bool, seed: int) -> tuple[set[str], list[str], Path, Receiver]:
    rng = random.Random(seed)
    receiver = Receiver(delay=0.02)
    scenario = busy_scenario(BLOCKS)
    with SimCluster.start(scenario, nodes=1, clock=ScaledClock(scenario.start, SPEED)) as sim:
        watched = [sim.address(f"w{i}") for i in range(3)]
        state = tmp_path / "state"
        journal = tmp_path / "journal.jsonl"
        sinks = [f"webhook+{receiver.url}"] + ([] if naive else ["journal"])
        config = write_config(tmp_path / "config.toml", sim.urls[0], watched, sinks)
        if not naive:
            text = config.read_text().replace("[alerts]\n", f'[alerts]\njournal_path = "{journal}"\n')
            config.write_text(text)
        if naive:
            cmd = [sys.executable, str(HERE / "crashkit.py"), str(config), str(state), receiver.url]
        else:
            cmd = [sys.executable, "-m", "nemwatch", "watch", "--config", str(config), "--state", str(state), "-q"]
        # the first run fixes the start height; every alert after it must arrive
        first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
        db = state / "nemwatch.sqlite3"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not db.exists() or _cursor(db) == 0):
            time.sleep(0.1)
        start = _cursor(db)
        first.send_signal(signal.SIGKILL)
        first.wait()
        checks = _kill_loop(cmd, kills, db, rng)
        # let the chain end, then a last clean run catches up and drains the outbox
        sim.advance_to(scenario.end)
        final_height = sim.height + 2
        sim.advance(180)
        final = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _cursor(db) < final_height:
            time.sleep(0.2)
        while time.monotonic() < deadline and _pending(db) > 0:
            time.sleep(0.2)
        final.send_signal(signal.SIGTERM)
        final.wait(timeout=30)
        # ground truth: the watched accounts' outgoing transfers the watcher has passed
        expected: set[str] = set()
        for address in watched:
            next_id = None
            while True:
                params = {"address": address, "pageSize": "100"}
                if next_id is not None:
                    params["id"] = str(next_id)
                page = httpx.get(f"{sim.urls[0]}/account/transfers/outgoing", params=params).json()["data"]
                for item in page:
                    if start < item["meta"]["height"] <= _cursor(db):
                        expected.add(item["meta"]["hash"]["data"])
                if len(page) < 100:
                    break
                next_id = min(item["meta"]["id"] for item in page)
    receiver.close()
    return expected, checks, journal, receiver


def _delivered_hashes(receiver: Receiver) -> set[str]:
    return {
        a["tx_hash"]
        for a in receiver.alerts.values()
        if a["rule"] == "outflow" and a["stage"] in ("confirmed", "settled")
    }


def test_sigkill_loses_no_alert(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    kills = 200 if request.config.getoption("--long") else 50
    expected, checks, journal, receiver = _run(tmp_path, kills, naive=False, seed=7)
    counts = receiver.counts
    assert len(expected) > 100, "the scenario must keep the watcher busy"
    lost = expected - _delivered_hashes(receiver)
    assert lost == set(), f"{len(lost)} alerts lost"
    assert checks == ["ok"] * kills
    # duplicates are allowed (at-least-once) but each is the same alert id; no two ids for one event
    by_event = Counter((a["rule"], a["tx_hash"], a["stage"]) for a in receiver.alerts.values())
    assert max(by_event.values()) == 1
    # the journal is exactly-once
    ids = [json.loads(line)["alert_id"] for line in journal.read_text().splitlines() if line.strip()]
    assert len(ids) == len(set(ids)) and set(ids) == set(counts)
    print(f"kills={kills} expected={len(expected)} deliveries={sum(counts.values())} "
          f"duplicates={sum(counts.values()) - len(counts)}")


def test_negative_control_loses_alerts(tmp_path: Path) -> None:
    expected, _, _, receiver = _run(tmp_path, 20, naive=True, seed=11)
    lost = expected - _delivered_hashes(receiver)
    assert len(lost) > 0, "the naive cursor-first watcher should have lost alerts"
    print(f"negative control: {len(lost)} of {len(expected)} alerts lost")
