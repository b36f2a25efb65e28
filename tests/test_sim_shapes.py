"""The simulator's JSON has the keys, `{}`s and absences of real NIS JSON (the reference samples)."""

from __future__ import annotations

from typing import Any

import httpx
from nis_samples import load
from simfixtures import START_HEIGHT, get, http, sim  # noqa: F401

from nemwatch.core.nem import address as nem_address
from nemwatch.sim import SimCluster

ERROR_KEYS = {"timeStamp", "error", "message", "status"}


def keys(value: dict[str, Any]) -> set[str]:
    return set(value)


def test_node_endpoints_match_real_samples(sim: SimCluster, http: httpx.Client) -> None:
    url = sim.urls[0]
    assert get(http, url, "/heartbeat") == load("heartbeat.json")
    assert get(http, url, "/status") == load("status.json")
    info = get(http, url, "/node/info")
    real = load("node_info.json")
    assert keys(info) == keys(real)
    assert keys(info["metaData"]) == keys(real["metaData"])
    assert keys(info["endpoint"]) == keys(real["endpoint"]) and keys(info["identity"]) == keys(real["identity"])
    assert info["metaData"]["networkId"] == 104 and info["metaData"]["features"] & 1
    assert info["endpoint"]["port"] == sim.nodes[0].port
    extended = get(http, url, "/node/extended-info")
    assert extended["node"] == info and {"currentTime", "application", "startTime", "version", "signer"} == keys(extended["nisInfo"])
    assert keys(get(http, url, "/chain/height")) == keys(load("chain_height.json"))
    time_sync = get(http, url, "/time-sync/network-time")
    assert time_sync["sendTimeStamp"] == time_sync["receiveTimeStamp"]
    assert time_sync["sendTimeStamp"] // 1000 == extended["nisInfo"]["currentTime"]  # milliseconds vs seconds
    peers = get(http, url, "/node/peer-list/reachable")["data"]
    assert sorted(p["endpoint"]["port"] for p in peers) == sorted(n.port for n in sim.nodes[1:])


