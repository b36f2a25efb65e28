"""The status bar says whether the nodes' websocket push is live (tui/sources.push_status and
the status bar): a watcher whose push went down polls again, and the user can see why the next
poll is close."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from nemwatch.core.query import AlertCounts
from nemwatch.tui.sources import SourceStatus, push_status
from nemwatch.tui.widgets.status_bar import status_text

NOW = datetime(2018, 1, 26, 3, 0, tzinfo=UTC)


def line(status: SourceStatus) -> str:
    return status_text(status, AlertCounts(), None, NOW, paused=False, stale_after_seconds=60).plain


class Hub:
    def __init__(self, live: dict[str, bool]) -> None:
        self.channels = dict.fromkeys(live)
        self._live = live

    def live(self, node: str) -> bool:
        return self._live[node]


def test_push_status_counts_the_live_channels_and_is_absent_without_a_push() -> None:
    engine = SimpleNamespace(push=SimpleNamespace(hub=Hub({"a": True, "b": False, "c": True})))
    assert push_status(engine) == {"push_live": 2, "push_total": 3}
    assert push_status(SimpleNamespace(push=None)) == {}
    assert push_status(object()) == {}


def test_the_status_bar_shows_the_push_beside_the_nodes() -> None:
    base = dict(nodes_ok=3, nodes_total=3, head=1_485_100)
    assert "nodes ● 3/3 push ● 3/3 │ height" in line(SourceStatus("live", **base, push_live=3, push_total=3))
    assert "push ◐ 1/3" in line(SourceStatus("live", **base, push_live=1, push_total=3))
    assert "push ○ 0/3" in line(SourceStatus("live", **base, push_live=0, push_total=3))
    assert "push" not in line(SourceStatus("live", **base))  # push off: nothing said
