"""``nemwatch export`` over a state database the taint watch filled (the whole coincheck-2018
scenario): CSV, JSON, DOT (Graphviz renders it when installed) and TagPack, read-only; and the
demo's summary ending with the taint picture."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from nemwatch.cli import main
from nemwatch.core.taint.tagpack import parse_tagpack
from simfixtures import coincheck
from taintblocks import feed
from taintsim import EXCHANGES, THEFT_START, coincheck_settings

SECOND_HOPS = [f"second-hop-{i}" for i in range(1, 10)]


def addr(label: str) -> str:
    return coincheck().address(label)


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """A state directory the taint watch filled, a config saying the same, what the engine saw."""
    tmp = tmp_path_factory.mktemp("export")
    fed = feed(tmp, coincheck_settings(addr))
    seen = {
        "accounts": {a.address: a.tainted_micro(fed.engine.taint.model) for a in fed.engine.taint.accounts(fed.engine.taint.model)},
        "picture": fed.engine.taint.picture(),
    }
    fed.close()
    labels = "".join(f'[[label]]\naddress = "{addr(x)}"\nname = "{x}"\nkind = "exchange"\n\n' for x in EXCHANGES)
    labels += f'[[label]]\naddress = "{addr("second-hop-1")}"\nname = "=HYPERLINK(\\"x\\") \\"quoted\\""\nkind = "thief"\n\n'
    cfg = tmp / "c.toml"
    cfg.write_text(
        labels + f'[taint]\n[[taint.source]]\naddress = "{addr("thief-nc4")}"\nlabel = "thief (NC4)"\n'
        f'since = "{THEFT_START.isoformat()}"\nvictim = "{addr("coincheck-hot-wallet")}"\n'
    )
    return tmp, cfg, seen


def _export(state: tuple[Path, Path, dict], *args: str) -> str:
    tmp, cfg, _ = state
    result = CliRunner().invoke(main, ["export", "--config", str(cfg), "--state", str(tmp), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_accounts_and_transfers_match_what_the_engine_computed(state: tuple[Path, Path, dict]) -> None:
    db = state[0] / "nemwatch.sqlite3"
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    rows = list(csv.DictReader(io.StringIO(_export(state, "--format", "csv"))))
    seen = state[2]["accounts"]
    assert {r["address"] for r in rows} == set(seen)
    for r in rows:
        assert int(r["fifo_xem"].replace(".", "")) == seen[r["address"]]
        assert {"poison_xem", "haircut_xem", "taint_first_xem", "clean_first_xem", "hop", "label"} <= set(r)
    hops = {r["address"]: r for r in rows if r["address"] in {addr(x) for x in SECOND_HOPS}}
    assert len(hops) == 9 and all(r["hop"] == "1" and r["source"] == addr("thief-nc4") for r in hops.values())
    assert hops[addr("second-hop-1")]["label"].startswith("'=")  # never a live spreadsheet formula
    moves = list(csv.DictReader(io.StringIO(_export(state, "--format", "csv", "--transfers"))))
    seeds = [m for m in moves if m["seeded"] == "True"]
    assert len(seeds) == 11 and sum(int(m["amount_xem"].split(".")[0]) for m in seeds) == 526_300_010
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest  # read-only: the store is untouched


def test_json_totals_balance_and_model_choice(state: tuple[Path, Path, dict]) -> None:
    doc = json.loads(_export(state, "--format", "json"))
    assert doc["model"] == "fifo" and doc["sources"][0]["label"] == "thief (NC4)"
    fifo = next(t for t in doc["totals"] if t["model"] == "fifo")
    parts = ("at_rest_xem", "at_exchanges_xem", "left_other_xem", "burned_xem")
    assert sum(int(fifo[k].replace(".", "")) for k in parts) == int(fifo["seeded_xem"].replace(".", ""))
    engine_fifo = next(p for p in state[2]["picture"] if p.model.value == "fifo")
    assert int(fifo["at_exchanges_xem"].replace(".", "")) == engine_fifo.at_exchanges_micro > 0
    poison = json.loads(_export(state, "--format", "json", "--model", "poison"))
    assert poison["model"] == "poison" and len(poison["accounts"]) >= len(doc["accounts"])


def test_dot_is_a_graph_graphviz_renders(state: tuple[Path, Path, dict], tmp_path: Path) -> None:
    out = tmp_path / "taint.dot"
    _export(state, "--format", "dot", "-o", str(out))
    text = out.read_text()
    assert text.startswith("digraph taint {") and text.rstrip().endswith("}")
    assert f'"{addr("thief-nc4")}" -> "{addr("second-hop-1")}"' in text
    assert '\\"quoted\\"' in text  # a quote in a label is escaped
    if shutil.which("dot") is None:
        pytest.skip("Graphviz (dot) is not installed")
    svg = subprocess.run(["dot", "-Tsvg", str(out)], capture_output=True, text=True, timeout=60)
    assert svg.returncode == 0, svg.stderr
    assert "<svg" in svg.stdout


def test_tagpack_lists_the_tainted_accounts(state: tuple[Path, Path, dict]) -> None:
    pack = parse_tagpack(_export(state, "--format", "tagpack"))
    tagged = {label.address: label for label in pack.labels}
    assert set(state[2]["accounts"]) <= set(tagged)
    assert tagged[addr("thief-nc4")].kind.value == "thief"
    assert "hop 1" in tagged[addr("second-hop-2")].name


def test_export_without_a_state_database_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--state", str(tmp_path)])
    assert result.exit_code != 0 and "nemwatch watch" in result.output


async def test_the_demo_summary_ends_with_the_taint_picture() -> None:
    from nemwatch.demo import play

    out = io.StringIO()
    until = datetime(2018, 1, 26, 4, 10, tzinfo=UTC) - timedelta(hours=9)
    report = await play(out=out, speed=0, until=until)
    text = out.getvalue().rstrip().splitlines()
    assert text[-7].startswith("Taint picture") and [line.split()[0] for line in text[-5:]] == [
        "poison", "haircut", "fifo", "taint_first", "clean_first"]
    fifo = text[-3].split()
    assert fifo[1] == "524,500,010"  # seeded before 04:10: all but the 04:33 and 08:26 transfers
    assert any(a.rule == "taint_new_account" for a in report.alerts)
    move = next(a for a in report.alerts if a.rule == "taint_move" and not dict(a.extra)["taint"]["seeded"])
    assert move.amount_jpy is not None and move.price_source == "zaif"  # valued like every alert
    jpy = dict(move.extra)["taint"]["tainted_jpy"]
    assert jpy is not None and float(jpy["fifo"]) > 0


def test_the_read_model_answers_taint_questions_from_a_read_only_store(state: tuple[Path, Path, dict]) -> None:
    from nemwatch.core.query import ReadModel
    from nemwatch.core.store import Store
    from nemwatch.core.watchset import WatchSet

    store = Store.open_readonly(state[0] / "nemwatch.sqlite3")
    try:
        thief = addr("thief-nc4")
        read = ReadModel(store, watch=WatchSet(labels={thief: ("thief (NC4)", "thief")}), taint_sources=[(thief, None)])
        accounts = read.tainted_accounts("fifo")
        assert {a.address for a in accounts} <= set(state[2]["accounts"]) and accounts
        hop = next(a for a in accounts if a.address == addr("second-hop-3"))
        assert hop.hop == 1 and hop.source == thief and hop.source_label == "thief (NC4)" and hop.tag_lag_blocks == 0
        assert hop.of("fifo") == state[2]["accounts"][hop.address] and hop.followed
        assert [a.of("fifo") for a in accounts] == sorted((a.of("fifo") for a in accounts), reverse=True)
        progress = {p.model.value: p for p in read.laundering_progress()}
        fifo = progress["fifo"]
        assert fifo.at_rest_micro + fifo.left_micro + fifo.burned_micro == fifo.seeded_micro
        assert fifo.left_jpy is None  # no price stored here
        (root,) = read.taint_flow()
        assert root.address == thief and root.label == "thief (NC4)"
        assert {c.address for c in root.children} >= {addr(x) for x in SECOND_HOPS}
        deeper = [g for c in root.children for g in c.children]
        assert deeper and all(g.hop == 2 for g in deeper)
        # each node carries what its tree line shows: every model's amount, the kind, the tag lag
        node = next(c for c in root.children if c.address == addr("second-hop-3"))
        assert node.per_model_micro == hop.tainted_micro and node.amount_micro == hop.of("fifo")
        assert node.tag_lag_blocks == 0 and node.kind == hop.kind
        assert root.kind == "thief" and len(root.per_model_micro) == len(hop.tainted_micro)
        read.taint_model = "haircut"  # the tree follows the model the dashboard selects
        (again,) = read.taint_flow()
        node = next(c for c in again.children if c.address == addr("second-hop-3"))
        assert node.amount_micro == hop.of("haircut")
    finally:
        store.close()
