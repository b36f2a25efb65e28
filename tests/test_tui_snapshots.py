"""Snapshots of the dashboard at 80x24 (narrow layout) and 120x40, on a frozen clock and fixed data.

Update after a deliberate change with ``pytest tests/test_tui_snapshots.py --snapshot-update``
and look at the report first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_support import make_app


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_dashboard(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=_settle)


def test_dashboard_paused_with_help_banner(snap_compare, tmp_path: Path) -> None:
    app = make_app(tmp_path, banner="DEMO: synthetic keys stand in for the real 2018 accounts", mode="demo")
    assert snap_compare(app, terminal_size=(80, 24), press=["p"], run_before=_settle)


def test_help_screen(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(make_app(tmp_path), terminal_size=(120, 40), press=["question_mark"], run_before=_settle)
