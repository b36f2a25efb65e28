"""Sinks one by one: stdout, journal, command hook, webhook, Apprise; naming and building."""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from http_receiver import Receiver, receiver  # noqa: F401 (the fixture)

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.models import MosaicAmount
from nemwatch.core.store import Store
from nemwatch.core.retry import parse_retry_after
from nemwatch.headless.retry import RetryPolicy
from nemwatch.headless.sinks import (
    AppriseSink,
    CommandSink,
    JournalSink,
    PermanentError,
    RetryableError,
    StdoutSink,
    WebhookSink,
    build_sinks,
    sink_names,
)
from nemwatch.headless.sinks.apprise import notification_text

NOW = datetime(2018, 1, 25, 15, 3, 0, tzinfo=UTC)


def make_alert(key: str = "tx1", message: str | None = None, stage: Stage = Stage.CONFIRMED) -> Alert:
    return Alert(
        alert_id=make_alert_id("mainnet", "outflow", key, stage),
        rule="outflow",
        stage=stage,
        severity=Severity.CRITICAL,
        detected_at=NOW,
        summary=f"OUTFLOW 100.000000 XEM from hot wallet (NC3BI3…) to NC4C6P… [{stage.value}, 1 conf]",
        address="NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ",
        label="hot wallet",
        counterparty="NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG",
        amount=100_000_000,
        fee=150_000,
        mosaics=(MosaicAmount("mizunashi", "marker", 1),),
        tx_hash=key,
        height=1_500_000,
        confirmations=1,
        message=message,
        message_type="plain" if message else None,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "nemwatch.sqlite3")
    yield s
    s.close()


# -- stdout -------------------------------------------------------------------------------


