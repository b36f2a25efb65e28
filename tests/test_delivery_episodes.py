"""One "delivery broken" alert per episode of a broken sink, one "recovered" when it comes
back, the episode kept across a restart, and ``nemwatch outbox`` listing and re-sending."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_delivery import T0, FakeClock, make_alert

from nemwatch.cli import main
from nemwatch.core.alert import Alert
from nemwatch.core.store import DeliveryState, Store
from nemwatch.headless.delivery import Dispatcher
from nemwatch.headless.sinks import PermanentError, StdoutSink


class Switch:
    """A sink that refuses every alert (permanently) while ``broken``."""

    name = "webhook+https://hooks.example/<secret>"
    secrets: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.broken = True
        self.got: list[str] = []

    async def send(self, alert: Alert) -> None:
        if self.broken:
            raise PermanentError(f"{self.name}: HTTP 410")
        self.got.append(alert.alert_id)

    async def aclose(self) -> None:
        return None


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "nemwatch.sqlite3"


def rules(out: io.StringIO) -> list[tuple[str, str]]:
    return [(x["rule"], x["stage"]) for x in map(json.loads, out.getvalue().splitlines())]


async def test_thirty_dead_letters_raise_one_broken_alert_then_one_recovered(db: Path) -> None:
    store = Store.open(db)
    clock = FakeClock(T0)
    hook, out = Switch(), io.StringIO()
    sinks = {hook.name: hook, "stdout": StdoutSink(out)}
    dispatcher = Dispatcher(store, sinks, clock=clock)
    for i in range(30):
        store.add_alerts([make_alert(f"tx{i}")], list(sinks))
        await dispatcher.deliver_pending()
        clock.advance(1)
    got = rules(out)
    assert got.count(("delivery", "firing")) == 1
    assert got.count(("outflow", "confirmed")) == 30
    assert store.outbox_counts()["dead"] == 30
    # a restart keeps the episode: no second "broken" alert for the same outage
    restarted = Dispatcher(store, sinks, clock=clock)
    store.add_alerts([make_alert("after-restart")], list(sinks))
    await restarted.deliver_pending()
    assert rules(out).count(("delivery", "firing")) == 1
    # the sink comes back: one "recovered", and a later outage is a new episode
    hook.broken = False
    store.add_alerts([make_alert("ok")], list(sinks))
    await restarted.deliver_pending()
    assert rules(out).count(("delivery", "resolved")) == 1
    hook.broken = True
    store.add_alerts([make_alert("again")], list(sinks))
    await restarted.deliver_pending()
    assert rules(out).count(("delivery", "firing")) == 2
    store.close()


async def test_outbox_lists_and_resends_dead_letters(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    store = Store.open(state / "nemwatch.sqlite3")
    clock = FakeClock(T0)
    hook, out = Switch(), io.StringIO()
    sinks = {hook.name: hook, "stdout": StdoutSink(out)}
    alerts = [make_alert("x1"), make_alert("x2")]
    store.add_alerts(alerts, list(sinks))
    await Dispatcher(store, sinks, clock=clock).deliver_pending()
    store.close()

    config = tmp_path / "c.toml"
    config.write_text("[network]\n")
    base = ["outbox", "--config", str(config), "--state", str(state)]
    listed = CliRunner().invoke(main, base)
    assert listed.exit_code == 0, listed.output
    assert alerts[0].alert_id in listed.stdout and alerts[1].alert_id in listed.stdout
    assert "HTTP 410" in listed.stdout and "OUTFLOW x1" in listed.stdout
    assert "2 dead letter(s)" in listed.stderr
    as_json = CliRunner().invoke(main, [*base, "--json"])
    assert {json.loads(x)["alert_id"] for x in as_json.stdout.splitlines()} == {a.alert_id for a in alerts}

    assert CliRunner().invoke(main, [*base, "resend"]).exit_code == 2  # names nothing: usage error
    one = CliRunner().invoke(main, [*base, "resend", alerts[0].alert_id])
    assert one.exit_code == 0 and "1 dead letter(s) requeued" in one.stderr

    store = Store.open(state / "nemwatch.sqlite3")
    [row] = [r for r in store.outbox_rows(alerts[0].alert_id) if r.sink == hook.name]
    assert (row.state, row.attempts) == (DeliveryState.PENDING, 0)
    hook.broken = False
    await Dispatcher(store, sinks, clock=clock).deliver_pending(datetime.now(UTC))  # requeued due now
    assert hook.got == [alerts[0].alert_id]
    assert len(store.dead_letters()) == 1
    store.close()
    rest = CliRunner().invoke(main, [*base, "resend", "--all"])
    assert "1 dead letter(s) requeued" in rest.stderr


class StalledReader(io.StringIO):
    """A stream whose writes block until ``release`` is set (a reader that stopped reading)."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.release.wait(10)
        return super().write(text)


async def test_a_stalled_stdout_reader_does_not_block_the_event_loop() -> None:
    import asyncio
    import time

    from nemwatch.headless.sinks import RetryableError

    stream = StalledReader()
    sink = StdoutSink(stream, timeout=0.2)
    alert, other = make_alert("s1"), make_alert("s2")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    with pytest.raises(RetryableError, match="took no line"):
        await sink.send(alert)
    with pytest.raises(RetryableError, match="not reading"):
        await sink.send(other)  # the first line is still stuck: refused at once
    assert time.monotonic() - started < 1.0
    assert ticks >= 10  # the loop kept running while the write was stuck
    stream.release.set()
    await asyncio.sleep(0.1)
    await sink.send(alert)  # went through meanwhile: not written twice
    await sink.send(other)
    task.cancel()
    await sink.aclose()
    assert [json.loads(x)["alert_id"] for x in stream.getvalue().splitlines()] == [alert.alert_id, other.alert_id]
