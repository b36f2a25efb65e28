"""The label book a config defines: its ``[[label]]`` tables and its taint sources.

The core cannot read the config (the config builds on the core), so this bridge turns the
validated config into ``core.taint.labels.Label`` objects. Imported labels (the state
database's ``imported_labels``) are passed in by the caller::

    book = label_book(config, LabelTable(store).all())
"""

from __future__ import annotations

from collections.abc import Iterable

from nemwatch.config.model import Config
from nemwatch.core.taint.labels import Label, LabelBook, LabelKind, LabelOrigin


def config_labels(config: Config) -> tuple[Label, ...]:
    """``[[label]]`` entries, watched addresses' labels (kind ``other``), then each taint
    source (a thief) and its victim."""
    labels = [
        Label(x.address, x.name, LabelKind(x.kind), source=x.source, origin=LabelOrigin.CONFIG)
        for x in config.labels
    ]
    labels += [Label(w.address, w.label, LabelKind.OTHER, origin=LabelOrigin.CONFIG) for w in config.watches if w.label]
    for s in config.taint.sources:
        labels.append(Label(s.address, s.label or "taint source", LabelKind.THIEF, origin=LabelOrigin.TAINT_SOURCE))
        if s.victim is not None:
            labels.append(Label(s.victim, "taint victim", LabelKind.VICTIM, origin=LabelOrigin.TAINT_SOURCE))
    return tuple(labels)


def label_book(config: Config, imported: Iterable[Label] = ()) -> LabelBook:
    """Config labels first (they win the display name), then ``imported`` ones."""
    return LabelBook.of([*config_labels(config), *imported])
