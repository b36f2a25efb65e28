"""``nemwatch demo`` plays the 2018 scenario end to end and reports what it raised."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from click.testing import CliRunner

from nemwatch.cli import main
from nemwatch.demo import play

JST = timedelta(hours=9)


async def test_demo_first_hour_alerts_the_theft() -> None:
    out = io.StringIO()
    report = await play(out=out, speed=0, until=datetime(2018, 1, 26, 0, 30, tzinfo=UTC) - JST)
    text = out.getvalue()
    outflows = [a for a in report.alerts if a.rule == "outflow" and a.stage.value == "confirmed"]
    assert len(outflows) == 8  # 10 XEM, five of 100M, 20M and 3M by 00:10
    assert report.outflow_xem == 523_000_010 * 1_000_000
    assert "OUTFLOW 10.000000 XEM from Coincheck hot wallet" in text
    assert "hours later" in text and "\x1b" not in text


def test_demo_json_lines_through_the_cli() -> None:
    result = CliRunner().invoke(main, ["demo", "--speed", "0", "--until", "2018-01-26T00:05", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]  # stdout: JSON lines only
    assert lines and {line["rule"] for line in lines} == {"outflow", "taint_move"}  # the theft seeds the taint
    assert lines[0]["amount_xem"] == "10.000000"
    seeds = [line for line in lines if line["rule"] == "taint_move"]
    assert all(line["taint"]["seeded"] and line["taint"]["source_label"] == "thief (NC4)" for line in seeds)


def test_demo_rejects_a_bad_until() -> None:
    result = CliRunner().invoke(main, ["demo", "--until", "yesterday"])
    assert result.exit_code == 2 and "--until" in result.output


async def test_demo_values_alerts_in_jpy_and_tracks_the_price() -> None:
    out = io.StringIO()
    report = await play(out=out, speed=0, until=datetime(2018, 1, 26, 1, 0, tzinfo=UTC) - JST)
    priced = [a for a in report.alerts if a.rule == "outflow" and a.amount_jpy is not None]
    assert priced and all(a.price_source == "zaif" for a in priced)
    assert report.prices and all(80 < p < 130 for _, p, _ in report.prices)
    assert "XEM/JPY (zaif)" in out.getvalue()


def test_demo_headless_prints_json_lines_and_json_is_its_alias() -> None:
    outputs = []
    for flag in ("--headless", "--json"):
        result = CliRunner().invoke(main, ["demo", "--speed", "0", "--until", "2018-01-26T00:05", flag])
        assert result.exit_code == 0, result.output
        outputs.append([json.loads(line) for line in result.stdout.splitlines()])
        # the summary goes to stderr, ending with the taint picture per model
        summary = result.stderr.strip().splitlines()
        assert "blocks followed" in result.stderr and "Taint picture" in result.stderr
        rows = summary[-5:]
        assert [row.split()[0] for row in rows] == ["poison", "haircut", "fifo", "taint_first", "clean_first"]
        fifo = rows[2].split()
        assert fifo[1] == fifo[2] != "0"  # seeded, all still at rest by 00:05
    assert outputs[0] and [line["alert_id"] for line in outputs[0]] == [line["alert_id"] for line in outputs[1]]


async def test_demo_says_how_close_its_market_comes_to_the_real_compensation_price() -> None:
    out = io.StringIO()
    report = await play(out=out, speed=0, until=datetime(2018, 1, 26, 0, 5, tzinfo=UTC) - JST)
    assert report.compensation_vwap is not None
    assert abs(report.compensation_vwap - Decimal("88.549")) < Decimal("0.9")  # near, never exact
    text = out.getvalue()
    assert f"{report.compensation_vwap:.3f} JPY; Coincheck paid 88.549" in text
    assert "Zaif's real XEM/JPY" in text and "no volume" in text and "synthetic" in text
