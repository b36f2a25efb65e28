"""``nemwatch labels``: list, import and export address labels (GraphSense TagPack YAML).

Config labels (``[[label]]``, watched addresses, taint sources) come from the config file;
imported ones are kept in the state database (``imported_labels``) until removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from nemwatch.commands.options import config_option, load, state_option
from nemwatch.config import Config
from nemwatch.config.labelbook import config_labels, label_book
from nemwatch.core.nem.address import AddressError, validate
from nemwatch.core.store import Store, StoreError
from nemwatch.core.store.labels import LabelTable
from nemwatch.core.taint.labels import LabelBook
from nemwatch.core.taint.tagpack import DEFAULT_CONFIDENCE, TagPackError, parse_tagpack, render_tagpack
from nemwatch.core.text import sanitize

MAX_SKIPPED_SHOWN = 20


@contextmanager
def _opened(config_path: Path | None, state_dir: Path | None) -> Iterator[tuple[Config, LabelTable]]:
    """The config and the imported-label table of its state database (closed on exit)."""
    cfg = load(config_path, state_dir)
    try:
        store = Store.open(cfg.db_path())
    except StoreError as err:
        raise click.ClickException(str(err)) from None
    try:
        yield cfg, LabelTable(store)
    finally:
        store.close()


@click.group(name="labels")
def labels() -> None:
    """Address labels: list them, import a GraphSense TagPack, export one."""


@labels.command(name="list")
@config_option
@state_option
def list_(config_path: Path | None, state_dir: Path | None) -> None:
    """Every label: ADDRESS KIND ORIGIN NAME, one per line."""
    with _opened(config_path, state_dir) as (cfg, table):
        book = label_book(cfg, table.all())
    for label in sorted(book, key=lambda x: (x.address, x.origin.value, x.name)):
        click.echo(f"{label.address}  {label.kind.value:<9}  {label.origin.value:<12}  {label.name}")


@labels.command(name="import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--dry-run", is_flag=True, help="Parse and report; store nothing.")
@config_option
@state_option
def import_(file: Path, dry_run: bool, config_path: Path | None, state_dir: Path | None) -> None:
    """Add the XEM tags of the TagPack FILE to the imported labels.

    Tags of other currencies, without an address or with a bad NEM address are skipped and
    listed; importing the same pack again adds nothing.
    """
    with _opened(config_path, state_dir) as (cfg, table):
        try:
            pack = parse_tagpack(file.read_bytes(), cfg.network.name)
        except TagPackError as err:
            raise click.ClickException(f"{file.name}: {err}") from None
        new = 0 if dry_run else table.add(pack.labels, pack_title=pack.title)
    for skipped in pack.skipped[:MAX_SKIPPED_SHOWN]:
        click.echo(f"skipped tag {skipped.index}: {sanitize(skipped.reason, max_len=160)}", err=True)
    if len(pack.skipped) > MAX_SKIPPED_SHOWN:
        click.echo(f"... and {len(pack.skipped) - MAX_SKIPPED_SHOWN} more skipped", err=True)
    verb = "would import" if dry_run else "imported"
    click.echo(
        f"{verb} {len(pack.labels)} labels from '{pack.title}' by {pack.creator}"
        f" ({new} new, {len(pack.skipped)} skipped)"
    )


@labels.command(name="export")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write to this file (default: standard output).")
@click.option("--title", default="nemwatch labels", show_default=True, help="TagPack title.")
@click.option("--creator", default="nemwatch user", show_default=True, help="TagPack creator.")
@click.option("--only", type=click.Choice(["all", "config", "imported"]), default="all", show_default=True,
              help="Which labels to export.")
@click.option("--confidence", default=DEFAULT_CONFIDENCE, show_default=True,
              help="GraphSense confidence id for labels that have none.")
@config_option
@state_option
def export(
    output: Path | None, title: str, creator: str, only: str, confidence: str,
    config_path: Path | None, state_dir: Path | None,
) -> None:
    """Write the labels as a GraphSense TagPack (YAML, currency XEM)."""
    with _opened(config_path, state_dir) as (cfg, table):
        chosen = list(LabelBook.of([  # the same (address, name, source) once
            *(config_labels(cfg) if only in ("all", "config") else ()),
            *(table.all() if only in ("all", "imported") else ()),
        ]))
    text = render_tagpack(
        chosen, title=title, creator=creator, default_confidence=confidence,
        description=f"exported by nemwatch on {datetime.now(UTC).date().isoformat()}",
    )
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(chosen)} labels to {output}", err=True)


@labels.command(name="remove")
@click.argument("address")
@config_option
@state_option
def remove(address: str, config_path: Path | None, state_dir: Path | None) -> None:
    """Forget the imported labels of ADDRESS (config labels stay: edit the config)."""
    with _opened(config_path, state_dir) as (cfg, table):
        try:
            normalized = validate(address, cfg.network.name)
        except AddressError as err:
            raise click.ClickException(str(err)) from None
        removed = table.remove(normalized)
    click.echo(f"removed {removed} imported labels of {normalized}")
