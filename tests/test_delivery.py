"""The outbox dispatcher: retries with growing delays, Retry-After, dead letters and the
"delivery broken" alert, at-least-once with an exactly-once journal, secret hygiene."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
import socket
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from http_receiver import Receiver, receiver  # noqa: F401 (the fixture)

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.store import DeliveryState, Store
from nemwatch.headless.delivery import Dispatcher
from nemwatch.headless.retry import RetryPolicy
from nemwatch.headless.sinks import JournalSink, StdoutSink, WebhookSink, build_sinks

T0 = datetime(2018, 1, 25, 15, 3, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_alert(key: str, at: datetime = T0) -> Alert:
    return Alert(
        alert_id=make_alert_id("mainnet", "outflow", key, Stage.CONFIRMED),
        rule="outflow",
        stage=Stage.CONFIRMED,
        severity=Severity.CRITICAL,
        detected_at=at,
        summary=f"OUTFLOW {key}",
        address="NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ",
        tx_hash=key,
        amount=1,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "nemwatch.sqlite3")
    yield s
    s.close()


def lines(out: io.StringIO) -> list[dict]:
    return [json.loads(x) for x in out.getvalue().splitlines()]


async def test_500_three_times_then_200_is_delivered_once_with_growing_delays(
    store: Store, receiver: Receiver
) -> None:
    receiver.script("/hook", [(500, {})] * 3)
    clock = FakeClock(T0)
    hook = WebhookSink(receiver.url("/hook"), clock=clock)
    alert = make_alert("a")
    store.add_alerts([alert], [hook.name])
    dispatcher = Dispatcher(store, {hook.name: hook}, clock=clock, rng=random.Random(3))
    delays = []
    for _ in range(3):
        stats = await dispatcher.deliver_pending()
        assert stats.retried == 1 and stats.delivered == 0
        due = dispatcher.next_due()
        assert due is not None and due > clock.now
        # nothing is sent before the row falls due
        before = len(receiver.on("/hook"))
        await dispatcher.deliver_pending(due - timedelta(milliseconds=1))
        assert len(receiver.on("/hook")) == before
        delays.append((due - clock.now).total_seconds())
        clock.now = due
    stats = await dispatcher.deliver_pending()
    assert stats.delivered == 1
    assert delays[0] < delays[1] < delays[2]
    assert 1.0 <= delays[0] < 2.0
    requests = receiver.on("/hook")
    assert len(requests) == 4
    assert {r.headers["Idempotency-Key"] for r in requests} == {alert.alert_id}
    [row] = store.outbox_rows(alert.alert_id)
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.DELIVERED, 4, f"{hook.name}: HTTP 500")
    clock.advance(3600)
    assert (await dispatcher.deliver_pending()).delivered == 0
    assert len(receiver.on("/hook")) == 4
    await dispatcher.aclose()


async def test_400_is_dead_lettered_and_raises_delivery_broken_on_the_other_sink(
    store: Store, receiver: Receiver
) -> None:
    receiver.script("/hook", [(400, {})])
    clock = FakeClock(T0)
    out = io.StringIO()
    hook = WebhookSink(receiver.url("/hook"), clock=clock)
    sinks = {hook.name: hook, "stdout": StdoutSink(out)}
    alert = make_alert("b")
    store.add_alerts([alert], list(sinks))
    dispatcher = Dispatcher(store, sinks, clock=clock)
    stats = await dispatcher.deliver_pending()
    assert (stats.dead, stats.raised, stats.delivered) == (1, 1, 2)
    got = lines(out)
    assert [g["rule"] for g in got] == ["outflow", "delivery"]
    broken = got[1]
    assert broken["severity"] == "critical"
    assert broken["failed_alert_id"] == alert.alert_id
    assert broken["sink"] == hook.name
    assert broken["summary"].startswith(f"DELIVERY BROKEN {hook.name}: {hook.name}: HTTP 400")
    rows = {r.sink: r for r in store.outbox_rows(alert.alert_id)}
    assert rows[hook.name].state is DeliveryState.DEAD and rows[hook.name].attempts == 1
    # the broken alert is queued for the other sink only; the dead row is never retried
    assert [r.sink for r in store.outbox_rows(broken["alert_id"])] == ["stdout"]
    clock.advance(86_400)
    await dispatcher.deliver_pending()
    assert len(receiver.on("/hook")) == 1
    await dispatcher.aclose()


async def test_429_retry_after_is_honoured(store: Store, receiver: Receiver) -> None:
    receiver.script("/hook", [(429, {"Retry-After": "120"})])
    clock = FakeClock(T0)
    hook = WebhookSink(receiver.url("/hook"), clock=clock)
    store.add_alerts([make_alert("c")], [hook.name])
    dispatcher = Dispatcher(store, {hook.name: hook}, clock=clock)
    assert (await dispatcher.deliver_pending()).retried == 1
    assert dispatcher.next_due() == T0 + timedelta(seconds=120)
    clock.advance(119)
    await dispatcher.deliver_pending()
    assert len(receiver.on("/hook")) == 1
    clock.advance(1)
    assert (await dispatcher.deliver_pending()).delivered == 1
    assert len(receiver.on("/hook")) == 2
    await dispatcher.aclose()


async def test_a_backing_off_sink_holds_its_queue_in_order_while_others_deliver(
    store: Store, receiver: Receiver
) -> None:
    receiver.script("/hook", [(503, {})])
    clock = FakeClock(T0)
    out = io.StringIO()
    hook = WebhookSink(receiver.url("/hook"), clock=clock)
    sinks = {hook.name: hook, "stdout": StdoutSink(out)}
    first, second = make_alert("d1"), make_alert("d2", T0 + timedelta(seconds=1))
    store.add_alerts([first], list(sinks))
    store.add_alerts([second], list(sinks))
    clock.advance(1)
    dispatcher = Dispatcher(store, sinks, clock=clock, rng=random.Random(1))
    stats = await dispatcher.deliver_pending()
    assert (stats.retried, stats.deferred, stats.delivered) == (1, 1, 2)
    assert len(receiver.on("/hook")) == 1
    [second_row] = [r for r in store.outbox_rows(second.alert_id) if r.sink == hook.name]
    assert second_row.attempts == 0  # it waited, it did not fail
    clock.now = dispatcher.next_due()
    assert (await dispatcher.deliver_pending()).delivered == 2
    assert [r.json()["alert_id"] for r in receiver.on("/hook")] == [first.alert_id, first.alert_id, second.alert_id]
    await dispatcher.aclose()


async def test_giving_up_after_too_long_dead_letters(store: Store, receiver: Receiver) -> None:
    receiver.script("/hook", [(500, {})] * 50)
    clock = FakeClock(T0)
    hook = WebhookSink(receiver.url("/hook"), clock=clock)
    store.add_alerts([make_alert("e")], [hook.name])
    policy = RetryPolicy(give_up_after=timedelta(seconds=20))
    dispatcher = Dispatcher(store, {hook.name: hook}, clock=clock, policy=policy, rng=random.Random(2))
    dead = 0
    for _ in range(10):
        dead += (await dispatcher.deliver_pending()).dead
        due = dispatcher.next_due()
        if due is None:
            break
        clock.now = due
    assert dead == 1
    [row] = store.outbox_rows()
    assert row.state is DeliveryState.DEAD
    assert row.last_error.startswith(f"gave up after {row.attempts} attempts: ")
    assert 3 <= row.attempts <= 6
    await dispatcher.aclose()


async def test_a_crashing_sink_is_retried_and_does_not_stop_the_others(store: Store) -> None:
    class Broken:
        name = "broken"
        secrets = ()

        async def send(self, alert: Alert) -> None:
            raise KeyError("bug")

        async def aclose(self) -> None:
            return None

    out = io.StringIO()
    clock = FakeClock(T0)
    sinks = {"broken": Broken(), "stdout": StdoutSink(out)}
    store.add_alerts([make_alert("f")], list(sinks))
    stats = await Dispatcher(store, sinks, clock=clock).deliver_pending()
    assert (stats.retried, stats.delivered) == (1, 1)
    row = next(r for r in store.outbox_rows() if r.sink == "broken")
    assert row.state is DeliveryState.PENDING and row.last_error == "broken: KeyError: 'bug'"


async def test_rows_of_an_unconfigured_sink_wait_for_it(store: Store) -> None:
    out = io.StringIO()
    clock = FakeClock(T0)
    store.add_alerts([make_alert("g")], ["stdout", "webhook+https://gone.example/<secret>"])
    dispatcher = Dispatcher(store, {"stdout": StdoutSink(out)}, clock=clock)
    assert (await dispatcher.deliver_pending()).delivered == 1
    assert dispatcher.next_due() is None
    assert store.outbox_counts() == {"pending": 1, "delivered": 1, "dead": 0}


async def test_journal_stays_exactly_once_when_the_process_dies_before_marking(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "alerts.jsonl"
    clock = FakeClock(T0)
    alerts = [make_alert(f"j{i}") for i in range(3)]
    store.add_alerts(alerts, ["journal"])

    class Crash(BaseException):
        pass

    real_mark = store.mark_delivered
    calls = 0

    def crash_on_second(*args: object) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Crash
        return real_mark(*args)  # type: ignore[arg-type]

    store.mark_delivered = crash_on_second  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await Dispatcher(store, {"journal": JournalSink(path, store, clock)}, clock=clock).deliver_pending()
    del store.mark_delivered
    assert store.outbox_counts()["pending"] == 2
    # restart: a new sink, a new dispatcher, same files
    restarted = Dispatcher(store, {"journal": JournalSink(path, store, clock)}, clock=clock)
    assert (await restarted.deliver_pending()).delivered == 2
    ids = [json.loads(x)["alert_id"] for x in path.read_text().splitlines()]
    assert ids == [a.alert_id for a in alerts]
    assert store.outbox_counts() == {"pending": 0, "delivered": 3, "dead": 0}


async def test_run_loop_sleeps_until_the_next_attempt(store: Store, receiver: Receiver) -> None:
    receiver.script("/hook", [(500, {}), (500, {})])
    clock = FakeClock(T0)
    hook = WebhookSink(receiver.url("/hook"), clock=clock)
    store.add_alerts([make_alert("h")], [hook.name])
    stop = asyncio.Event()
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)
        if store.outbox_counts()["pending"] == 0 or len(slept) > 10:
            stop.set()

    dispatcher = Dispatcher(store, {hook.name: hook}, clock=clock, sleep=fake_sleep, rng=random.Random(5))
    await dispatcher.run(stop, idle=30.0)
    assert store.outbox_counts()["delivered"] == 1
    assert len(receiver.on("/hook")) == 3
    assert 1.0 <= slept[0] < slept[1] <= 2.5
    assert slept[2] == 30.0  # idle once nothing is pending
    await dispatcher.aclose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_secrets_never_reach_logs_errors_or_the_store(
    store: Store, receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token, query_token, refused_token = "tOk3nXyZsecret0987654321", "q-tok-ABCDEFGH123", "r3fusedTOKENvalue777"
    caplog.set_level(logging.DEBUG)
    receiver.script(f"/hooks/{token}", [(500, {}), (403, {})])
    specs = [
        "stdout",
        f"webhook+{receiver.url(f'/hooks/{token}?token={query_token}')}",
        f"webhook+http://127.0.0.1:{free_port()}/hooks/{refused_token}",
    ]
    with pytest.raises(ValueError) as bad_url:
        build_sinks([f"webhook+http://[::1:{token}/"], store=store, journal_path=tmp_path / "j", clock=lambda: T0)
    errors: list[str] = [str(bad_url.value), "".join(traceback.format_exception(bad_url.value))]
    out = io.StringIO()
    clock = FakeClock(T0)
    sinks = build_sinks(specs, store=store, journal_path=tmp_path / "j.jsonl", clock=clock, stdout=out)
    store.add_alerts([make_alert("s")], list(sinks))
    dispatcher = Dispatcher(store, sinks, clock=clock, rng=random.Random(4))
    for _ in range(4):
        await dispatcher.deliver_pending()
        due = dispatcher.next_due()
        if due is None:
            break
        clock.now = max(due, clock.now)
    for sink in sinks.values():
        try:
            await sink.send(make_alert("direct"))
        except Exception as exc:  # collect every way an error can be shown
            errors += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    await dispatcher.aclose()
    assert len(receiver.on(f"/hooks/{token}")) >= 2  # the destination did get the requests
    assert store.outbox_counts()["dead"] == 1  # the 403

    store.connection.execute("PRAGMA wal_checkpoint(FULL)")
    db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("nemwatch.sqlite3*"))
    dump = "\n".join(store.connection.iterdump())
    logged = caplog.text + "\n".join(
        r.getMessage() + (r.exc_text or "") for r in caplog.records
    )
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # httpx did log the URL
    for secret in (token, query_token, refused_token):
        assert logged.count(secret) == 0
        assert "".join(errors).count(secret) == 0
        assert dump.count(secret) == 0
        assert db_bytes.count(secret.encode()) == 0
        assert out.getvalue().count(secret) == 0
        assert all(secret not in name for name in sinks)
    assert any(r.last_error and "<secret>" in r.last_error for r in store.outbox_rows())


async def test_a_backing_off_sink_does_not_starve_the_others_beyond_a_batch(store: Store, receiver: Receiver) -> None:
    receiver.script("/hook", [(500, {})])
    clock = FakeClock(T0)
    out = io.StringIO()
    hook = WebhookSink(receiver.url("/hook"), clock=clock)
    sinks = {hook.name: hook, "stdout": StdoutSink(out)}
    store.add_alerts([make_alert(f"n{i}", T0 + timedelta(microseconds=i)) for i in range(5)], [hook.name])
    store.add_alerts([make_alert("late", T0 + timedelta(seconds=1))], ["stdout"])
    clock.advance(1)
    dispatcher = Dispatcher(store, sinks, clock, batch=2)
    await dispatcher.deliver_pending()
    assert [x["alert_id"] for x in lines(out)] == [make_alert("late").alert_id]
    await dispatcher.aclose()
