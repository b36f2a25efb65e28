"""Export what the dashboard shows to CSV files (watchlist, latest movements, alert log).

Every cell is sanitized again on the way out (no escape sequence reaches a file a terminal may
later ``cat``); a cell that a spreadsheet would run as a formula
(starting with = + - @) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from nemwatch.core.models import format_xem
from nemwatch.core.query import ReadModel
from nemwatch.core.text import sanitize

LIMIT = 10_000


def _cell(value: object) -> str:
    text = "" if value is None else sanitize(str(value), max_len=8192)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([[_cell(v) for v in row] for row in rows])


def export_all(read: ReadModel, directory: Path, now: datetime) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    out: list[Path] = []

    watch = directory / f"nemwatch-watchlist-{stamp}.csv"
    _write(
        watch,
        ["address", "label", "kind", "urgent", "balance_xem", "balance_height", "value_jpy", "last_move_at", "last_move_xem", "last_move_direction"],
        [
            [
                a.address, a.label, a.kind, a.urgent,
                format_xem(a.balance_micro) if a.balance_micro is not None else None, a.balance_height, a.value_jpy,
                a.last_move.at.isoformat() if a.last_move else None,
                format_xem(a.last_move.micro_xem) if a.last_move else None,
                ("out" if a.last_move.outgoing else "in") if a.last_move else None,
            ]
            for a in read.watched()
        ],
    )
    out.append(watch)

    moves = directory / f"nemwatch-movements-{stamp}.csv"
    _write(
        moves,
        ["tx_time", "height", "status", "sender", "sender_label", "recipient", "recipient_label", "amount_xem", "fee_xem", "mosaics", "message", "flags", "hash"],
        [
            [
                m.transfer.tx_time.isoformat(), m.transfer.height, m.transfer.status.value, m.transfer.sender, m.sender_label,
                m.transfer.recipient, m.recipient_label, format_xem(m.transfer.xem), format_xem(m.transfer.fee),
                " ".join(f"{x.id}:{x.quantity}" for x in m.transfer.mosaics), m.transfer.message, ";".join(m.flags),
                m.transfer.hash,
            ]
            for m in read.movements(limit=LIMIT).items
        ],
    )
    out.append(moves)

    alerts = directory / f"nemwatch-alerts-{stamp}.csv"
    _write(
        alerts,
        ["detected_at", "severity", "rule", "stage", "address", "amount_xem", "amount_jpy", "summary", "acknowledged", "alert_id"],
        [
            [
                e.alert.detected_at.isoformat(), e.alert.severity.value, e.alert.rule, e.alert.stage.value, e.alert.address,
                format_xem(e.alert.amount) if e.alert.amount is not None else None, e.alert.amount_jpy, e.alert.summary,
                e.acknowledged, e.alert.alert_id,
            ]
            for e in read.alerts(limit=LIMIT).items
        ],
    )
    out.append(alerts)
    return out
