"""A naive baseline of the taint models: networkx graph, one propagation pass per model.

Written independently of ``nemwatch.core.taint`` and the obvious way: the transfers become the
edges of a ``networkx.MultiDiGraph`` carrying their order, amount and fee; each model then walks
the edges in chain order once, keeping its state in the graph's node attribute dicts (FIFO lots
as a plain list). Same semantics as the core for the streams ``taint_bench`` generates (every
opening balance known, one source with a victim): thresholds, hops, fees burned, poison
absorbing clean funds, the two bounds. Its totals must equal the core's; the benchmark checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from nemwatch.core.taint.inputs import PPM, Movement, TaintSource, Thresholds

MODELS = ("poison", "haircut", "fifo", "taint_first", "clean_first")


def build_graph(movements: Sequence[Movement], opening_micro: Mapping[str, int]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for addr, micro in opening_micro.items():
        g.add_node(addr, balance=micro)
    for k, m in enumerate(movements):
        g.add_edge(m.sender, m.recipient, key=k, order=(m.height, m.index), amount=m.amount_micro,
                   fee=m.fee_micro, time=m.timestamp)
    for n in g.nodes:
        g.nodes[n].setdefault("balance", 0)
    return g


def _carry(model: str, st: dict[str, Any], bal: int, a: int, f: int) -> tuple[int, int, list[list[int]]]:
    """(taint in the amount, taint in the fee, FIFO pieces of the amount) leaving an account."""
    d = a + f
    if model == "poison":
        return a, f, []
    if model == "fifo":
        def take(n: int) -> list[list[int]]:
            pieces = []
            while n > 0:
                lot = st["lots"][0]
                part = min(n, lot[0])
                if part:
                    pieces.append([part, lot[1]])
                lot[0] -= part
                n -= part
                if lot[0] == 0:
                    st["lots"].pop(0)
            return pieces
        amount_pieces = take(a)
        ta = sum(p[0] for p in amount_pieces if p[1])
        tf = sum(p[0] for p in take(f) if p[1])
        st["t"] -= ta + tf
        return ta, tf, amount_pieces
    t = st["t"]
    if model == "haircut":
        if not d:
            return 0, 0, []
        out = t - t * (bal - d) // bal
        st["t"] = t - out
        ta = out * a // d
        return ta, out - ta, []
    if model == "taint_first":
        st["t"] = min(bal - d, t)
        return min(a, t), min(f, t), []
    st["t"] = max(0, t - d)
    return max(0, t - (bal - a)), max(0, t - (bal - f)), []


def propagate(g: nx.MultiDiGraph, model: str, source: TaintSource, th: Thresholds) -> dict[str, int]:
    """One model over the graph; its totals: at rest, left, burned, seeded, tracked accounts."""
    key = f"taint_{model}"
    for n in g.nodes:
        g.nodes[n][key] = None  # None: not tracked; else {"t", "hop", "lots"}
        g.nodes[n]["bal"] = g.nodes[n]["balance"]
    edges = sorted(g.edges(keys=True, data=True), key=lambda e: e[3]["order"])
    seeded = left = burned = absorbed = 0
    for s, r, _k, e in edges:
        a, f = e["amount"], e["fee"]
        ns, nr = g.nodes[s], g.nodes[r]
        bal = ns["bal"]
        st = ns[key]
        ta = tf = 0
        pieces: list[list[int]] = [[a, 0]]
        if st is not None:
            ta, tf, pieces = _carry(model, st, bal, a, f)
        burned += tf
        ns["bal"] = bal - a - f
        before = nr["bal"]
        nr["bal"] = before + a
        rs = nr[key]
        if r == source.address and s == source.victim and e["time"] >= source.since:
            seeded += a - ta
            if rs is None:
                rs = nr[key] = {"t": 0, "hop": 0, "lots": [[before, 0]] if before else []}
                absorbed += before if model == "poison" else 0
            rs["hop"] = 0
            rs["t"] += a
            rs["lots"].append([a, 1])
            continue
        if rs is not None:
            rs["t"] += ta
            rs["lots"].extend(pieces)
            if model == "poison" and st is None:
                absorbed += a
            if ta and st["hop"] + 1 < rs["hop"] and _passes(ta, a, st["hop"] + 1, r, th):
                rs["hop"] = st["hop"] + 1
        elif ta:
            if _passes(ta, a, st["hop"] + 1, r, th):
                lots = ([[before, 0]] if before else []) + pieces
                nr[key] = {"t": ta, "hop": st["hop"] + 1, "lots": lots}
                absorbed += before if model == "poison" else 0
            else:
                left += ta
    tracked = [n for n in g.nodes if g.nodes[n][key] is not None]
    rest = sum(g.nodes[n]["bal"] if model == "poison" else g.nodes[n][key]["t"] for n in tracked)
    return {"at_rest": rest, "left": left, "burned": burned, "seeded": seeded, "absorbed": absorbed,
            "accounts": len(tracked)}


def _passes(t: int, a: int, hop: int, r: str, th: Thresholds) -> bool:
    return t >= th.min_micro and t * PPM >= th.min_ppm * a and hop <= th.max_hops and r not in th.ignore
