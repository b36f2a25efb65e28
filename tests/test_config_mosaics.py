"""``[[watch]] alert_mosaics``: per-mosaic outflow thresholds in the config, and what they do."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from nemwatch.cli import main
from nemwatch.config.loader import load_config
from nemwatch.config.render import model_to_toml_data
from nemwatch.core.models import MosaicAmount
from nemwatch.core.rules import WatchRule, outflow_passes
from nemwatch.service import build_watchset

HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"


def write(tmp_path: Path, thresholds: str) -> Path:
    path = tmp_path / "nemwatch.toml"
    path.write_text(f'[[watch]]\naddress = "{HOT}"\nalert_outflow_xem = 1000\nalert_mosaics = {thresholds}\n')
    return path


def test_thresholds_parse_and_reach_the_watch_rule(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '{ "loot:coin" = 100, "ts:warning_dont_accept_stolen_funds" = "1_000" }'))
    expected = (("loot:coin", 100), ("ts:warning_dont_accept_stolen_funds", 1000))
    assert config.watches[0].alert_mosaics == expected
    assert build_watchset(config)[HOT].alert_mosaics == expected
    # written back as a table, so `config show` loads again
    assert model_to_toml_data(config.watches[0])["alert_mosaics"] == dict(expected)


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ('{ "nem:xem" = 1 }', "nem:xem: use alert_outflow_xem for XEM"),
        ('{ "loot:coin" = -1 }', "loot:coin: expected a whole number of the mosaic's smallest units"),
        ('{ "loot:coin" = 1.5 }', "got a float"),
        ('{ "loot:coin" = "ten" }', "got 'ten'"),
        ('{ "nocolon" = 1 }', "mosaic id must be namespace:name"),
        ('{ "loot:coin" = 9_000_000_000_000_001 }', "more than any mosaic's supply"),
        ("5", 'expected a table such as { "namespace:name" = 100 }'),
    ],
)
def test_bad_thresholds_say_which_and_why(tmp_path: Path, written: str, problem: str) -> None:
    result = CliRunner().invoke(main, ["config", "validate", str(write(tmp_path, written))])
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "watch[0].alert_mosaics" in line and problem in line


def coin(quantity: int) -> tuple[MosaicAmount, ...]:
    return (MosaicAmount("loot", "coin", quantity),)


def test_what_passes_a_threshold() -> None:
    listed = WatchRule(alert_outflow_micro=1000, alert_mosaics=(("loot:coin", 100),))
    assert not outflow_passes(listed, 0, coin(99))
    assert outflow_passes(listed, 0, coin(100))
    assert outflow_passes(listed, 1000, coin(1))  # the XEM reaches its own threshold
    assert not outflow_passes(listed, 0, (MosaicAmount("other", "m", 10**9),))  # unlisted, XEM threshold > 0
    assert not outflow_passes(listed, 0, ())  # fee only
    anything = WatchRule(alert_outflow_micro=0, alert_mosaics=(("loot:coin", 100),))
    assert not outflow_passes(anything, 0, coin(5))  # a listed mosaic has its own threshold
    assert outflow_passes(anything, 0, (MosaicAmount("other", "m", 1),))  # unlisted: any outflow
    assert outflow_passes(anything, 1, coin(5))  # any XEM
    assert outflow_passes(anything, 0, ())  # a debit that moves only its fee
