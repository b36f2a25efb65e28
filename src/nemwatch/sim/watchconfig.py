"""A ready ``nemwatch watch`` config for a running simulator (``nemwatch sim --write-config``).

It is what a user would otherwise write by hand from ``/_sim/accounts``, and gets wrong:

- ``nodes``: every simulated node; ``start_height``: just after the scenario's first block, so a watcher
  started late still reads every block from the start (the theft is alerted, not skipped);
- ``poll_seconds``: a quarter of a simulated block in real time (at ``--speed 120`` a block
  lasts 0.5 s), so alerts come at one or two confirmations, not 5 to 18 blocks late;
- the scenario's hot wallets watched (urgent), the thieves as taint sources and labels;
- ``[price.urls]``: every provider's base URL pointed at the simulator's price API;
- ``push = true``: the watcher listens to the nodes' websocket push (on their own ports).
"""

from __future__ import annotations

from typing import Any

import tomli_w

from nemwatch.sim.cluster import SimCluster

MIN_POLL_SECONDS = 0.2
MAX_POLL_SECONDS = 5.0
PRICE_KEYS = ("zaif", "zaif_chart", "gmo", "coincheck", "coingecko")


def poll_seconds(block_interval: float, speed: float) -> float:
    """Four polls per simulated block in real time, within [0.2, 5] seconds."""
    per_block = block_interval / speed if speed > 0 else MAX_POLL_SECONDS
    return round(min(MAX_POLL_SECONDS, max(MIN_POLL_SECONDS, per_block / 4)), 2)


def watch_config(cluster: SimCluster, speed: float, *, frozen: bool = False) -> dict[str, Any]:
    """The config (as TOML data) for watching ``cluster`` at ``speed``."""
    compiled = cluster.compiled
    scenario = cluster.scenario
    by_role: dict[str, list[tuple[str, str]]] = {}
    for label, key in compiled.keys.items():
        role = compiled.roles.get(key.address)
        if role is not None:
            by_role.setdefault(role.value, []).append((label, key.address))
    hot = by_role.get("hot_wallet", [])
    thieves = by_role.get("thief", [])
    data: dict[str, Any] = {
        "network": {
            "name": scenario.network.value,
            "nodes": cluster.urls,
            # the block after the scenario's first: the watcher reads the one before it for its hash
            "start_height": scenario.start_height + 1,
            "poll_seconds": MIN_POLL_SECONDS if frozen else poll_seconds(scenario.block_interval, speed),
            "request_timeout_seconds": 5,
            "max_requests_per_second": 20,
            # each simulated node pushes new blocks and pool transactions on its own port
            # (sim.push): alerts come when the block does, whatever poll_seconds
            "push": True,
        },
        "watch": [{"address": address, "label": label, "urgent": True} for label, address in hot],
        "label": [{"address": address, "name": label, "kind": "thief"} for label, address in thieves],
        "alerts": {"sinks": ["stdout"]},
    }
    if thieves and hot:
        data["taint"] = {"source": [
            {"address": address, "label": label, "since": scenario.start, "victim": hot[0][1]}
            for label, address in thieves
        ]}
    if cluster.market_url:
        data["price"] = {
            "sources": ["zaif", "gmo", "coincheck", "coingecko"],
            "urls": dict.fromkeys(PRICE_KEYS, cluster.market_url),
        }
    else:
        data["price"] = {"sources": []}
    return data


def watch_config_toml(cluster: SimCluster, speed: float, *, frozen: bool = False) -> str:
    header = (
        f"# nemwatch watch config for the simulator playing {cluster.scenario.name}\n"
        "# written by `nemwatch sim --write-config`; valid while that simulator runs\n\n"
    )
    return header + tomli_w.dumps(watch_config(cluster, speed, frozen=frozen))
