"""Two more NIS endpoints of a simulated node, as NIS implements them:

- ``POST /transactions/unconfirmed`` (``TransactionController``): the pool transactions whose
  hash short id is not in the request's ``entity.hashShortIds``, as
  ``{"entity": {"data": [tx...]}, "signature": <the node's signature over the challenge>}``.
  Unlike ``/account/unconfirmedTransactions`` it has no cap of 25 and no account filter.
- ``GET /namespace/mosaic/definition/page?namespace=[&id=][&pageSize=]``
  (``MosaicDefinitionController``): the namespace's mosaic definitions, newest first, ``id``
  exclusive, ``levy: {}`` (the simulator's mosaics carry no levy).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from nemwatch.core.nem import nemtime
from nemwatch.sim.txbuild import split_mosaic_id

if TYPE_CHECKING:
    from nemwatch.sim.nisapi import NisApi

PAGE_DEFAULT, PAGE_MIN, PAGE_MAX = 25, 5, 100


def short_id(tx_hash: str) -> int:
    return int.from_bytes(bytes.fromhex(tx_hash)[:8], "big", signed=True)


def _error(status: int, message: str) -> Exception:
    from nemwatch.sim.nisapi import NisError

    return NisError(status, message)


def unknown_pool(api: NisApi, body: bytes) -> Any:
    try:
        request = json.loads(body or b"null")
        challenge = bytes.fromhex(request["challenge"]["data"])
        known = {int(item["hashShortId"]) for item in request["entity"]["hashShortIds"]}
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise _error(400, "expected an authenticated unconfirmed transactions request") from None
    now = nemtime.from_datetime(api.now())
    data = []
    for tx in api.chain.pending(now, api.view_height()):
        if short_id(tx.hash) in known:
            continue
        data.append(tx.built.pool_json if tx.built.pool_json is not None and now < tx.ready else tx.built.json)
    signature = api.node.identity.key_pair.sign(challenge).bytes.hex()
    return {"entity": {"data": data}, "signature": signature}


def definition_page(api: NisApi, query: dict[str, list[str]]) -> Any:
    namespace = (query.get("namespace") or [""])[0]
    if not namespace:
        raise _error(400, "namespace must be given")
    try:
        cursor = int(query["id"][0]) if query.get("id") else None
        size = int(query["pageSize"][0]) if query.get("pageSize") else PAGE_DEFAULT
    except ValueError:
        raise _error(400, "id and pageSize must be numbers") from None
    size = max(PAGE_MIN, min(PAGE_MAX, size))
    compiled = api.chain.compiled
    owned = sorted(
        (i, spec) for i, spec in enumerate(compiled.mosaic_defs.values(), start=1)
        if split_mosaic_id(spec.id)[0] == namespace
    )
    page = [(i, spec) for i, spec in reversed(owned) if cursor is None or i < cursor][:size]
    out = []
    for meta_id, spec in page:
        ns, name = split_mosaic_id(spec.id)
        out.append({
            "meta": {"id": meta_id},
            "mosaic": {
                "creator": compiled.keys[spec.owner].public_key,
                "id": {"namespaceId": ns, "name": name},
                "description": spec.description,
                "properties": [
                    {"name": "divisibility", "value": str(spec.divisibility)},
                    {"name": "initialSupply", "value": str(spec.supply)},
                    {"name": "supplyMutable", "value": "false"},
                    {"name": "transferable", "value": "true" if spec.transferable else "false"},
                ],
                "levy": {},
            },
        })
    return {"data": out}
