"""Labels: the label book, [[label]] in the config, GraphSense TagPack import/export, the
imported-labels table and the ``nemwatch labels`` command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from nemwatch import paths
from nemwatch.cli import main
from nemwatch.config import default_config, load_config
from nemwatch.config.labelbook import config_labels, label_book
from nemwatch.core.nem.address import pretty
from nemwatch.core.store import Store
from nemwatch.core.store.labels import COMPONENT, LabelTable
from nemwatch.core.taint.labels import Label, LabelBook, LabelKind, LabelOrigin
from nemwatch.core.taint.tagpack import TagPackError, parse_tagpack, render_tagpack

HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
NCM6 = "NCM6WE7SJFDVTLSPTMZGBUZUETDYINITILS3DCIZ"
SINK = "NAMESPACEWH4MKFMBCVFERDPOOP4FK7MTBXDPZZA"


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.CONFIG_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


# --- the label book ----------------------------------------------------------------------------


def test_book_looks_up_any_spelling_and_ranks_config_first() -> None:
    book = LabelBook.of([
        Label(NCM6, "relay seen in a report", LabelKind.RELAY, origin=LabelOrigin.IMPORT),
        Label(NCM6.lower(), "11th address", LabelKind.THIEF),
        Label(SINK, "an exchange", LabelKind.EXCHANGE, origin=LabelOrigin.IMPORT),
    ])
    assert len(book) == 3
    assert pretty(NCM6) in book and NCM6.lower() in book and HOT not in book
    assert book.name_of(pretty(NCM6)) == "11th address"  # config before import
    assert book.kind_of(NCM6) is LabelKind.THIEF  # thief outranks relay
    assert [x.name for x in book.labels_of(NCM6)] == ["11th address", "relay seen in a report"]
    assert book.is_exchange(SINK) and not book.is_exchange(NCM6)
    assert book.of_kind(LabelKind.EXCHANGE) == frozenset({SINK})
    assert book.labels_of(HOT) == () and book.primary(HOT) is None and book.kind_of(HOT) is None


def test_book_exchange_wins_over_any_other_kind_and_merges_without_repeats() -> None:
    book = LabelBook.of([Label(SINK, "a service", LabelKind.SERVICE)])
    merged = book.merged([
        Label(SINK, "an exchange", LabelKind.EXCHANGE, origin=LabelOrigin.IMPORT),
        Label(SINK, "a service", LabelKind.SERVICE),  # same (address, name, source): kept once
    ])
    assert len(book) == 1 and len(merged) == 2
    assert merged.kind_of(SINK) is LabelKind.EXCHANGE and merged.name_of(SINK) == "a service"


def test_label_names_are_sanitized_and_must_not_be_empty() -> None:
    label = Label(HOT, "\x1b]0;owned\x07Hot \u202ewallet\x1b[31m", LabelKind.VICTIM)
    assert label.name == "Hot wallet"
    with pytest.raises(ValueError, match="needs a name"):
        Label(HOT, "\x1b[0m\u200b ")
    assert LabelKind.parse(" Exchange ") is LabelKind.EXCHANGE
    with pytest.raises(ValueError, match="valid: exchange, thief"):
        LabelKind.parse("bank")


def test_default_config_book_has_the_thief_the_victim_and_the_watch_label() -> None:
    book = label_book(default_config())
    assert book.kind_of(THIEF) is LabelKind.THIEF
    assert book.name_of(THIEF) == "Coincheck thief (2018)"
    assert book.kind_of(HOT) is LabelKind.VICTIM
    assert book.name_of(HOT) == "Coincheck hot wallet (2018)"


def test_config_label_with_source_and_kind(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        f'[[label]]\naddress = "{pretty(SINK).lower()}"\nname = "sink"\nkind = "service"\n'
        'source = "https://example.org/a?b=1"\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    cfg = load_config(path)
    assert cfg.labels[0].source == "https://example.org/a?b=1"
    (label,) = [x for x in config_labels(cfg) if x.address == SINK]
    assert (label.kind, label.source, label.origin) == (LabelKind.SERVICE, "https://example.org/a?b=1", LabelOrigin.CONFIG)


# --- TagPack -----------------------------------------------------------------------------------


def test_tagpack_round_trip_keeps_every_field() -> None:
    labels = [
        Label(THIEF, "Coincheck thief (2018)", LabelKind.THIEF, source="https://www.businessinsider.jp/post-161283",
              confidence="forensic", lastmod=date(2018, 1, 29)),
        Label(SINK, "namespace rental fee sink", LabelKind.SERVICE),
        Label(NCM6, "relay", LabelKind.RELAY, source="https://example.org/r", confidence="heuristic"),
        Label(HOT, "Coincheck hot wallet", LabelKind.VICTIM),
        Label(HOT, "an exchange", LabelKind.EXCHANGE, source="https://example.org/e"),
    ]
    text = render_tagpack(labels, title="Coincheck 2018", creator="analyst", default_source="case notes")
    data = yaml.safe_load(text)
    assert (data["title"], data["creator"], data["currency"]) == ("Coincheck 2018", "analyst", "XEM")
    by_label = {t["label"]: t for t in data["tags"]}
    assert by_label["an exchange"]["category"] == "exchange"
    assert by_label["Coincheck thief (2018)"]["abuse"] == "service_hack"
    assert by_label["namespace rental fee sink"]["source"] == "case notes"
    pack = parse_tagpack(text)
    assert pack.skipped == ()
    back = {(x.address, x.name): x for x in pack.labels}
    for x in labels:
        got = back[(x.address, x.name)]
        assert (got.kind, got.lastmod) == (x.kind, x.lastmod)
        assert got.source == (x.source or "case notes")
        assert got.confidence == (x.confidence or "forensic")
        assert got.origin is LabelOrigin.IMPORT
    assert render_tagpack(pack.labels, title="Coincheck 2018", creator="analyst") == render_tagpack(
        list(reversed(pack.labels)), title="Coincheck 2018", creator="analyst"
    )  # stable order


def test_tagpack_import_inherits_header_fields_and_skips_bad_tags() -> None:
    text = f"""
