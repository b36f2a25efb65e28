"""``nemwatch outbox``: what waits in the delivery outbox, and re-sending dead letters.

A dead letter is an alert a sink gave up on (a 4xx from a webhook, a hook that could not start,
two days of failures). ``nemwatch outbox`` lists them (and counts what is pending);
``nemwatch outbox resend`` puts them back in the outbox, due at once, with their attempts
reset: a running ``nemwatch watch`` delivers them within its next delivery pass, otherwise the
next ``watch`` or ``check`` does. Sink names are shown redacted, as in the outbox itself.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from nemwatch.commands.options import config_option, load, state_option
from nemwatch.commands.statedir import fail
from nemwatch.core.store import Store
from nemwatch.core.text import sanitize


def _open(config_path: Path | None, state_dir: Path | None) -> Store:
    config = load(config_path, state_dir)
    db = config.db_path()
    if not db.exists():
        fail(f"nemwatch: no state database in {config.state_dir()} yet (run nemwatch watch first)")
    return Store.open(db)


@click.group(invoke_without_command=True)
@config_option
@state_option
@click.option("--sink", default=None, help="Only this sink (its name as listed).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dead letter.")
@click.pass_context
def outbox(ctx: click.Context, config_path: Path | None, state_dir: Path | None, sink: str | None, as_json: bool) -> None:
    """List dead-lettered deliveries (and count pending ones); `outbox resend` re-sends them."""
    ctx.ensure_object(dict)
    ctx.obj.update(config_path=config_path, state_dir=state_dir)
    if ctx.invoked_subcommand is not None:
        return
    store = _open(config_path, state_dir)
    try:
        letters = store.dead_letters(sink)
        counts = store.outbox_counts()
    finally:
        store.close()
    for row, alert in letters:
        if as_json:
            click.echo(json.dumps({
                "alert_id": row.alert_id, "sink": row.sink, "attempts": row.attempts,
                "dead_at": row.settled_at.isoformat() if row.settled_at else None,
                "error": row.last_error, "summary": alert.summary,
            }))
            continue
        when = row.settled_at.strftime("%Y-%m-%d %H:%M:%SZ") if row.settled_at else "?"
        click.echo(f"{row.alert_id}  {when}  {row.sink}  {sanitize(row.last_error or '', max_len=160)}")
        click.echo(f"    {sanitize(alert.summary, max_len=200)}")
    click.echo(
        f"{len(letters)} dead letter(s){f' for {sink}' if sink else ''}; "
        f"{counts.get('pending', 0)} pending, {counts.get('delivered', 0)} delivered",
        err=True,
    )


@outbox.command()
@click.argument("alert_ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every dead letter (of --sink when given).")
@click.option("--sink", default=None, help="Only the dead letters of this sink.")
@click.pass_context
def resend(ctx: click.Context, alert_ids: tuple[str, ...], every: bool, sink: str | None) -> None:
    """Put dead letters back in the outbox: ALERT_IDS, or --all; a running watcher sends them."""
    if not alert_ids and not every:
        raise click.UsageError("name the ALERT_IDS to re-send, or give --all")
    store = _open(ctx.obj["config_path"], ctx.obj["state_dir"])
    try:
        count = store.requeue_dead(datetime.now(UTC), None if every else alert_ids, sink)
    finally:
        store.close()
    click.echo(f"{count} dead letter(s) requeued; a running nemwatch watch delivers them in its next pass", err=True)
    if count == 0 and alert_ids:
        raise SystemExit(1)
