"""``nemwatch export``: the taint picture as CSV, JSON, Graphviz DOT or a GraphSense TagPack.

Read from the state database, read-only (a running ``nemwatch watch`` may be writing it): the
taint tracker is rebuilt from the movements the watcher stored, with the config's ``[taint]``
(thresholds, sources) and the sources marked at run time, so the file shows what the watcher
computed, under every model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from nemwatch.commands.options import config_option, load, state_option
from nemwatch.core.taint.render import FORMATS


@click.command(name="export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="csv: one row per account (or transfer, with --transfers); json: accounts, transfers "
              "and totals; dot: the flow graph for Graphviz; tagpack: GraphSense TagPack YAML.")
@click.option("--model", type=click.Choice(["poison", "haircut", "fifo", "taint_first", "clean_first"]), default=None,
              help="The model that selects accounts and edges (default: [taint] model). "
              "CSV and JSON carry every model's amounts anyway.")
@click.option("--transfers", is_flag=True, help="CSV: the transfers that carried taint instead of the accounts.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write to this file (default: standard output).")
@config_option
@state_option
def export(fmt: str, model: str | None, transfers: bool, output: Path | None,
           config_path: Path | None, state_dir: Path | None) -> None:
    """Export tainted accounts (labels, hops, taint per model) and the transfers that carried taint."""
    from nemwatch.config.labelbook import label_book
    from nemwatch.core.store import Store, StoreError
    from nemwatch.core.store.migrations import SchemaError
    from nemwatch.core.store.taint import TaintTables
    from nemwatch.core.taint.inputs import Model
    from nemwatch.core.taint.labels import LabelKind
    from nemwatch.core.taint.render import TaintExport, render
    from nemwatch.core.taintwatch import TaintSettings, rebuild

    cfg = load(config_path, state_dir)
    db = cfg.db_path()
    if not db.exists():
        raise click.ClickException(f"no state database at {db}: run `nemwatch watch` first")
    try:
        store = Store.open_readonly(db)
    except (StoreError, SchemaError) as err:
        raise click.ClickException(str(err)) from None
    try:
        book = label_book(cfg, _imported_labels(store))
        exchanges = book.of_kind(LabelKind.EXCHANGE)
        settings = TaintSettings.of(cfg.taint, exchanges=exchanges)
        tables = TaintTables(store)
        tracker, sources = rebuild(settings, tables)
    finally:
        store.close()

    def namer(address: str) -> tuple[str, str] | None:
        label, kind = book.primary(address), book.kind_of(address)
        return (label.name, kind.value) if label is not None and kind is not None else None

    chosen = Model(model or cfg.taint.model)
    ex = TaintExport(tracker, chosen, frozenset(sources), exchanges, namer)
    text = render(ex, fmt, what="transfers" if transfers else "accounts")
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output} ({fmt}, {chosen.value}, {len(ex.accounts())} tainted accounts)", err=True)


def _imported_labels(store: object) -> tuple:  # type: ignore[type-arg]
    """Imported labels when the (read-only) store has them; none otherwise."""
    import sqlite3

    from nemwatch.core.taint.labels import Label, LabelKind, LabelOrigin

    try:
        rows = store.connection.execute(  # type: ignore[attr-defined]
            "SELECT address, name, source, kind FROM imported_labels ORDER BY address, name"
        ).fetchall()
    except sqlite3.Error:
        return ()
    out = []
    for r in rows:
        try:
            out.append(Label(r[0], r[1], LabelKind(r[3]), source=r[2] or None, origin=LabelOrigin.IMPORT))
        except ValueError:
            continue
    return tuple(out)
