"""SIGHUP's reload: what it applies, the one line naming what needs a restart, addresses added
at run time kept, and a removed sink's waiting alerts dead-lettered with a note."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from test_delivery import make_alert

from nemwatch.config import load_config
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import DeliveryState
from nemwatch.headless.reload import REMOVED_SINK_NOTE
from nemwatch.service import Service

HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
RUNTIME = "NCM6WE7SJFDVTLSPTMZGBUZUETDYINITILS3DCIZ"


def write(path: Path, nodes: str, sinks: str, watches: list[str], poll: float = 5) -> Path:
    text = f'[network]\nnodes = ["{nodes}"]\npoll_seconds = {poll}\n[price]\nsources = []\n'
    text += f"[alerts]\nsinks = {sinks}\n" + "".join(f'[[watch]]\naddress = "{a}"\n' for a in watches)
    text += f'[state]\ndir = "{path.parent / "state"}"\n'
    path.write_text(text)
    path.chmod(0o600)
    return path


async def test_reload_applies_keeps_runtime_watches_and_dead_letters_a_removed_sink(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "c.toml", "http://127.0.0.1:7890", '["stdout", "journal"]', [HOT])
    service = Service.build(load_config(path), price=False)
    try:
        service.engine.watch.add(RUNTIME, WatchRule(label="added in the dashboard"))
        waiting = make_alert("waiting")
        service.store.add_alerts([waiting], ["journal"])
        write(path, "http://127.0.0.1:7891", '["stdout"]', [THIEF], poll=1)
        with caplog.at_level(logging.INFO, logger="nemwatch.headless"):
            await service.reload(path)
        assert set(service.engine.watch.rules) == {THIEF, RUNTIME}  # HOT removed, RUNTIME kept
        assert service.engine.settings.poll_seconds == 1
        [row] = service.store.outbox_rows(waiting.alert_id)
        assert (row.state, row.last_error) == (DeliveryState.DEAD, REMOVED_SINK_NOTE)
        restart = [r.getMessage() for r in caplog.records if "restart nemwatch to apply" in r.getMessage()]
        assert restart == ["reload: [network] nodes changed; restart nemwatch to apply"]
    finally:
        await service.close()


async def test_a_reload_changing_only_live_settings_says_nothing_about_restarting(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "c.toml", "http://127.0.0.1:7890", '["stdout"]', [HOT])
    service = Service.build(load_config(path), price=False)
    try:
        write(path, "http://127.0.0.1:7890", '["stdout"]', [HOT, THIEF], poll=2)
        with caplog.at_level(logging.INFO):
            await service.reload(path)
        assert THIEF in service.engine.watch.rules
        assert not [r for r in caplog.records if "restart" in r.getMessage()]
    finally:
        await service.close()
