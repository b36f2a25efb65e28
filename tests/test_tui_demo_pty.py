"""``nemwatch demo`` in a real terminal (tmux): the dashboard opens, shows the theft and the
synthetic-keys notice, and ``q`` ends it cleanly."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def _wait_for(session: str, *needles: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if all(n in screen for n in needles):
            return screen
        time.sleep(0.3)
    raise AssertionError(f"never showed {needles}; last screen:\n{screen}")


def test_demo_opens_the_dashboard_in_a_terminal_and_quits_on_q() -> None:
    session = f"nemwatch-test-{uuid.uuid4().hex[:8]}"
    command = "env -u COLUMNS -u LINES " + shlex.join([sys.executable, "-m", "nemwatch", "demo", "--speed", "0", "--until", "2018-01-26T00:20"])
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", f"{command}; echo EXITED=$?; sleep 30")
    try:
        screen = _wait_for(session, "synthetic keys stand in for the real 2018", "Watchlist", "OUTFLOW", "demo finished")
        assert "Coincheck hot wallet" in screen and "✖" in screen  # the critical glyph, not colour alone
        assert "Price" in screen and "Alerts" in screen
        _tmux("send-keys", "-t", session, "q")
        _wait_for(session, "EXITED=0", timeout=20)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