title: Mixed pack
creator: someone
currency: XEM
source: https://example.org/report
lastmod: 2018-03-02
category: exchange
tags:
  - address: {pretty(SINK).lower()}
    label: Some exchange
  - address: 1Archive1n2C579dMsAu3iC6tWzuQJz8dN
    label: Internet Archive
    currency: BTC
  - address: {NCM6[:-1]}A
    label: typo
  - address: {NCM6}
    label: "stolen \\e[31mfunds\\u202e"
    category: null
    abuse: service_hack
    lastmod: 1519948800
  - label: no address
  - just a string
"""
    pack = parse_tagpack(text)
    assert [(x.address, x.name, x.kind) for x in pack.labels] == [
        (SINK, "Some exchange", LabelKind.EXCHANGE),
        (NCM6, "stolen funds", LabelKind.THIEF),
    ]
    assert pack.labels[0].source == "https://example.org/report" and pack.labels[0].lastmod == date(2018, 3, 2)
    assert pack.labels[1].lastmod == date(2018, 3, 2)  # from a Unix time
    reasons = {s.index: s.reason for s in pack.skipped}
    assert reasons[1] == "currency BTC, not XEM"
    assert "checksum" in reasons[2]
    assert reasons[4] == "no address" and reasons[5] == "not a mapping"


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[: bad", "not valid YAML"), ("- a\n- b\n", "expected a mapping"), ("title: x\ncreator: y\n", "no 'tags' list"),
     ("!!python/object/apply:os.system ['true']", "not valid YAML")],
)
def test_not_a_tagpack(text: str, problem: str) -> None:
    with pytest.raises(TagPackError, match=problem):
        parse_tagpack(text)


def test_testnet_pack_on_mainnet_is_skipped() -> None:
    pack = parse_tagpack("title: t\ncreator: c\ncurrency: XEM\ntags:\n- {address: TAMESPACEWH4MKFMBCVFERDPOOP4FK7MTDJEYP35, label: x}\n")
    assert pack.labels == () and "testnet address used on mainnet" in pack.skipped[0].reason


# --- the store and the command -----------------------------------------------------------------


def test_imported_labels_table_is_its_own_migration_and_idempotent(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.sqlite3")
    table = LabelTable(store)
    assert store.schema_version(COMPONENT) == 1
    labels = [Label(NCM6, "11th", LabelKind.THIEF, source="https://example.org"), Label(SINK, "sink", LabelKind.SERVICE)]
    assert table.add(labels, pack_title="p") == 2
    assert table.add([Label(NCM6, "11th", LabelKind.RELAY, source="https://example.org")]) == 0  # updated in place
    store.close()
    store = Store.open(tmp_path / "s.sqlite3")
    table = LabelTable(store)
    got = {x.address: x for x in table.all()}
    assert got[NCM6].kind is LabelKind.RELAY and got[NCM6].origin is LabelOrigin.IMPORT
    assert table.remove(NCM6) == 1 and [x.address for x in table.all()] == [SINK]
    assert table.clear() == 1 and table.all() == ()
    store.close()


def test_labels_command_import_list_export(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(render_tagpack([Label(NCM6, "11th address", LabelKind.THIEF, source="https://example.org/r")],
                                   title="t", creator="c"), encoding="utf-8")
    state = ["--state", str(tmp_path / "state")]
    runner = CliRunner()
    first = runner.invoke(main, ["labels", "import", str(pack), *state])
    assert first.exit_code == 0, first.output
    assert "imported 1 labels from 't' by c (1 new, 0 skipped)" in first.output
    again = runner.invoke(main, ["labels", "import", str(pack), *state])
    assert "(0 new, 0 skipped)" in again.output
    listed = runner.invoke(main, ["labels", "list", *state]).output.splitlines()
    assert f"{NCM6}  thief      import        11th address" in listed
    assert any(line.startswith(THIEF) and "Coincheck thief (2018)" in line for line in listed)
    out = tmp_path / "out.yaml"
    exported = runner.invoke(main, ["labels", "export", "-o", str(out), "--creator", "me", *state])
    assert exported.exit_code == 0, exported.output
    back = parse_tagpack(out.read_text(encoding="utf-8"))
    assert {(x.address, x.name) for x in back.labels} >= {(NCM6, "11th address"), (THIEF, "Coincheck thief (2018)")}
    assert len(back.labels) == len({x.key for x in back.labels})  # the thief once, though config and source name it
    only = yaml.safe_load(runner.invoke(main, ["labels", "export", "--only", "imported", *state]).output)
    assert [t["address"] for t in only["tags"]] == [NCM6]
    removed = runner.invoke(main, ["labels", "remove", pretty(NCM6), *state])
    assert f"removed 1 imported labels of {NCM6}" in removed.output


def test_labels_import_refuses_a_non_tagpack_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("[: nope", encoding="utf-8")
    result = CliRunner().invoke(main, ["labels", "import", str(bad), "--state", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: bad.yaml: not valid YAML at line 1"
