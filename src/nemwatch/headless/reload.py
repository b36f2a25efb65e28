"""What a SIGHUP can change in a running watcher, and what needs a restart.

Applied at once: ``[[watch]]`` (added, removed, changed rules), ``[[label]]``, ``[taint]``,
``[alerts]`` sinks and severity, ``[network]`` polling intervals. Addresses watched at
run time and not from the config (taint propagation, the dashboard's "watch" prompt) are kept:
a reload only touches what the config itself named. Everything else (nodes, network, timeouts,
rate limits, backfill and balance settings, settled confirmations, the journal path,
``[price]``, ``[state]``, ``[keys]``)
is reported in one line as needing a restart, and the running values are kept.

A sink removed from the config cannot deliver what waits for it: its pending outbox rows are
dead-lettered with a note (``nemwatch outbox`` lists them, ``outbox resend`` sends them again
once the sink is back), instead of staying pending for ever.
"""

from __future__ import annotations

from nemwatch.config import Config
from nemwatch.core.watchset import WatchSet

# [network] keys applied at reload; the others need a restart
NETWORK_LIVE = frozenset({"poll_seconds", "unconfirmed_poll_seconds"})
RESTART_SECTIONS = ("price", "state", "keys")
REMOVED_SINK_NOTE = "sink removed from the config at reload; `nemwatch outbox resend` re-sends it"


def needs_restart(old: Config, new: Config) -> list[str]:
    """The changed settings a reload cannot apply, as ``[section] key`` names."""
    changed = []
    old_net, new_net = old.network.model_dump(), new.network.model_dump()
    changed += [f"[network] {k}" for k in old_net if k not in NETWORK_LIVE and old_net[k] != new_net.get(k)]
    changed += [
        f"[alerts] {k}" for k in ("journal_path", "settled_confirmations")
        if getattr(old.alerts, k) != getattr(new.alerts, k)
    ]
    changed += [f"[{name}]" for name in RESTART_SECTIONS if getattr(old, name) != getattr(new, name)]
    return changed


def merge_watches(running: WatchSet, old: Config, fresh: WatchSet) -> WatchSet:
    """``fresh`` (the new config's watch set) plus what was added at run time: addresses the
    running set watches that the old config did not name, unless the new config names them."""
    from_config = {w.address for w in old.watches}
    for address, rule in running.rules.items():
        if address not in from_config and address not in fresh.rules:
            fresh.add(address, rule, backfill_alerts=address in running.backfill_alerts)
    for address, label in running.labels.items():
        fresh.labels.setdefault(address, label)
    return fresh
