"""Watches and labels added from the dashboard survive a restart: kept in the store
(``core.store.runtime_edits``), applied by the shared wiring for ``nemwatch watch`` and the
dashboard, and shown by a dashboard attached read-only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_reload import HOT, RUNTIME, THIEF, write

from nemwatch.config import load_config
from nemwatch.core.store import Store
from nemwatch.core.store.migrations import schema_version
from nemwatch.core.store.runtime_edits import COMPONENT, RuntimeEdits, RuntimeLabel, RuntimeWatch
from nemwatch.service import Service
from nemwatch.tui.sources import AttachSource, LiveSource

NOW = datetime(2018, 1, 26, 3, 0, tzinfo=UTC)


def test_edits_are_kept_in_the_store_and_read_back_after_reopening(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.sqlite3")
    edits = RuntimeEdits(store)
    edits.add_watch(RUNTIME, "found in the dashboard", now=NOW)
    edits.add_watch(RUNTIME, None, now=NOW)  # a second add keeps the label
    edits.set_label(THIEF, "first name", "thief", now=NOW)
    edits.set_label(THIEF, "thief (NC4)", "thief", now=NOW)
    store.close()
    again = Store.open(tmp_path / "s.sqlite3")
    edits = RuntimeEdits(again)
    assert schema_version(again.connection, COMPONENT) == 1
    assert edits.watches() == [RuntimeWatch(RUNTIME, "found in the dashboard")]
    assert edits.labels() == [RuntimeLabel(THIEF, "thief (NC4)", "thief")]
    assert edits.remove_watch(RUNTIME) and edits.watches() == []
    again.close()


def test_a_read_only_store_without_the_tables_reads_as_empty(tmp_path: Path) -> None:
    Store.open(tmp_path / "s.sqlite3").close()
    readonly = Store.open_readonly(tmp_path / "s.sqlite3")
    try:
        edits = RuntimeEdits(readonly)
        assert edits.watches() == [] and edits.labels() == []
        with pytest.raises(Exception):  # noqa: B017 (read-only: any write fails)
            edits.add_watch(RUNTIME, None, now=NOW)
    finally:
        readonly.close()


async def test_dashboard_watches_and_labels_survive_a_restart_of_watch_and_dashboard(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "http://127.0.0.1:7890", '["stdout"]', [HOT])
    config = load_config(path)
    service = Service.build(config, price=False)
    source = LiveSource(service, lambda: NOW)
    try:
        assert "kept across restarts" in source.add_watch(RUNTIME, "added in the dashboard")
        assert source.add_watch(RUNTIME, None).startswith("already watched")
        source.set_label(HOT, "Coincheck hot wallet")  # watched by the config: its rule's label changes
        source.set_label(THIEF, "thief (NC4)")  # not watched: a label alone
    finally:
        await service.close()

    again = Service.build(load_config(path), price=False)  # `nemwatch watch` after a restart
    try:
        watch = again.engine.watch
        assert set(watch.rules) == {HOT, RUNTIME}
        assert watch.rules[RUNTIME].label == "added in the dashboard"
        assert watch.rules[HOT].label == "Coincheck hot wallet"
        assert watch.labels[THIEF][0] == "thief (NC4)"
        write(path, "http://127.0.0.1:7890", '["stdout"]', [HOT, THIEF])  # a SIGHUP keeps them too
        await again.reload(path)
        assert set(watch.rules) == {HOT, THIEF, RUNTIME}
        assert watch.rules[THIEF].label == "thief (NC4)"
    finally:
        await again.close()

    attached = AttachSource(load_config(path), lambda: NOW)  # a dashboard attached read-only
    try:
        shown = {a.address: a.label for a in attached.read.watched()}
        assert shown[RUNTIME] == "added in the dashboard" and shown[HOT] == "Coincheck hot wallet"
    finally:
        await attached.aclose()