def test_blocks_have_the_nis_block_shape(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(600)
    url = sim.urls[0]
    real = load("block_42804.json")  # the documentation sample: right shape, signature does not verify
    last = get(http, url, "/chain/last-block")
    assert keys(last) == keys(real) and last["height"] == sim.height == START_HEIGHT + 10
    assert last["type"] == 1 and last["version"] == 0x68000001
    assert keys(last["prevBlockHash"]) == {"data"} and len(last["prevBlockHash"]["data"]) == 64
    block = http.post(url + "/block/at/public", json={"height": START_HEIGHT + 1}).json()
    assert block["transactions"], "the first block after the start carries the first transfer"
    assert all("meta" not in tx for tx in block["transactions"])  # bare transactions in blocks
    assert all(tx["signature"] for tx in block["transactions"])


def test_transfer_shapes_v1_v2_message_and_meta(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(3600)
    thief = sim.address("thief")
    items = get(http, sim.urls[0], "/account/transfers/incoming", address=thief, pageSize=100)["data"]
    real_pair = load("incoming_nax3.json")["data"][0]
    v1 = [i for i in items if i["transaction"].get("version") == 0x68000001 and i["transaction"]["type"] == 257]
    v2 = [i for i in items if i["transaction"].get("version") == 0x68000002]
    assert v1 and v2
    for item in v1 + v2:
        assert keys(item) == {"meta", "transaction"}
        assert keys(item["meta"]) == keys(real_pair["meta"])
        assert item["meta"]["innerHash"] == {}
        assert keys(item["meta"]["hash"]) == {"data"}
    for item in v1:
        assert "mosaics" not in item["transaction"]  # a v1 transfer has no mosaics key at all
        expected = keys(real_pair["transaction"]) - {"mosaics"}
        assert keys(item["transaction"]) == expected
    for item in v2:
        assert keys(item["transaction"]) == keys(real_pair["transaction"])
        assert isinstance(item["transaction"]["mosaics"], list)
    with_message = [i for i in v1 + v2 if i["transaction"]["message"]]
    without = [i for i in v1 + v2 if not i["transaction"]["message"]]
    assert with_message and without
    assert all(i["transaction"]["message"] == {} for i in without)
    for item in with_message:
        message = item["transaction"]["message"]
        assert keys(message) == {"payload", "type"} and message["type"] == 1
        assert bytes.fromhex(message["payload"]).decode().startswith(("payment", "please", "deposit"))


def test_multisig_shape_matches_the_real_4100(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(600)
    real = load("multisig_3eef.json")
    items = get(http, sim.urls[0], "/account/transfers/outgoing", address=sim.address("exchange"))["data"]
    [item] = [i for i in items if i["transaction"]["type"] == 4100]
    tx = item["transaction"]
    assert keys(tx) == keys(real["transaction"])
    assert keys(tx["otherTrans"]) == keys(real["transaction"]["otherTrans"])
    assert "signature" not in tx["otherTrans"]
    assert len(tx["signatures"]) == 1  # 2-of-3: the initiator plus one cosignature
    assert keys(tx["signatures"][0]) == keys(real["transaction"]["signatures"][0])
    assert tx["signatures"][0]["type"] == 4098
    assert tx["signatures"][0]["otherAccount"] == sim.address("exchange")
    assert tx["signatures"][0]["otherHash"] == item["meta"]["innerHash"]
    assert keys(item["meta"]["innerHash"]) == {"data"}
    assert nem_address.from_public_key(tx["otherTrans"]["signer"]) == sim.address("exchange")
    assert nem_address.from_public_key(tx["signer"]) == sim.address("signer-1")


def test_account_shapes_and_multisig_info(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(600)
    url = sim.urls[0]
    real = load("account_nax3.json")
    hot = get(http, url, "/account/get", address=sim.address("hot"))
    assert keys(hot) == keys(real) and keys(hot["meta"]) == keys(real["meta"])
    assert keys(hot["account"]) == keys(real["account"])
    assert hot["account"]["multisigInfo"] == {} and hot["account"]["label"] is None
    assert hot["account"]["publicKey"] == sim.compiled.keys["hot"].public_key  # it has sent
    thief = get(http, url, "/account/get", address=sim.address("thief").lower())  # NIS upper-cases
    assert thief["account"]["publicKey"] is None  # never sent
    exchange = get(http, url, "/account/get", address=sim.address("exchange"))
    assert exchange["account"]["multisigInfo"] == {"cosignatoriesCount": 3, "minCosignatories": 2}
    assert sorted(a["address"] for a in exchange["meta"]["cosignatories"]) == sorted(
        sim.address(c) for c in ("signer-1", "signer-2", "signer-3")
    )
    signer = get(http, url, "/account/get", address=sim.address("signer-2"))
    assert [a["address"] for a in signer["meta"]["cosignatoryOf"]] == [sim.address("exchange")]


def test_unknown_valid_address_is_an_empty_account(sim: SimCluster, http: httpx.Client) -> None:
    stranger = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
    account = get(http, sim.urls[0], "/account/get", address=stranger)["account"]
    assert account["balance"] == 0 and account["publicKey"] is None and account["importance"] == 0.0
    assert get(http, sim.urls[0], "/account/transfers/all", address=stranger) == {"data": []}
    assert get(http, sim.urls[0], "/account/unconfirmedTransactions", address=stranger) == {"data": []}


def test_error_bodies_and_status_codes(sim: SimCluster, http: httpx.Client) -> None:
    url = sim.urls[0]
    real = load("error_400.json")
    bad = [
        "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OH",  # checksum
        "NC4C6P-SUW5CL-TDT5SX-AGJDQJ-GZNESK-FK5MCN-77OG",  # dashed
        "TC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5NWMBSUK",  # testnet on a mainnet node
        "NC4C6PSUW5CL",
    ]
    for address in bad:
        response = http.get(url + "/account/get", params={"address": address})
        assert response.status_code == 400
        body = response.json()
        assert keys(body) == keys(real) == ERROR_KEYS
        assert body["error"] == "Bad Request" and body["message"] == "address must be valid" and body["status"] == 400
        assert isinstance(body["timeStamp"], int)
    for path in ("/account/transfers/incoming", "/account/unconfirmedTransactions", "/account/mosaic/owned"):
        assert http.get(url + path, params={"address": bad[0]}).status_code == 400
    missing = http.post(url + "/block/at/public", json={"height": 10**9})
    assert missing.status_code == 404
    assert missing.json()["message"] == f"block not found in the db '{10**9}' (org.nem.core.model.Block)"
    assert missing.json()["error"] == "Not Found"
    for height in (0, -5):
        response = http.post(url + "/block/at/public", json={"height": height})
        assert response.status_code == 400 and response.json()["message"] == "height must be positive"
    unknown_hash = http.get(url + "/transaction/get", params={"hash": "ab" * 32})
    assert unknown_hash.status_code == 400 and unknown_hash.json()["message"] == "Hash was not found in cache"
    page = http.get(url + "/account/transfers/all", params={"address": sim.address("hot"), "id": "x"})
    assert page.status_code == 400
    assert http.get(url + "/chain/height-of-nothing").status_code == 404
    assert http.post(url + "/chain/height").status_code == 405


def test_unconfirmed_pool_shape_and_cap(sim: SimCluster, http: httpx.Client) -> None:
    url = sim.urls[0]
    thief = sim.address("thief")
    sim.advance(3000)
    sim.nodes[0].faults.lag(50)  # this node has seen no block since the start: 150 transfers pending
    pool = get(http, url, "/account/unconfirmedTransactions", address=thief)["data"]
    assert len(pool) == 25  # NIS caps the answer at 25
    real = load("unconfirmed_nax3.json")["data"][0]
    for item in pool:
        assert keys(item) == keys(real) and keys(item["meta"]) == {"data"}
        assert "signature" in item["transaction"]
    stamps = [item["transaction"]["timeStamp"] for item in pool]
    assert stamps == sorted(stamps, reverse=True)
    multisig = [i for i in pool if i["transaction"]["type"] == 4100]
    plain = [i for i in pool if i["transaction"]["type"] == 257]
    assert all(i["meta"]["data"] is None for i in plain)
    exchange_pool = get(http, url, "/account/unconfirmedTransactions", address=sim.address("exchange"))["data"]
    [wrapper] = exchange_pool
    assert multisig == [] or multisig == [wrapper]
    assert len(wrapper["meta"]["data"]) == 64  # the inner hash
    sim.nodes[0].faults.clear("lag")  # caught up: all of it is in blocks
    assert get(http, url, "/account/unconfirmedTransactions", address=sim.address("exchange")) == {"data": []}


def test_multisig_waiting_for_cosignatures_shows_no_signatures(sim: SimCluster, http: httpx.Client) -> None:
    tx = next(t for t in sim.compiled.txs if t.inner_hash)
    sim.chain.clock.advance(tx.created - sim.chain.start_ts + 1)  # announced, cosignature not yet there
    pool = get(http, sim.urls[0], "/account/unconfirmedTransactions", address=sim.address("signer-2"))["data"]
    [item] = pool
    assert item["transaction"]["signatures"] == [] and item["meta"]["data"] == tx.inner_hash
    sim.chain.clock.advance(tx.ready - tx.created)
    [item] = get(http, sim.urls[0], "/account/unconfirmedTransactions", address=sim.address("signer-2"))["data"]
    assert len(item["transaction"]["signatures"]) == 1


def test_mosaic_owned_lists_xem_first_with_the_balance(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(600)
    url = sim.urls[0]
    thief = sim.address("thief")
    owned = get(http, url, "/account/mosaic/owned", address=thief)["data"]
    real = load("mosaics_owned.json")["data"]
    assert keys(owned[0]) == keys(real[0])
    assert owned[0]["mosaicId"] == {"namespaceId": "nem", "name": "xem"}
    assert owned[0]["quantity"] == get(http, url, "/account/get", address=thief)["account"]["balance"] > 0
    assert owned[1:] == [{"mosaicId": {"namespaceId": "tag.demo", "name": "marker"}, "quantity": 1}]
    empty = get(http, url, "/account/mosaic/owned", address="NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG")
    assert empty == {"data": [{"mosaicId": {"namespaceId": "nem", "name": "xem"}, "quantity": 0}]}


def test_transaction_get_by_hash(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(600)
    url = sim.urls[0]
    item = get(http, url, "/account/transfers/outgoing", address=sim.address("hot"))["data"][0]
    found = get(http, url, "/transaction/get", hash=item["meta"]["hash"]["data"])
    assert found == item
    sim.advance(37 * 3600)  # past the 36 h hash retention
    assert http.get(url + "/transaction/get", params={"hash": item["meta"]["hash"]["data"]}).status_code == 400
