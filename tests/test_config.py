"""Config: TOML -> validated models, one-line errors with exit 2, defaults, redaction, paths."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tomllib
import typing
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ValidationError

from nemwatch import paths
from nemwatch.cli import main
from nemwatch.config import (
    Config,
    ConfigError,
    config_from_data,
    default_config,
    load_config,
    permission_warning,
)
from nemwatch.config.errors import toml_keys
from nemwatch.core.alert import Severity
from nemwatch.core.models import Network

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.toml"

HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
TESTNET_SINK = "TAMESPACEWH4MKFMBCVFERDPOOP4FK7MTDJEYP35"
MARKERS = {
    "mizunashi.coincheck_stolen_funds_do_not_accept_trades:owner_of_this_account_is_hacker",
    "ts:warning_dont_accept_stolen_funds",
}

SLACK_TOKEN = "Xk9SecretSlackTokenQ7"
TGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
GECKO_KEY = "CG-demoKeyShouldNeverShow42"
MAIL_PASSWORD = "hunter2pass"


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real config and state directories."""
    monkeypatch.delenv(paths.CONFIG_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def write(tmp_path: Path, text: str, name: str = "nemwatch.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def load_text(tmp_path: Path, text: str) -> Config:
    return load_config(write(tmp_path, text))


# --- the built-in default and the example -----------------------------------------------------


def test_builtin_default_is_the_2018_case() -> None:
    cfg = default_config()
    assert cfg.source is None
    assert cfg.network.name is Network.MAINNET
    assert cfg.network.nodes[0] == "http://portobelo.nemmain.net:7890"
    assert len(cfg.network.nodes) == 3
    assert all(re.fullmatch(r"http://\d+\.\d+\.\d+\.\d+:7890", n) for n in cfg.network.nodes[1:])
    (watch,) = cfg.watches
    assert (watch.address, watch.label, watch.urgent) == (HOT, "Coincheck hot wallet (2018)", True)
    (source,) = cfg.taint.sources
    assert source.address == THIEF
    assert source.victim == HOT
    assert source.since == datetime(2018, 1, 26, 0, 2, 13, tzinfo=timezone(timedelta(hours=9)))
    assert set(cfg.taint.markers) == MARKERS


def test_no_file_anywhere_gives_the_builtin_default() -> None:
    cfg = load_config(None)
    assert cfg == default_config()
    assert cfg.source is None


def test_platform_config_file_is_read(tmp_path: Path) -> None:
    file = paths.platform_config_path()
    file.parent.mkdir(parents=True)
    file.write_text('[network]\nname = "testnet"\n', encoding="utf-8")
    cfg = load_config(None)
    assert cfg.source == file
    assert cfg.network.name is Network.TESTNET
    assert cfg.network.nodes == ("http://libertalia.nemtest.net:7890",)


def test_env_variable_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[network]\npoll_seconds = 2\n")
    monkeypatch.setenv(paths.CONFIG_ENV, str(path))
    cfg = load_config(None)
    assert cfg.source == path
    assert cfg.network.poll_seconds == 2
    monkeypatch.setenv(paths.CONFIG_ENV, str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(None)


def test_example_config_validates() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.source == EXAMPLE
    assert {w.address for w in cfg.watches} == {HOT, THIEF}
    assert cfg.price.alerts[0].value == Decimal("5.5")


def _types(tp: object) -> list[object]:
    return [tp, *(t for arg in typing.get_args(tp) for t in _types(arg))]


def _models(model: type[BaseModel]) -> set[type[BaseModel]]:
    found = {model}
    for field in model.model_fields.values():
        for tp in _types(field.annotation):
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                found |= _models(tp)
    return found


def test_example_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    models = _models(Config)
    assert len(models) == 12
    missing = [
        f"{m.__name__}.{key}"
        for m in models
        for key in toml_keys(m)
        if not re.search(rf"^(# )?{key} = ", text, re.MULTILINE)
        and not re.search(rf"^\[+([a-z_]+\.)*{key}\]+$", text, re.MULTILINE)
    ]
    assert missing == []


def test_every_example_key_line_is_commented() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    seen_tables: set[str] = set()
    table = ""
    undocumented = []
    for i, line in enumerate(lines):
        if line.startswith("["):
            table = line.strip("[]")
            repeat = table in seen_tables
            seen_tables.add(table)
            continue
        match = re.match(r"^(?:# )?([a-z_]+) = ", line)
        if match and not repeat and not lines[i - 1].startswith("#"):
            undocumented.append(f"{table}.{match.group(1)}")
    assert undocumented == []


# --- values -----------------------------------------------------------------------------------


def test_dashed_and_lowercase_addresses_are_normalized(tmp_path: Path) -> None:
    cfg = load_text(
        tmp_path,
        '[[watch]]\naddress = "nc3bi3-dnmr2p-geoomp-2nkxqg-sakms7-gyrkva-5csz"\n'
        '[[label]]\naddress = "nc4c6psuw5cltdt5sxagjdqjgznesk fk5mcn77og"\nname = "thief"\n',
    )
    assert cfg.watches[0].address == HOT
    assert cfg.labels[0].address == THIEF
    assert cfg.label_of(THIEF) == "thief"


@pytest.mark.parametrize(
    ("written", "micro"),
    [("0", 0), ("1000", 1_000_000_000), ("0.5", 500_000), ('"0.000001"', 1), ("1_000", 1_000_000_000),
     ("8999999999", 8_999_999_999_000_000), ("123.456789", 123_456_789)],
)
def test_xem_amounts_are_exact_micro_xem(tmp_path: Path, written: str, micro: int) -> None:
    cfg = load_text(tmp_path, f'[[watch]]\naddress = "{HOT}"\nalert_outflow_xem = {written}\n')
    assert cfg.watches[0].alert_outflow_micro == micro
    assert isinstance(cfg.watches[0].alert_outflow_micro, int)


def test_defaults_that_follow_other_keys(tmp_path: Path) -> None:
    cfg = load_text(tmp_path, "[network]\npoll_seconds = 3\nconfirmations_settled = 30\n")
    assert cfg.network.unconfirmed_poll_seconds == 3
    assert cfg.alerts.settled_confirmations == 30
    assert cfg.taint.min_micro == 1000 * 1_000_000
    assert cfg.taint.model == "fifo"
    assert cfg.price.sources == ("zaif", "gmo", "coincheck", "coingecko", "synthetic")
    assert cfg.price.urls.zaif == "https://api.zaif.jp"
    assert cfg.alerts.min_severity is Severity.INFO


def test_testnet_config_takes_testnet_addresses(tmp_path: Path) -> None:
    cfg = load_text(tmp_path, f'[network]\nname = "testnet"\n[[watch]]\naddress = "{TESTNET_SINK}"\n')
    assert cfg.watches[0].address == TESTNET_SINK


def test_price_alert_windows_and_urls(tmp_path: Path) -> None:
    cfg = load_text(
        tmp_path,
        '[price.urls]\nzaif = "http://127.0.0.1:8123/"\n'
        '[[price.alert]]\nkind = "move_pct"\nvalue = 7.5\n'
        '[[price.alert]]\nkind = "cross_vwap"\n'
        '[[price.alert]]\nkind = "stale"\n',
    )
    assert cfg.price.urls.zaif == "http://127.0.0.1:8123"
    assert [a.window_minutes for a in cfg.price.alerts] == [60, 1440, None]
    assert cfg.price.alerts[0].value == Decimal("7.5")


def test_since_accepts_a_string_or_a_toml_datetime(tmp_path: Path) -> None:
    text = f'[[taint.source]]\naddress = "{THIEF}"\nsince = {{}}\n'
    a = load_text(tmp_path, text.format('"2018-01-25T15:02:13Z"')).taint.sources[0].since
    b = load_text(tmp_path, text.format("2018-01-26T00:02:13+09:00")).taint.sources[0].since
    assert a == b


def test_relative_paths_are_taken_from_the_config_directory(tmp_path: Path) -> None:
    cfg = load_text(tmp_path, '[alerts]\njournal_path = "j/alerts.jsonl"\n[state]\ndir = "st"\n')
    assert cfg.alerts.journal_path == tmp_path / "j" / "alerts.jsonl"
    assert cfg.journal_path() == tmp_path / "j" / "alerts.jsonl"
    assert cfg.state_dir() == tmp_path / "st"
    assert cfg.db_path() == tmp_path / "st" / paths.DB_FILE_NAME
    assert stat.S_IMODE((tmp_path / "st").stat().st_mode) == 0o700


def test_config_is_frozen() -> None:
    cfg = default_config()
    with pytest.raises(ValidationError):
        cfg.network.poll_seconds = 1  # type: ignore[misc]


def test_programmatic_config_checks_the_network_too() -> None:
    with pytest.raises(ValidationError, match="testnet address used on mainnet"):
        Config.model_validate({"watch": [{"address": TESTNET_SINK}]})


# --- bad input: one line, exit 2 ---------------------------------------------------------------

BAD = [
    ("checksum", f'[[watch]]\naddress = "{HOT[:-1]}A"\n', "watch[0].address", "checksum"),
    ("testnet", f'[[watch]]\naddress = "{TESTNET_SINK}"\n', "watch[0].address",
     "testnet address used on mainnet"),
    ("unknown", "[network]\npol_seconds = 3\n", "network.pol_seconds", "did you mean 'poll_seconds'?"),
    ("unknown_watch", f'[[watch]]\naddress = "{HOT}"\nlable = "x"\n', "watch[0].lable",
     "did you mean 'label'?"),
    ("unknown_top", "colour = 1\n", "colour", "valid keys: network, watch"),
    ("wrong_type", '[network]\npoll_seconds = "5"\n', "network.poll_seconds",
     "expected a number, got a string"),
    ("wrong_type_int", "[taint]\nmax_hops = 1.5\n", "taint.max_hops", "expected an integer, got a float"),
    ("wrong_type_bool", f'[[watch]]\naddress = "{HOT}"\nurgent = "yes"\n', "watch[0].urgent",
     "expected true or false, got a string"),
    ("bad_url", '[network]\nnodes = ["ftp://node.example:7890"]\n', "network.nodes[0]", "http:// or https://"),
    ("url_no_port", '[network]\nnodes = ["http://node.example"]\n', "network.nodes[0]", "needs a port"),
    ("bad_datetime", f'[[taint.source]]\naddress = "{THIEF}"\nsince = "2018-01-26 00:02"\n',
     "taint.source[0].since", "RFC 3339"),
    ("naive_datetime", f'[[taint.source]]\naddress = "{THIEF}"\nsince = 2018-01-26T00:02:13\n',
     "taint.source[0].since", "offset"),
    ("duplicate_watch", f'[[watch]]\naddress = "{HOT}"\n[[watch]]\naddress = "{HOT.lower()}"\n',
     "watch[1].address", "already watched in watch[0]"),
    ("too_precise", f'[[watch]]\naddress = "{HOT}"\nalert_outflow_xem = 0.0000001\n',
     "watch[0].alert_outflow_xem", "6 decimal places"),
    ("negative", "[taint]\nmin_xem = -1\n", "taint.min_xem", "negative"),
    ("rate_cap", "[network]\nmax_requests_per_second = 50\n", "network.max_requests_per_second",
     "at most 20"),
    ("network_name", '[network]\nname = "mainet"\n', "network.name", "'mainnet' or 'testnet'"),
    ("marker", '[taint]\nmarkers = ["no-colon"]\n', "taint.markers[0]", "namespace:name"),
    ("model", '[taint]\nmodel = "lifo"\n', "taint.model", "'poison', 'haircut' or 'fifo'"),
    ("price_source", '[price]\nsources = ["zaif", "kraken"]\n', "price.sources[1]", "'zaif'"),
    ("price_alert", '[[price.alert]]\nkind = "above"\n', "price.alert[0].value", "need a value"),
    ("label_kind", f'[[label]]\naddress = "{HOT}"\nname = "x"\nkind = "bank"\n', "label[0].kind",
     "'exchange'"),
    ("label_source", f'[[label]]\naddress = "{HOT}"\nname = "x"\nsource = "ftp://example.org/x"\n',
     "label[0].source", "http:// or https://"),
    ("missing", "[[watch]]\nlabel = 'x'\n", "watch[0].address", "required"),
    ("toml_syntax", "[network\nname = 1\n", "line 1, column 9", "TOML syntax error"),
    ("toml_value", "[network]\npoll_seconds = \n", "line 2, column 16", "TOML syntax error"),
]


@pytest.mark.parametrize(("name", "text", "where", "problem"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_gives_one_line_and_exit_2(
    tmp_path: Path, name: str, text: str, where: str, problem: str
) -> None:
    path = write(tmp_path, text, f"{name}.toml")
    result = CliRunner().invoke(main, ["config", "validate", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"nemwatch: {path}: {where}: ")
    assert problem in lines[0]
    assert "Traceback" not in result.stderr
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line == lines[0]


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [(b[0], b[1], b[2]) for b in BAD if b[0] in {
        "checksum", "testnet", "unknown", "wrong_type", "bad_url", "bad_datetime",
        "duplicate_watch", "toml_syntax",
    }],
)
def test_bad_config_in_a_real_process(tmp_path: Path, name: str, text: str, where: str) -> None:
    write(tmp_path, text, "bad.toml")
    proc = subprocess.run(
        [sys.executable, "-m", "nemwatch", "config", "validate", "bad.toml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path)},
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"nemwatch: bad.toml: {where}: ")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["config", "validate", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert result.stderr == f"nemwatch: {tmp_path / 'nope.toml'}: no such file\n"
    (tmp_path / "bin.toml").write_bytes(b"name = '\xff'\n")
    result = runner.invoke(main, ["config", "validate", str(tmp_path / "bin.toml")])
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


def test_several_problems_are_counted_on_the_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, "[network]\npoll_seconds = -1\nrequest_timeout_seconds = 0\n")
    assert str(info.value).endswith("must be greater than 0 (and 1 more problem)")


# --- secrets ----------------------------------------------------------------------------------

SECRET_CONFIG = f"""
[price]
coingecko_demo_key = "{GECKO_KEY}"

[alerts]
sinks = [
  "stdout",
  "webhook+https://hooks.example.com/services/T000/{SLACK_TOKEN}",
  "tgram://{TGRAM_TOKEN}/12345",
  "mailto://me:{MAIL_PASSWORD}@mail.example.com",
  "json://localhost:8080/hook?token={SLACK_TOKEN}",
  "command:true --token {SLACK_TOKEN}",
]
"""
SECRETS = [SLACK_TOKEN, TGRAM_TOKEN, GECKO_KEY, MAIL_PASSWORD, "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"]


def test_show_masks_every_secret_and_loads_back(tmp_path: Path) -> None:
    path = write(tmp_path, SECRET_CONFIG)
    cfg = load_config(path)
    assert cfg.alerts.sinks[1].endswith(SLACK_TOKEN)  # the real value is there for delivery
    result = CliRunner().invoke(main, ["config", "show", str(path)])
    assert result.exit_code == 0, result.output
    for secret in SECRETS:
        assert secret not in result.output
        assert secret not in repr(cfg)
        assert secret not in str(cfg)
    assert "<secret>" in result.output
    assert "hooks.example.com" in result.output  # still readable
    again = config_from_data(tomllib.loads(result.output, parse_float=Decimal))
    assert again.watches == cfg.watches
    assert len(again.alerts.sinks) == len(cfg.alerts.sinks)
    assert set(SECRETS[:4]) <= set(cfg.secrets())


def test_show_default_config_round_trips() -> None:
    result = CliRunner().invoke(main, ["config", "show"])
    assert result.exit_code == 0
    data = tomllib.loads(result.output, parse_float=Decimal)
    assert data["state"]["dir"] == str(default_config().state_dir(create=False))  # resolved, not empty
    again = config_from_data(data)
    assert again.model_copy(update={"state": default_config().state}) == default_config()


@pytest.mark.parametrize(
    "sinks",
    [
        f'["https://hooks.example.com/services/T000/{SLACK_TOKEN}"]',  # bare https: ambiguous
        f'["tgrm://{TGRAM_TOKEN}/1"]',  # unknown service
        f'["webhook+ftp://x/{SLACK_TOKEN}"]',
        f'"tgram://{TGRAM_TOKEN}/1"',  # a string instead of an array
        f'["command:/bin/page \\"{SLACK_TOKEN}"]',  # unbalanced quote
        f'["stdout", "webhook+https://user:{MAIL_PASSWORD}@h.example/x#frag"]',  # a fragment
    ],
)
def test_errors_about_sinks_never_echo_the_secret(tmp_path: Path, sinks: str) -> None:
    path = write(tmp_path, f"[alerts]\nsinks = {sinks}\n")
    result = CliRunner().invoke(main, ["config", "validate", str(path)])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "alerts.sinks" in result.stderr
    for secret in SECRETS:
        assert secret not in result.output
        assert secret not in result.stderr
    with pytest.raises(ValidationError) as info:
        Config.model_validate(tomllib.loads(path.read_text()))
    for secret in SECRETS:
        assert secret not in str(info.value)


def test_unknown_service_gets_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'tgram://'\?"):
        load_text(tmp_path, f'[alerts]\nsinks = ["tgrm://{TGRAM_TOKEN}/1"]\n')


def test_permission_warning_for_readable_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, SECRET_CONFIG)
    assert permission_warning(load_config(path)) is None
    path.chmod(0o644)
    warning = permission_warning(load_config(path))
    assert warning is not None and "chmod 600" in warning
    result = CliRunner().invoke(main, ["config", "validate", str(path)])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"ok: {path}: 0 watched")
    assert "warning" in result.stderr
    plain = write(tmp_path, "[network]\n", "plain.toml")
    plain.chmod(0o644)
    assert permission_warning(load_config(plain)) is None


# --- the command ------------------------------------------------------------------------------


def test_validate_ok_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["config", "validate", str(EXAMPLE)])
    assert result.exit_code == 0
    assert result.stdout == f"ok: {EXAMPLE}: 2 watched, 1 taint sources, 3 nodes\n"
    result = CliRunner().invoke(main, ["config", "validate"])
    assert result.stdout == "ok: built-in default: 1 watched, 1 taint sources, 3 nodes\n"


def test_path_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(main, ["config", "path"])
    assert result.exit_code == 0
    expected = paths.platform_config_path()
    assert f"config:  {expected} (missing; the built-in default is used)" in result.stdout
    state = tmp_path / "xdg-state" / "nemwatch"
    assert f"state:   {state}" in result.stdout
    assert f"db:      {state / paths.DB_FILE_NAME}" in result.stdout
    path = write(tmp_path, '[state]\ndir = "here"\n')
    monkeypatch.setenv(paths.CONFIG_ENV, str(path))
    result = CliRunner().invoke(main, ["config", "path"])
    assert f"config:  {path} (exists)" in result.stdout
    assert f"db:      {tmp_path / 'here' / paths.DB_FILE_NAME}" in result.stdout


def test_path_command_reports_a_broken_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.CONFIG_ENV, str(write(tmp_path, "[network]\nname = 3\n")))
    result = CliRunner().invoke(main, ["config", "path"])
    assert result.exit_code == 2
    assert result.stderr.startswith("nemwatch: ")
    assert "network.name" in result.stderr


# --- paths ------------------------------------------------------------------------------------


def test_state_dir_is_created_private(tmp_path: Path) -> None:
    made = paths.state_dir()
    assert made == tmp_path / "xdg-state" / "nemwatch"
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    override = paths.state_dir(tmp_path / "a" / "b")
    assert stat.S_IMODE(override.stat().st_mode) == 0o700
    assert not paths.state_dir(tmp_path / "c", create=False).exists()
    assert paths.default_db_path(made) == made / "nemwatch.sqlite3"
    assert paths.default_journal_path(made) == made / "alerts.jsonl"


def test_config_path_prefers_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert paths.config_path() == tmp_path / "xdg-config" / "nemwatch" / "config.toml"
    monkeypatch.setenv(paths.CONFIG_ENV, str(tmp_path / "x.toml"))
    assert paths.config_path() == tmp_path / "x.toml"


def test_backfill_and_balance_checks_can_be_turned_off(tmp_path: Path) -> None:
    from nemwatch.headless.runner import engine_settings

    cfg = load_text(tmp_path, "[network]\nbackfill_pages = 0\nbalance_check_seconds = 0\n")
    settings = engine_settings(cfg)
    assert settings.backfill_per_cycle == 0 and settings.balance_checks_per_cycle == 0
    default = engine_settings(load_text(tmp_path, ""))
    assert default.backfill_max_pages == 20 and default.balance_check_seconds == 600
