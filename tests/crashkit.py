"""Pieces of the crash-safety test: a counting HTTP receiver, a busy scenario, a naive watcher.

The naive watcher is the negative control: it advances the cursor, then sends alerts straight to
the receiver without an outbox, as a careless daemon would. Killing it at random moments must
lose alerts, which proves the harness can see a loss.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)


class Receiver:
    """A webhook receiver on 127.0.0.1 that counts deliveries per alert id."""

    def __init__(self, delay: float = 0.0) -> None:
        self.counts: Counter[str] = Counter()
        self.alerts: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if delay:
                    time.sleep(delay)
                alert = json.loads(body)
                key = self.headers.get("Idempotency-Key") or alert["alert_id"]
                with receiver.lock:
                    receiver.counts[key] += 1
                    receiver.alerts[key] = alert
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                return  # a watcher killed mid-request resets the connection: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def busy_scenario(blocks: int, per_block: int = 3):  # type: ignore[no-untyped-def]
    """Three watched accounts, ``per_block`` outflows each block for ``blocks`` blocks."""
    from nemwatch.sim.scenario import ScenarioBuilder

    b = ScenarioBuilder("crash-test", START, block_interval=60)
    for i in range(3):
        b.account(f"w{i}", "hot_wallet", xem=1_000_000)
    b.account("sink", "thief")
    for block in range(blocks):
        for k in range(per_block):
            b.transfer(90 + block * 60 + k, f"w{k % 3}", "sink", xem=1 + block * per_block + k)
    return b.build()


def write_config(path: Path, node: str, watched: list[str], sinks: list[str]) -> Path:
    lines = [
        "[network]",
        'name = "mainnet"',
        f'nodes = ["{node}"]',
        "poll_seconds = 0.2",
        "request_timeout_seconds = 3",
        "max_requests_per_second = 20",
        "",
    ]
    for i, address in enumerate(watched):
        lines += ["[[watch]]", f'address = "{address}"', f'label = "w{i}"', ""]
    lines += ["[price]", "sources = []  # no exchange: tests stay on 127.0.0.1", ""]
    lines += ["[alerts]", "sinks = [" + ", ".join(f'"{s}"' for s in sinks) + "]", ""]
    path.write_text("\n".join(lines))
    return path


def naive_main(config_path: str, state_dir: str, hook: str) -> None:
    """Run the negative control: cursor first, then a direct send with no outbox."""
    import httpx

    from nemwatch.commands.options import load
    from nemwatch.core.engine import Engine
    from nemwatch.headless.runner import Service, run_watch

    class NaiveEngine(Engine):
        def _queue(self, alerts, stats):  # type: ignore[no-untyped-def, override]
            self._unsent = getattr(self, "_unsent", []) + list(alerts)
            return []

        def _commit_block(self, block, head, stats):  # type: ignore[no-untyped-def, override]
            super()._commit_block(block, head, stats)  # the cursor moves here
            with httpx.Client() as http:
                for alert in getattr(self, "_unsent", []):
                    http.post(hook, content=alert.to_json_line(), headers={"Idempotency-Key": alert.alert_id})
            self._unsent = []

    config = load(Path(config_path), Path(state_dir))
    service = Service.build(config)
    service.engine.__class__ = NaiveEngine
    asyncio.run(run_watch(service, once=False, config_path=None))


if __name__ == "__main__":
    naive_main(*sys.argv[1:4])
