"""The taint picture as files: CSV, JSON, Graphviz DOT and GraphSense TagPack. Text in, text out.

``TaintExport`` is what the exporter rebuilt from the store (a tracker folded over the stored
movements) plus names for addresses; each ``render_*`` turns it into one file's text. Amounts
are written as exact decimal XEM strings (never floats). Names come from labels or the chain:
they are sanitized by the label book, and DOT strings are escaped here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nemwatch.core.models import format_xem
from nemwatch.core.taint.inputs import MODELS, Model
from nemwatch.core.taint.labels import Label, LabelKind, LabelOrigin
from nemwatch.core.taint.picture import picture
from nemwatch.core.taint.tagpack import render_tagpack
from nemwatch.core.taint.tracker import TaintTracker
from nemwatch.core.taint.view import AccountTaint, TransferTaint
from nemwatch.core.text import sanitize

Namer = Callable[[str], tuple[str, str] | None]  # address -> (name, kind)
FORMATS = ("csv", "json", "dot", "tagpack")


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class TaintExport:
    tracker: TaintTracker
    model: Model
    sources: Collection[str]
    exchanges: Collection[str]
    namer: Namer

    def name(self, address: str) -> str | None:
        label = self.namer(address)
        return label[0] if label else None

    def kind(self, address: str) -> str | None:
        label = self.namer(address)
        return label[1] if label else None

    def accounts(self) -> list[AccountTaint]:
        """Accounts tracked under the chosen model, most tainted first."""
        return self.tracker.accounts(self.model)

    def transfers(self) -> list[TransferTaint]:
        return self.tracker.transfers()

    def account_row(self, a: AccountTaint) -> dict[str, Any]:
        mt = a.of(self.model)
        src = sorted(mt.sources) if mt else []
        row: dict[str, Any] = {
            "address": a.address, "label": self.name(a.address), "kind": self.kind(a.address),
            "hop": mt.hop if mt else None, "source": ";".join(src), "source_label": ";".join(self.name(s) or "" for s in src),
            "first_height": mt.first_height if mt else None, "first_time": _iso(mt.first_time) if mt else None,
            "first_transfer": mt.first_identity if mt else None, "balance_xem": format_xem(a.balance_micro),
            "balance_known": a.balance_known,
        }
        for m in MODELS:
            row[f"{m.value}_xem"] = format_xem(a.tainted_micro(m))
        return row

    def transfer_row(self, t: TransferTaint) -> dict[str, Any]:
        mv = t.movement
        row: dict[str, Any] = {
            "height": mv.height, "position": mv.index, "identity": mv.identity, "time": _iso(mv.timestamp),
            "sender": mv.sender, "sender_label": self.name(mv.sender), "recipient": mv.recipient,
            "recipient_label": self.name(mv.recipient) if mv.recipient else None,
            "amount_xem": format_xem(mv.amount_micro), "fee_xem": format_xem(mv.fee_micro),
            "seeded": t.seeded, "left": ";".join(sorted(m.value for m in t.left)),
            "new_account": ";".join(sorted(m.value for m in t.new_account)),
        }
        for m in MODELS:
            row[f"{m.value}_xem"] = format_xem(t.of(m))
        return row


def render_csv(ex: TaintExport, what: str = "accounts") -> str:
    """``accounts`` (one row per tainted account) or ``transfers`` (one per taint-carrying transfer)."""
    rows = [ex.account_row(a) for a in ex.accounts()] if what == "accounts" else [ex.transfer_row(t) for t in ex.transfers()]
    out = io.StringIO()
    header = list(rows[0]) if rows else list(_empty_header(what))
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a label must not run as a spreadsheet formula
    return value


def _empty_header(what: str) -> list[str]:
    base = (["address", "label", "kind", "hop", "source", "source_label", "first_height", "first_time",
             "first_transfer", "balance_xem", "balance_known"] if what == "accounts" else
            ["height", "position", "identity", "time", "sender", "sender_label", "recipient", "recipient_label",
             "amount_xem", "fee_xem", "seeded", "left", "new_account"])
    return base + [f"{m.value}_xem" for m in MODELS]


def render_json(ex: TaintExport) -> str:
    totals = [
        {"model": p.model.value, "seeded_xem": format_xem(p.seeded_micro), "absorbed_xem": format_xem(p.absorbed_micro),
         "at_rest_xem": format_xem(p.at_rest_micro), "at_exchanges_xem": format_xem(p.at_exchanges_micro),
         "left_other_xem": format_xem(p.left_other_micro), "burned_xem": format_xem(p.burned_micro), "accounts": p.accounts}
        for p in picture(ex.tracker, ex.exchanges)
    ]
    doc = {
        "model": ex.model.value,
        "height": ex.tracker.height,
        "sources": [{"address": s, "label": ex.name(s)} for s in sorted(ex.sources)],
        "totals": totals,
        "accounts": [ex.account_row(a) for a in ex.accounts()],
        "transfers": [ex.transfer_row(t) for t in ex.transfers()],
    }
    return json.dumps(doc, ensure_ascii=True, indent=1) + "\n"


def _esc(text: str) -> str:
    return sanitize(text, max_len=120).replace("\\", "\\\\").replace('"', '\\"')


def _dot(*lines: str) -> str:
    """A DOT string of ``lines`` (escaped, joined by DOT's own line breaks)."""
    return '"' + "\\n".join(_esc(x) for x in lines) + '"'


def render_dot(ex: TaintExport) -> str:
    """A directed graph: sources, tainted accounts and exchanges reached; an edge per transfer
    that carried taint under the chosen model, labelled with its tainted XEM."""
    tracked = {a.address: a for a in ex.accounts()}
    lines = ["digraph taint {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];']
    nodes: dict[str, str] = {}

    def node(address: str) -> None:
        if address in nodes:
            return
        name = ex.name(address)
        acc = tracked.get(address)
        mt = acc.of(ex.model) if acc else None
        parts = ([name] if name else []) + [address] + ([f"hop {mt.hop}, {format_xem(mt.tainted_micro)} XEM"] if mt else [])
        style = ("style=filled, fillcolor=salmon" if address in ex.sources else
                 "style=filled, fillcolor=lightblue" if address in ex.exchanges else
                 "style=filled, fillcolor=mistyrose" if acc else "style=dashed")
        nodes[address] = f"  {_dot(address)} [label={_dot(*parts)}, {style}];"

    edges = []
    for t in ex.transfers():
        tainted = t.of(ex.model)
        mv = t.movement
        if tainted <= 0 or not mv.recipient:
            continue
        node(mv.sender)
        node(mv.recipient)
        edges.append(f"  {_dot(mv.sender)} -> {_dot(mv.recipient)} [label={_dot(format_xem(tainted) + ' XEM @' + str(mv.height))}];")
    for address in sorted(tracked):
        node(address)
    lines += list(nodes.values()) + edges + ["}"]
    return "\n".join(lines) + "\n"


def tagpack_labels(ex: TaintExport) -> list[Label]:
    out = []
    for a in ex.accounts():
        mt = a.of(ex.model)
        if mt is None:
            continue
        known = ex.namer(a.address)
        if a.address in ex.sources:
            kind, name = LabelKind.THIEF, known[0] if known else "taint source"
        else:
            kind = LabelKind.THIEF if known and known[1] == "thief" else LabelKind.OTHER
            src = ", ".join(ex.name(s) or s for s in sorted(mt.sources))
            name = f"{known[0] + ': ' if known else ''}tainted, hop {mt.hop} from {src} ({ex.model.value}, {format_xem(mt.tainted_micro)} XEM)"
        out.append(Label(a.address, name, kind, source="nemwatch taint export", origin=LabelOrigin.HEURISTIC))
    return out


def render(ex: TaintExport, fmt: str, *, what: str = "accounts", now: datetime | None = None) -> str:
    if fmt == "csv":
        return render_csv(ex, what)
    if fmt == "json":
        return render_json(ex)
    if fmt == "dot":
        return render_dot(ex)
    if fmt == "tagpack":
        stamp = (now or datetime.now(UTC)).date().isoformat()
        return render_tagpack(
            tagpack_labels(ex), title=f"nemwatch taint export ({ex.model.value}, {stamp})", creator="nemwatch",
            description=f"Accounts tainted under the {ex.model.value} model up to height {ex.tracker.height}",
        )
    raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


__all__ = ["FORMATS", "TaintExport", "render", "render_csv", "render_dot", "render_json", "tagpack_labels"]
