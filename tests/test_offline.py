"""Without network: nodes are asked first, price attempts are bounded, errors say the host and
the cause once."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from price_support import FakeTime, fast_http

from nemwatch.cli import main
from nemwatch.core.price.base import ProviderError
from nemwatch.core.price.feed import PriceFeed


def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


async def test_an_unreachable_host_is_tried_once_and_named_with_its_cause() -> None:
    port = refused_port()
    clock = FakeTime()
    async with httpx.AsyncClient() as client:
        http = fast_http(client, clock, name="zaif")
        with pytest.raises(ProviderError) as info:
            await http(f"http://user:pw-s3cret@127.0.0.1:{port}/api/1/ticker/xem_jpy?key=k3y")
    assert http.requests == 1 and clock.slept == []  # no inline retries, no backoff sleeps
    assert str(info.value) == f"zaif: cannot connect to 127.0.0.1:{port}: Connection refused (/api/1/ticker/xem_jpy)"
    assert info.value.unreachable
    assert "s3cret" not in str(info.value) and "k3y" not in str(info.value)


async def test_a_5xx_is_still_retried_and_names_the_host() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503)

    clock = FakeTime()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        http = fast_http(client, clock, name="gmo")
        with pytest.raises(ProviderError, match=r"^gmo: HTTP 503 from api\.coin\.z\.com on /public/v1/ticker$"):
            await http("https://api.coin.z.com/public/v1/ticker")
    assert len(calls) == 3


async def test_the_feed_log_and_state_name_the_provider_once(caplog: pytest.LogCaptureFixture) -> None:
    port = refused_port()
    base = f"http://127.0.0.1:{port}"
    feed = PriceFeed.build(["zaif", "coingecko"], urls={"zaif": base, "coingecko": base, "zaif_chart": base})
    try:
        await feed.check_listings()
    finally:
        await feed.aclose()
    lines = [r.getMessage() for r in caplog.records if r.name == "nemwatch.price"]
    assert lines and all(line.count("zaif:") + line.count("coingecko:") == 0 for line in lines), lines
    assert feed.state["zaif"].last_error.startswith(f"cannot connect to 127.0.0.1:{port}: Connection refused")
    assert feed.state["coingecko"].last_error is not None  # never "listing check failed (None)"


def test_check_without_any_node_does_not_wait_for_prices(tmp_path: Path) -> None:
    port = refused_port()
    base = f"http://127.0.0.1:{port}"
    config = tmp_path / "c.toml"
    config.write_text(
        f'[network]\nnodes = ["{base}"]\nrequest_timeout_seconds = 2\n'
        '[[watch]]\naddress = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"\n'
        "[price.urls]\n" + "".join(f'{k} = "{base}"\n' for k in ("zaif", "zaif_chart", "gmo", "coincheck", "coingecko"))
    )
    started = time.monotonic()
    result = CliRunner().invoke(main, ["check", "-v", "--config", str(config), "--state", str(tmp_path / "s")])
    elapsed = time.monotonic() - started
    assert result.exit_code == 2
    assert "no node answers: the price is not fetched this run" in result.stderr
    assert "price source" not in result.stderr
    assert elapsed < 8, elapsed