class FlushCounting(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


async def test_stdout_writes_one_json_object_per_line_and_flushes() -> None:
    out = FlushCounting()
    sink = StdoutSink(out)
    await sink.send(make_alert("a", message="line1\nline2\x1b[2J"))
    await sink.send(make_alert("b"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and out.getvalue().endswith("\n")
    first = json.loads(lines[0])
    assert first["alert_id"] == make_alert("a").alert_id
    assert first["message"] == "line1 line2"
    assert out.flushes == 2


async def test_stdout_closed_stream_is_retryable() -> None:
    out = io.StringIO()
    out.close()
    with pytest.raises(RetryableError):
        await StdoutSink(out).send(make_alert())


# -- journal ------------------------------------------------------------------------------


def journal_ids(path: Path) -> list[str]:
    return [json.loads(line)["alert_id"] for line in path.read_text().splitlines()]


async def test_journal_writes_each_alert_once(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    sink = JournalSink(path, store, lambda: NOW)
    a, b = make_alert("a"), make_alert("b")
    await sink.send(a)
    await sink.send(a)
    await sink.send(b)
    assert journal_ids(path) == [a.alert_id, b.alert_id]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert store.journal_has(a.alert_id) and store.journal_end() == path.stat().st_size
    # a new process (same store) does not write them again either
    again = JournalSink(path, store, lambda: NOW)
    await again.send(b)
    assert journal_ids(path) == [a.alert_id, b.alert_id]


async def test_journal_line_written_but_not_recorded_is_not_written_again(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    first = JournalSink(path, store, lambda: NOW)
    await first.send(make_alert("a"))
    # The crash window: the line reached the disk, the process died before recording it.
    lost = make_alert("b")
    with open(path, "a") as fh:
        fh.write(lost.to_json_line() + "\n")
    restarted = JournalSink(path, store, lambda: NOW)
    await restarted.send(lost)
    await restarted.send(make_alert("c"))
    assert journal_ids(path) == [make_alert("a").alert_id, lost.alert_id, make_alert("c").alert_id]
    assert store.journal_has(lost.alert_id)  # the recovery scan recorded it


async def test_journal_cuts_a_torn_last_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    sink = JournalSink(path, store, lambda: NOW)
    await sink.send(make_alert("a"))
    torn = make_alert("b").to_json_line()[:40]
    with open(path, "a") as fh:
        fh.write(torn)
    restarted = JournalSink(path, store, lambda: NOW)
    await restarted.send(make_alert("b"))
    assert journal_ids(path) == [make_alert("a").alert_id, make_alert("b").alert_id]


async def test_journal_memory_stays_flat_and_old_ids_are_still_known(store: Store, tmp_path: Path) -> None:
    """The in-memory id set holds the last ``memory_ids`` written; older ones come from the store."""
    path = tmp_path / "alerts.jsonl"
    sink = JournalSink(path, store, lambda: NOW, memory_ids=3)
    alerts = [make_alert(str(i)) for i in range(12)]
    for alert in alerts:
        await sink.send(alert)
    assert sink.ids_in_memory == 3
    for alert in alerts:  # every one of them, also those no longer in memory, is skipped
        await sink.send(alert)
    assert journal_ids(path) == [a.alert_id for a in alerts]
    with pytest.raises(ValueError):
        JournalSink(path, store, lambda: NOW, memory_ids=0)


async def test_journal_after_rotation_starts_a_new_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    sink = JournalSink(path, store, lambda: NOW)
    for key in ("a", "b", "c"):
        await sink.send(make_alert(key))
    path.rename(tmp_path / "alerts.jsonl.1")
    restarted = JournalSink(path, store, lambda: NOW)
    await restarted.send(make_alert("c"))  # already journaled, in the rotated file
    await restarted.send(make_alert("d"))
    assert journal_ids(path) == [make_alert("d").alert_id]


def test_journal_exactly_once_across_a_kill(store: Store, tmp_path: Path) -> None:
    """A real crash: the process is SIGKILLed after the fsync, before the record."""
    db = tmp_path / "nemwatch.sqlite3"
    path = tmp_path / "alerts.jsonl"
    alert = make_alert("killed")
    store.add_alerts([alert], ["journal"])
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal, json
        from nemwatch.core.alert import alert_from_json_dict
        from nemwatch.core.store import Store
        from nemwatch.headless.sinks.journal import JournalSink
        store = Store.open({str(db)!r})
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        store.journal_record = die
        sink = JournalSink({str(path)!r}, store, lambda: None)
        [row] = store.pending_deliveries(alert_from_json_dict(json.loads({alert.to_json_line()!r})).detected_at)
        asyncio.run(sink.send(row.alert))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    assert journal_ids(path) == [alert.alert_id]
    [row] = store.pending_deliveries(NOW)  # the outbox still says pending
    restarted = JournalSink(path, store, lambda: NOW)
    asyncio.run(restarted.send(row.alert))
    assert journal_ids(path) == [alert.alert_id]


# -- command ------------------------------------------------------------------------------


def hook(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "hook.py"
    script.write_text(textwrap.dedent(body))
    return script


async def test_command_hook_gets_the_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    script = hook(
        tmp_path,
        f"""
        import json, os, sys
        data = sys.stdin.read()
        with open({str(out)!r}, "w") as fh:
            json.dump({{"stdin": data, "argv": sys.argv[1:], "id": os.environ["NEMWATCH_ALERT_ID"],
                       "rule": os.environ["NEMWATCH_RULE"], "severity": os.environ["NEMWATCH_SEVERITY"]}}, fh)
        """,
    )
    marker = tmp_path / "pwned"
    sink = CommandSink(f"command:{sys.executable} {script} 'two words' \"$(touch {marker})\"")
    alert = make_alert("cmd")
    await sink.send(alert)
    got = json.loads(out.read_text())
    assert got["stdin"] == alert.to_json_line() + "\n"
    assert got["argv"] == ["two words", f"$(touch {marker})"]  # no shell: nothing expanded
    assert (got["id"], got["rule"], got["severity"]) == (alert.alert_id, "outflow", "critical")
    assert not marker.exists()


async def test_command_failures(tmp_path: Path) -> None:
    failing = hook(tmp_path, "import sys; sys.stdin.read(); print('no db \\x1b[31m', file=sys.stderr); sys.exit(3)")
    with pytest.raises(RetryableError, match=r"exit status 3: no db"):
        await CommandSink(f"command:{sys.executable} {failing}").send(make_alert())
    with pytest.raises(PermanentError, match="cannot start"):
        await CommandSink(f"command:{tmp_path}/missing-hook").send(make_alert())
    slow = hook(tmp_path, "import time; time.sleep(60)")
    with pytest.raises(RetryableError, match="timed out"):
        await CommandSink(f"command:{sys.executable} {slow}", timeout=0.5).send(make_alert())


async def test_command_errors_hide_secret_arguments(tmp_path: Path) -> None:
    failing = hook(tmp_path, "import sys; print('auth failed for', sys.argv[2], file=sys.stderr); sys.exit(1)")
    sink = CommandSink(f"command:{sys.executable} {failing} --token s3cr3t-hook-token")
    with pytest.raises(RetryableError) as info:
        await sink.send(make_alert())
    assert "s3cr3t-hook-token" not in str(info.value)
    assert "s3cr3t-hook-token" not in sink.name


# -- webhook ------------------------------------------------------------------------------


async def test_webhook_posts_the_alert_with_idempotency_headers(receiver: Receiver) -> None:
    sink = WebhookSink(receiver.url("/hook"))
    alert = make_alert("wh")
    await sink.send(alert)
    await sink.aclose()
    [req] = receiver.on("/hook")
    assert req.json() == alert.to_json_dict()
    assert req.headers["Idempotency-Key"] == alert.alert_id
    assert req.headers["X-Nemwatch-Alert-Id"] == alert.alert_id
    assert req.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("status", "headers", "error", "retry_after"),
    [
        (500, {}, RetryableError, None),
        (503, {"Retry-After": "7"}, RetryableError, 7.0),
        (429, {"Retry-After": "120"}, RetryableError, 120.0),
        (429, {"Retry-After": "Thu, 25 Jan 2018 15:05:00 GMT"}, RetryableError, 120.0),
        (408, {}, RetryableError, None),
        (400, {}, PermanentError, None),
        (404, {}, PermanentError, None),
        (302, {"Location": "http://127.0.0.1:1/elsewhere"}, PermanentError, None),
    ],
)
async def test_webhook_classifies_answers(
    receiver: Receiver, status: int, headers: dict[str, str], error: type[Exception], retry_after: float | None
) -> None:
    receiver.script("/hook", [(status, headers)])
    sink = WebhookSink(receiver.url("/hook"), clock=lambda: NOW)
    with pytest.raises(error) as info:
        await sink.send(make_alert())
    await sink.aclose()
    assert f"HTTP {status}" in str(info.value)
    if isinstance(info.value, RetryableError):
        assert info.value.retry_after == retry_after


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_connection_refused_is_retryable() -> None:
    sink = WebhookSink(f"http://127.0.0.1:{free_port()}/hook")
    with pytest.raises(RetryableError, match="ConnectError"):
        await sink.send(make_alert())
    await sink.aclose()


def test_retry_after_forms() -> None:
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("30", NOW) == 30.0
    assert parse_retry_after("Thu, 25 Jan 2018 15:04:00 GMT", NOW) == 60.0
    assert parse_retry_after("Thu, 25 Jan 2018 15:00:00 GMT", NOW) == 0.0  # already past
    assert parse_retry_after("soon", NOW) is None


def test_backoff_grows_with_jitter_and_caps() -> None:
    policy = RetryPolicy()
    rng = random.Random(7)
    delays = [policy.backoff(n, rng) for n in range(1, 12)]
    assert 1.0 <= delays[0] <= 1.25
    assert all(later > earlier for earlier, later in zip(delays[:8], delays[1:9], strict=True))
    assert delays[-1] == 300.0
    assert policy.delay(3, rng, retry_after=120.0) == 120.0
    assert policy.delay(3, rng, retry_after=10**9) == policy.max_retry_after
    assert 4.0 <= policy.delay(3, rng, retry_after=0.0) <= 5.0  # never sooner than the backoff


# -- apprise ------------------------------------------------------------------------------


async def test_apprise_json_receives_text_with_mentions_neutralised(receiver: Receiver) -> None:
    sink = AppriseSink(f"json://127.0.0.1:{receiver.port}/notify")
    alert = make_alert("ap", message="@everyone send <@123456> [click](https://evil.example) @here")
    await sink.send(alert)
    [req] = receiver.on("/notify")
    payload = req.json()
    text = payload["title"] + payload["message"]
    assert "@" not in text
    assert "\uff20everyone" in payload["message"] and "<\uff20123456>" in payload["message"]
    assert alert.alert_id in payload["message"]
    assert payload["message"].startswith(alert.summary)
    assert payload["type"] == "failure"  # critical


async def test_apprise_failure_is_retryable(receiver: Receiver) -> None:
    receiver.script("/notify", [(500, {})])
    sink = AppriseSink(f"json://127.0.0.1:{receiver.port}/notify")
    with pytest.raises(RetryableError):
        await sink.send(make_alert())


def test_apprise_refuses_an_unknown_url() -> None:
    with pytest.raises(ValueError, match="apprise cannot use"):
        AppriseSink("nosuchscheme://token1234567890/")


def test_notification_text_fields() -> None:
    title, body = notification_text(make_alert("nt", message="hi @all"))
    assert title == "nemwatch critical: outflow confirmed"
    assert "amount: 100.000000 XEM" in body and "fee: 0.150000 XEM" in body
    assert "message: hi \uff20all" in body


# -- naming and building ------------------------------------------------------------------


def test_sink_names_are_redacted_and_stable() -> None:
    a = "webhook+https://hooks.example.com/services/T00/B00/abcdefghijklmnop"
    rotated = "webhook+https://hooks.example.com/services/T00/B00/qrstuvwxyz123456"
    assert sink_names([a])[a] == sink_names([rotated])[rotated] == "webhook+https://hooks.example.com/services/T00/B00/<secret>"
    d1, d2 = "discord://111111111111/aaaaaaaaaaaaaaaa", "discord://222222222222/bbbbbbbbbbbbbbbb"
    names = sink_names(["stdout", d1, d2, "stdout"])
    assert list(names) == ["stdout", d1, d2]
    assert names[d1] != names[d2]
    assert names[d1].startswith("discord://<secret>/<secret>#")
    assert names == sink_names(["stdout", d1, d2])
    assert all("aaaaaaaa" not in n and "1111111" not in n for n in names.values())


def test_build_sinks(store: Store, tmp_path: Path) -> None:
    sinks = build_sinks(
        ["stdout", "journal", "webhook+http://127.0.0.1:9/hook", "json://127.0.0.1:9/", f"command:{sys.executable} -V"],
        store=store,
        journal_path=tmp_path / "alerts.jsonl",
        clock=lambda: NOW,
    )
    assert [type(s).__name__ for s in sinks.values()] == [
        "StdoutSink", "JournalSink", "WebhookSink", "AppriseSink", "CommandSink",
    ]
    assert all(name == sink.name for name, sink in sinks.items())
    with pytest.raises(ValueError, match="unknown alert sink"):
        build_sinks(["carrier-pigeon"], store=store, journal_path=tmp_path / "j", clock=lambda: NOW)
    for bad in ("webhook+ftp://x/y", "webhook+http://[::1:zz/", "webhook+https:///nohost"):
        with pytest.raises(ValueError, match="webhook"):
            build_sinks([bad], store=store, journal_path=tmp_path / "j", clock=lambda: NOW)


def test_retry_after_date_in_the_future_from_now() -> None:
    later = NOW + timedelta(minutes=10)
    stamp = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(stamp, NOW) == 600.0


async def test_journal_does_not_repeat_a_line_when_recording_it_fails(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    sink = JournalSink(path, store, lambda: NOW)
    real = store.journal_record

    def busy(*args: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    store.journal_record = busy  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError):
        await sink.send(make_alert("a"))
    store.journal_record = real  # type: ignore[method-assign]
    await sink.send(make_alert("a"))
    assert journal_ids(path) == [make_alert("a").alert_id]
