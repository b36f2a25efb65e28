"""Every fault of a simulated node, observed with a plain HTTP client."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest
from simfixtures import START, START_HEIGHT, get, http, sim  # noqa: F401

from nemwatch.core.nem import address as nem_address
from nemwatch.core.models import Network
from nemwatch.sim import SimCluster


def test_latency_delays_answers(sim: SimCluster, http: httpx.Client) -> None:
    url = sim.urls[0]
    sim.nodes[0].faults.latency(3000, count=1)
    with pytest.raises(httpx.ReadTimeout):
        http.get(url + "/chain/height", timeout=0.3)
    assert get(http, url, "/chain/height") == {"height": START_HEIGHT}  # the count is used up
    assert get(http, sim.urls[1], "/heartbeat")["code"] == 1  # other nodes unaffected


def test_server_errors_for_n_requests_a_duration_or_until_cleared(sim: SimCluster, http: httpx.Client) -> None:
    url = sim.urls[0]
    faults = sim.nodes[0].faults
    faults.error(503, count=2)
    for _ in range(2):
        response = http.get(url + "/chain/height")
        assert response.status_code == 503
        assert response.json()["message"] == "NIS_ILLEGAL_STATE_LOADING_CHAIN"
        assert response.json()["error"] == "Service Unavailable" and response.json()["status"] == 503
    assert http.get(url + "/chain/height").status_code == 200

    faults.error(500, for_seconds=600)
    assert http.get(url + "/chain/height").status_code == 500
    sim.advance(599)
    assert http.get(url + "/heartbeat").status_code == 500
    sim.advance(1)
    assert http.get(url + "/heartbeat").status_code == 200  # ten simulated minutes are over

    faults.error(502, paths=["/chain/"])
    assert http.get(url + "/chain/height").status_code == 502
    assert http.get(url + "/heartbeat").status_code == 200  # only the chosen paths
    faults.clear("error")
    assert http.get(url + "/chain/height").status_code == 200


def test_429_with_retry_after_in_seconds_date_or_absent(sim: SimCluster, http: httpx.Client) -> None:
    url = sim.urls[0]
    faults = sim.nodes[0].faults
    faults.rate_limit(120, count=1)
    response = http.get(url + "/chain/height")
    assert response.status_code == 429 and response.headers["Retry-After"] == "120"
    assert response.json()["error"] == "Too Many Requests"

    faults.rate_limit(90, date_form=True, count=1)
    response = http.get(url + "/chain/height")
    sent = parsedate_to_datetime(response.headers["Date"])
    assert sent == START  # the Date header follows the simulated clock
    assert parsedate_to_datetime(response.headers["Retry-After"]) - sent == timedelta(seconds=90)

    until = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
    faults.rate_limit(until, count=1)
    assert parsedate_to_datetime(http.get(url + "/chain/height").headers["Retry-After"]) == until

    faults.rate_limit(None, count=1)
    response = http.get(url + "/chain/height")
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert http.get(url + "/chain/height").status_code == 200


def test_request_log_shows_when_each_request_came(sim: SimCluster, http: httpx.Client) -> None:
    node = sim.nodes[0]
    node.faults.rate_limit(120, count=1)
    assert http.get(node.url + "/chain/height").status_code == 429
    sim.advance(120)  # a polite client waits out Retry-After before asking again
    assert http.get(node.url + "/chain/height?x=1").status_code == 200
    first, second = node.requests
    assert (first.method, first.path, first.status) == ("GET", "/chain/height", 429)
    assert (second.path, second.status) == ("/chain/height?x=1", 200)
    assert second.at - first.at >= timedelta(seconds=120)
    over_http = get(http, node.url, "/_sim/requests")
    assert [r["path"] for r in over_http["data"]] == ["/chain/height", "/chain/height?x=1"]
    assert [r["status"] for r in over_http["data"]] == [429, 200] and over_http["next"] == 2
    assert get(http, node.url, "/_sim/requests", since=1)["data"][0]["path"] == "/chain/height?x=1"
    assert len(node.requests) == 2  # control requests are not logged
    http.delete(node.url + "/_sim/requests")
    assert node.requests == []


def test_malformed_truncated_and_wrong_types(sim: SimCluster, http: httpx.Client) -> None:
    url = sim.urls[0]
    faults = sim.nodes[0].faults
    faults.malformed(count=1)
    response = http.get(url + "/node/info")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)

    faults.truncated(count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(url + "/node/info")

    faults.wrong_types(count=1)
    assert http.get(url + "/chain/height").json() == {"height": str(START_HEIGHT)}
    assert get(http, url, "/chain/height") == {"height": START_HEIGHT}


def test_huge_body_streams(sim: SimCluster, http: httpx.Client) -> None:
    url = sim.urls[0]
    sim.nodes[0].faults.huge(5_000_000, count=1)
    response = http.get(url + "/chain/height")
    assert len(response.content) == 5_000_000
    assert set(json.loads(response.content)) == {"padding"}

    sim.nodes[0].faults.huge(count=1)  # the default 50 MB: a careful client stops reading early
    with http.stream("GET", url + "/chain/height") as stream:
        assert int(stream.headers["Content-Length"]) == 50 * 1024 * 1024
        received = 0
        for chunk in stream.iter_raw():
            received += len(chunk)
            if received >= 1_000_000:
                break
    assert get(http, url, "/chain/height") == {"height": START_HEIGHT}


def test_slow_drip_sends_a_byte_at_a_time_without_blocking_others(sim: SimCluster, http: httpx.Client) -> None:
    url = sim.urls[0]
    sim.nodes[0].faults.drip(0.01, count=1, paths=["/heartbeat"])
    with http.stream("GET", url + "/heartbeat") as stream:
        chunks = list(stream.iter_raw())
    assert b"".join(chunks) == b'{"code":1,"type":2,"message":"ok"}'
    assert len(chunks) > 5

    sim.nodes[0].faults.drip(30, count=1, paths=["/chain/height"])
    got: list[bytes] = []
    errors: list[Exception] = []
    started = threading.Event()

    def slow_reader() -> None:
        try:
            with httpx.Client(timeout=60) as client, client.stream("GET", url + "/chain/height") as stream:
                started.set()
                for chunk in stream.iter_raw():
                    got.append(chunk)
        except httpx.RemoteProtocolError as err:
            errors.append(err)

    reader = threading.Thread(target=slow_reader, daemon=True)
    reader.start()
    assert started.wait(10)
    assert get(http, url, "/status")["code"] == 6  # served while the drip goes on
    assert get(http, url, "/chain/height") == {"height": START_HEIGHT}
    assert reader.is_alive()
    sim.nodes[0].stop()  # stopping the node ends the drip
    reader.join(10)
    assert not reader.is_alive() and b"".join(got) == b"{"
    assert len(errors) == 1  # the body was cut short when the node went away


def test_wrong_network_node(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(600)
    url = sim.urls[0]
    sim.nodes[0].faults.wrong_network()
    assert get(http, url, "/node/info")["metaData"]["networkId"] == -104
    mainnet_thief = sim.address("thief")
    response = http.get(url + "/account/get", params={"address": mainnet_thief})
    assert response.status_code == 400 and response.json()["message"] == "address must be valid"
    testnet_thief = get(http, sim.urls[1], "/account/get", address=mainnet_thief)  # a healthy node for comparison
    as_testnet = nem_address.from_public_key(sim.compiled.keys["thief"].public_key, Network.TESTNET)
    account = get(http, url, "/account/get", address=as_testnet)["account"]
    assert account["address"] == as_testnet and account["address"].startswith("T")
    assert account["balance"] == testnet_thief["account"]["balance"] > 0
    items = get(http, url, "/account/transfers/incoming", address=as_testnet)["data"]
    items = [i["transaction"].get("otherTrans", i["transaction"]) for i in items]
    assert items and all(i["recipient"] == as_testnet for i in items)
    assert all((i["version"] & 0xFFFFFFFF) >> 24 == 0x98 for i in items)
    sim.nodes[0].faults.clear("wrong_network")
    assert get(http, url, "/node/info")["metaData"]["networkId"] == 104


def test_lagging_frozen_and_lying_nodes(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(3600)
    tip = sim.height
    lagging, frozen, lying = sim.nodes
    lagging.faults.lag(30)
    frozen.faults.freeze(tip)
    lying.faults.lie(1000)
    assert get(http, lagging.url, "/chain/height") == {"height": tip - 30}
    assert get(http, lagging.url, "/chain/last-block")["height"] == tip - 30
    above = http.post(lagging.url + "/block/at/public", json={"height": tip})
    assert above.status_code == 404
    thief = sim.address("thief")
    newest = get(http, lagging.url, "/account/transfers/incoming", address=thief)["data"][0]
    assert newest["meta"]["height"] <= tip - 30
    balance_then = get(http, lagging.url, "/account/get", address=thief)["account"]["balance"]
    assert balance_then < get(http, lying.url, "/account/get", address=thief)["account"]["balance"]

    sim.advance(600)
    assert get(http, frozen.url, "/chain/height") == {"height": tip}
    assert get(http, lagging.url, "/chain/height") == {"height": tip + 10 - 30}
    assert get(http, lying.url, "/chain/height") == {"height": tip + 10 + 1000}
    assert get(http, lying.url, "/chain/last-block")["height"] == tip + 10 + 1000
    assert http.post(lying.url + "/block/at/public", json={"height": tip + 500}).status_code == 404
    for node in sim.nodes:
        node.faults.clear()
    assert {get(http, n.url, "/chain/height")["height"] for n in sim.nodes} == {tip + 10}


def test_http_controls_state_advance_fault_and_transfer(sim: SimCluster, http: httpx.Client) -> None:
    url = sim.urls[1]
    state = get(http, url, "/_sim/state")
    assert state["height"] == START_HEIGHT and state["node"] == 1 and state["faults"]["http"] == []
    state = http.post(url + "/_sim/advance", json={"seconds": 600}).json()
    assert state["height"] == START_HEIGHT + 10
    assert http.post(url + "/_sim/advance", json={"height": START_HEIGHT + 20}).json()["height"] == START_HEIGHT + 20
    to = (START + timedelta(hours=1)).isoformat()
    assert http.post(url + "/_sim/advance", json={"to": to}).json()["height"] == START_HEIGHT + 60

    assert http.post(url + "/_sim/fault", json={"kind": "error", "status": 503, "count": 1}).status_code == 200
    assert http.get(url + "/heartbeat").status_code == 503
    http.post(url + "/_sim/fault", json={"kind": "rate_limit", "retry_after": 30, "paths": ["/chain/"]})
    assert http.get(url + "/chain/height").headers["Retry-After"] == "30"
    http.post(url + "/_sim/fault", json={"kind": "lag", "blocks": 5})
    http.post(url + "/_sim/fault", json={"kind": "lie", "offset": 7})
    described = get(http, url, "/_sim/state")["faults"]
    assert described["view"]["lag_blocks"] == 5 and described["http"][0]["kind"] == "rate_limit"
    assert http.delete(url + "/_sim/fault").status_code == 200
    assert get(http, url, "/chain/height") == {"height": START_HEIGHT + 60}
    for kind in ("malformed", "truncated", "wrong_types", "huge", "drip", "wrong_network", "freeze", "latency"):
        body = {"kind": kind, "count": 1} if kind not in ("wrong_network", "freeze") else {"kind": kind}
        if kind == "latency":
            body["ms"] = 1
        assert http.post(url + "/_sim/fault", json=body).status_code == 200, kind
    http.delete(url + "/_sim/fault")
    assert http.post(url + "/_sim/fault", json={"kind": "nonsense"}).status_code == 400

    accounts = get(http, url, "/_sim/accounts")["data"]
    labels = {a["label"]: a for a in accounts}
    assert labels["thief"]["address"] == sim.address("thief") and labels["thief"]["role"] == "thief"
    sent = http.post(url + "/_sim/transfer", json={"from": "hot", "to": "thief", "xem": "12.5", "message": "extra"}).json()
    http.post(url + "/_sim/advance", json={"seconds": 60})
    found = get(http, url, "/transaction/get", hash=sent["hash"])
    assert found["transaction"]["amount"] == 12_500_000
    assert http.post(url + "/_sim/transfer", json={"from": "nobody", "to": "thief"}).status_code == 400


def test_rollback_through_the_control_endpoint(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(2000)  # transfers every 20 s: the last five blocks carry some
    url = sim.urls[2]
    before = http.post(url + "/block/at/public", json={"height": sim.height - 2}).json()
    report = http.post(url + "/_sim/fault", json={"kind": "rollback", "depth": 5, "mode": "drop"}).json()["rollback"]
    assert report["ancestor"] == sim.height - 5 and len(report["dropped"]) > 0
    after = http.post(url + "/block/at/public", json={"height": sim.height - 2}).json()
    assert after["signature"] != before["signature"]
    for dropped in report["dropped"]:
        assert http.get(url + "/transaction/get", params={"hash": dropped}).status_code == 400
    same = http.post(sim.urls[0] + "/block/at/public", json={"height": sim.height - 2}).json()
    assert same == after  # the nodes share the chain
