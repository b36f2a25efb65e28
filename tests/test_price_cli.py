"""``nemwatch price``: fetch, store and print the price with its source and age, the 24 h VWAP
and the history fill, against the simulator's market on 127.0.0.1 (real time)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from nemwatch.cli import main
from nemwatch.core.price.store import PriceStore
from nemwatch.sim.market import Market, MarketServer


@pytest.fixture
def live_market() -> Iterator[tuple[Market, str]]:
    now = datetime.now(UTC)
    market = Market([(now - timedelta(days=3), Decimal(100)), (now + timedelta(days=1), Decimal(90))], 6,
                    lambda: datetime.now(UTC))
    with MarketServer(market) as server:
        yield market, server.url


def write_config(path: Path, url: str, sources: list[str]) -> Path:
    names = ", ".join(f'"{s}"' for s in sources)
    path.write_text(
        f"[price]\nsources = [{names}]\nstale_after_seconds = 120\n\n[price.urls]\n"
        + "".join(f'{key} = "{url}"\n' for key in ("zaif", "zaif_chart", "gmo", "coincheck", "coingecko"))
    )
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["price", *args])
    return result.exit_code, result.stdout, result.stderr


def test_price_once_prints_source_age_vwap_and_fills_history(tmp_path: Path, live_market: tuple[Market, str]) -> None:
    market, url = live_market
    config = write_config(tmp_path / "config.toml", url, ["zaif", "gmo"])
    code, out, err = run("--config", str(config), "--state", str(tmp_path / "state"), "--once")
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == "history: 288 candles of 300 s from zaif"
    assert lines[1].startswith("XEM/JPY ") and "  zaif  " in lines[1] and lines[1].endswith("fresh")
    assert "age 0s" in lines[1] or "age 1s" in lines[1]
    assert "24h VWAP" in lines[2] and "zaif ticker 24h vwap" in lines[2]
    with PriceStore(tmp_path / "state" / "nemwatch.sqlite3") as store:
        counts = store.counts()
        assert counts["ticks"] == 1 and counts["trades"] == 150 and counts["candles"] == 288
        tick = store.latest_tick("xem_jpy")
        assert tick is not None and tick.source == "zaif"
        last = market.last_trade(datetime.now(UTC))
        assert last is not None and abs(tick.price - last.price) < Decimal(1)


def test_price_json_shows_staleness_and_fallback(tmp_path: Path, live_market: tuple[Market, str]) -> None:
    market, url = live_market
    market.outages.add("zaif")
    config = write_config(tmp_path / "config.toml", url, ["zaif", "gmo"])
    code, out, err = run("--config", str(config), "--state", str(tmp_path), "--once", "--json")
    assert code == 0, out + err
    data = json.loads(out.splitlines()[-1])
    assert data["source"] == "gmo" and data["stale"] is False and data["age_seconds"] in (0, 1)
    assert Decimal(data["price"]) > 0
    providers = {p["name"]: p for p in data["providers"]}
    assert providers["zaif"]["failures"] >= 1 and "503" in providers["zaif"]["last_error"]
    assert data["history"]["source"] == "gmo"  # zaif is resting; gmo gave the candles
    assert "zaif: listing check failed" in err


def test_price_when_every_provider_is_down_or_delisted(tmp_path: Path, live_market: tuple[Market, str]) -> None:
    market, url = live_market
    market.listed = False
    config = write_config(tmp_path / "config.toml", url, ["zaif", "coincheck"])
    code, out, err = run("--config", str(config), "--state", str(tmp_path), "--once")
    assert code == 1
    assert "zaif: does not list xem_jpy, skipped" in err and "coincheck: does not list xem_jpy, skipped" in err
    assert "XEM/JPY: no price yet" in out


def test_price_off(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[price]\nsources = []\n")
    code, _, err = run("--config", str(config), "--state", str(tmp_path), "--once")
    assert code == 1 and "price is off" in err


def test_price_values_watched_holdings_in_jpy(tmp_path: Path, live_market: tuple[Market, str]) -> None:
    from nemwatch.core.store import Store

    _, url = live_market
    hot = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
    config = write_config(tmp_path / "config.toml", url, ["zaif"])
    config.write_text(config.read_text() + f'\n[[watch]]\naddress = "{hot}"\nlabel = "hot wallet"\n')
    state = tmp_path / "state"
    state.mkdir()
    store = Store.open(state / "nemwatch.sqlite3")
    store.upsert_account(hot, label="hot wallet", urgent=False, now=datetime.now(UTC))
    store.set_balance(hot, 2_000_000_000, 100)  # 2,000 XEM read by the watcher
    store.close()
    code, out, err = run("--config", str(config), "--state", str(state), "--once")
    assert code == 0, out + err
    price_text = out.split("XEM/JPY ", 1)[1].split(" ", 1)[0]
    expected = (Decimal(price_text) * 2000).quantize(Decimal("0.01"))
    assert f"hot wallet  {hot}  2,000.000000 XEM  ~{expected:,.2f} JPY" in out
    code, out, _ = run("--config", str(config), "--state", str(state), "--once", "--json")
    data = json.loads(out.splitlines()[-1])
    assert Decimal(data["holdings_jpy"][hot]) == Decimal(data["holdings_jpy"]["total"]) > 0
