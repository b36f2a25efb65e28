"""The ``/_sim/`` control endpoints, so other processes can drive a simulated node.

- ``GET /_sim/state``: heights, simulated time, this node's faults;
- ``POST /_sim/advance`` ``{"seconds": N}`` | ``{"to": "<ISO time>"}`` | ``{"height": N}``;
- ``POST /_sim/fault`` ``{"kind": ..., ...}`` (see ``apply_fault``); ``DELETE /_sim/fault``
  clears them all;
- ``GET /_sim/requests[?since=N]`` the request log (``DELETE`` empties it);
- ``GET /_sim/push``: the websocket push's counters (connections, messages, ...) and faults;
- ``GET /_sim/accounts``: label, role, address and note of every scenario account;
- ``POST /_sim/transfer`` ``{"from": label, "to": label|address, "xem": "1.5", "message": ...,
  "at": ISO (default now), "via": cosigner}``: sign and queue one more transfer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from nemwatch.core.nem import nemtime
from nemwatch.sim.scenario import ScenarioError, TransferSpec, message_bytes, to_micro, to_utc

if TYPE_CHECKING:
    from nemwatch.sim.node import SimNode

_SCOPE_KEYS = ("count", "for_seconds", "paths")

# Every fault kind with its parameters and their defaults (what ``nemwatch sim --help`` and an
# unknown kind's error list). HTTP faults also take count, for_seconds and paths (default: every
# request, for ever, every path).
FAULT_KINDS: dict[str, str] = {
    "latency": "ms=1000",
    "error": "status=503, message",
    "5xx": "status=503 (same as error)",
    "rate_limit": "retry_after=120 (seconds, ISO time or null), date_form=false",
    "malformed": "",
    "truncated": "",
    "wrong_types": "",
    "huge": "size=52428800",
    "drip": "interval=4.0",
    "wrong_network": "on=true",
    "lag": "blocks=10",
    "freeze": "height=now",
    "lie": "offset=1000",
    "public": "on=true (the trusted API /local/* answers 401)",
    "rollback": "depth=3, mode=reinclude, hashes, reinclude_delay=1, replace_to",
    "fork": "",
    # the websocket push (sim.push): upgrades refused; pushes not sent (heartbeats go on); every
    # open push socket cut now. for_seconds is simulated time, default until cleared
    "push_refuse": "status=503, for_seconds=forever",
    "push_drop": "for_seconds=forever",
    "push_disconnect": "",
    "clear": "what (default: every fault; push: the push faults)",
}


def fault_kinds_help() -> str:
    """One line per fault kind: ``kind{param=default, ...}``."""
    return "\n".join(f"{k}{{{v}}}" if v else k for k, v in FAULT_KINDS.items())


def state(node: SimNode) -> dict[str, Any]:
    chain = node.chain
    with chain.lock:
        height = chain.sync()
        view = node.api.view_height()
    now = chain.clock.now()
    return {
        "node": node.index,
        "name": node.name,
        "url": node.url,
        "network": chain.network.value,
        "height": height,
        "viewHeight": view,
        "time": now.isoformat(),
        "nemTime": nemtime.from_datetime(now),
        "forks": chain.forks,
        "ownChain": chain is not node.cluster.chain,
        "faults": node.faults.describe(),
    }


def apply_fault(node: SimNode, spec: dict[str, Any]) -> dict[str, Any]:
    """Apply one fault described as JSON; return a summary (the rollback report for rollbacks).

    Kinds and their parameters with defaults: ``FAULT_KINDS``; every parameter has one.
    HTTP faults also take count, for_seconds and paths.
    """
    kind = spec.get("kind")
    if kind == "5xx":
        kind = "error"
    scope = {k: spec[k] for k in _SCOPE_KEYS if k in spec}
    faults = node.faults
    if kind == "latency":
        faults.latency(float(spec.get("ms", 1000)), **scope)
    elif kind == "error":
        faults.error(int(spec.get("status", 503)), message=spec.get("message"), **scope)
    elif kind == "rate_limit":
        retry = spec.get("retry_after", 120)
        if isinstance(retry, str):
            retry = to_utc(retry, "retry_after")
        faults.rate_limit(retry, date_form=bool(spec.get("date_form", False)), **scope)
    elif kind in ("malformed", "truncated", "wrong_types"):
        faults.body(kind, **scope)
    elif kind == "huge":
        faults.huge(int(spec.get("size", 50 * 1024 * 1024)), **scope)
    elif kind == "drip":
        faults.drip(float(spec.get("interval", 4.0)), **scope)
    elif kind == "wrong_network":
        faults.wrong_network(bool(spec.get("on", True)))
    elif kind == "lag":
        faults.lag(int(spec.get("blocks", 10)))
    elif kind == "freeze":
        height = spec.get("height", node.api.view_height())
        faults.freeze(None if height is None else int(height))
    elif kind == "lie":
        faults.lie(int(spec.get("offset", 1000)))
    elif kind == "public":
        faults.public(bool(spec.get("on", True)))
    elif kind == "rollback":
        report = node.chain.rollback(
            int(spec.get("depth", 3)),
            spec.get("mode", "reinclude"),
            hashes=spec.get("hashes"),
            reinclude_delay=int(spec.get("reinclude_delay", 1)),
            replace_to=spec.get("replace_to"),
        )
        return {"rollback": report.__dict__}
    elif kind == "fork":
        node.fork()
    elif kind == "push_refuse":
        node.push.refuse(int(spec.get("status", 503)), _seconds(spec))
    elif kind == "push_drop":
        node.push.drop(_seconds(spec))
    elif kind == "push_disconnect":
        return {"disconnected": node.push.disconnect(), "push": node.push.describe()}
    elif kind == "clear":
        what = spec.get("what")
        if what in (None, "push"):
            node.push.clear()
        if what != "push":
            faults.clear(what)
    else:
        raise ValueError(f"unknown fault kind {kind!r}; valid kinds: {', '.join(FAULT_KINDS)}")
    return {"faults": faults.describe(), "push": node.push.describe()}


def _seconds(spec: dict[str, Any]) -> float | None:
    value = spec.get("for_seconds")
    return None if value is None else float(value)


def _transfer(node: SimNode, spec: dict[str, Any]) -> dict[str, Any]:
    chain = node.chain
    at = to_utc(spec["at"], "at") if spec.get("at") else chain.clock.now()
    transfer = TransferSpec(
        at=at,
        sender=str(spec["from"]),
        recipient=str(spec["to"]),
        xem=to_micro(spec.get("xem", 0)),
        mosaics=tuple((str(m), int(q)) for m, q in spec.get("mosaics", [])),
        message=message_bytes(spec.get("message"), spec.get("message_hex")),
        via=spec.get("via"),
        version=spec.get("version"),
        note=str(spec.get("note", "")),
    )
    tx = chain.submit(transfer)
    return {"hash": tx.hash, "innerHash": tx.inner_hash, "ready": tx.ready}


def handle_control(node: SimNode, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
    try:
        request = json.loads(body) if body else {}
        if not isinstance(request, dict):
            raise ValueError("the body must be a JSON object")
        if path == "/_sim/state" and method == "GET":
            return 200, state(node)
        if path == "/_sim/advance" and method == "POST":
            if "seconds" in request:
                node.chain.advance(float(request["seconds"]))
            elif "to" in request:
                node.chain.advance_to(to_utc(request["to"], "to"))
            elif "height" in request:
                node.chain.mine_until(int(request["height"]))
            else:
                raise ValueError("give seconds, to or height")
            return 200, state(node)
        if path == "/_sim/fault" and method == "POST":
            return 200, apply_fault(node, request)
        if path == "/_sim/fault" and method == "DELETE":
            node.faults.clear()
            node.push.clear()
            return 200, state(node)
        if path == "/_sim/push" and method == "GET":
            return 200, node.push.describe()
        if path == "/_sim/requests" and method == "GET":
            since = int(parse_qs(query).get("since", ["0"])[0])
            records = node.requests
            return 200, {"data": [r.to_json() for r in records[since:]], "next": len(records)}
        if path == "/_sim/requests" and method == "DELETE":
            node.clear_requests()
            return 200, {"data": [], "next": 0}
        if path == "/_sim/accounts" and method == "GET":
            return 200, {"data": accounts(node)}
        if path == "/_sim/transfer" and method == "POST":
            return 200, _transfer(node, request)
        return 404, {"error": f"no control endpoint {method} {path}"}
    except (ValueError, KeyError, TypeError, ScenarioError) as err:
        return 400, {"error": f"{type(err).__name__}: {err}"}


def accounts(node: SimNode) -> list[dict[str, Any]]:
    compiled = node.chain.compiled
    return [
        {
            "label": label,
            "role": compiled.roles[key.address].value,
            "address": key.address,
            "publicKey": key.public_key,
            "note": compiled.notes.get(key.address, ""),
        }
        for label, key in compiled.keys.items()
        if key.address in compiled.roles
    ]
