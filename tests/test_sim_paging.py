"""Transfer listings page like NIS: newest first, exclusive `id`, `pageSize` clamped to 5..100."""

from __future__ import annotations

import httpx
from simfixtures import PAGED_TRANSFERS, get, http, page_all, sim  # noqa: F401

from nemwatch.sim import SimCluster


def ids(page: dict) -> list[int]:
    return [item["meta"]["id"] for item in page["data"]]


def test_paging_past_several_pages_with_an_exclusive_id(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(4 * 3600)
    url, hot = sim.urls[0], sim.address("hot")
    first = get(http, url, "/account/transfers/outgoing", address=hot)
    assert len(first["data"]) == 25  # the default page
    assert ids(first) == sorted(ids(first), reverse=True)  # newest first
    seen = ids(first)
    cursor = min(seen)
    pages = 1
    while True:
        page = get(http, url, "/account/transfers/outgoing", address=hot, id=cursor)
        if not page["data"]:
            break
        pages += 1
        assert max(ids(page)) < cursor  # strictly older than the cursor: the cursor itself is not repeated
        assert ids(page) == sorted(ids(page), reverse=True)
        seen.extend(ids(page))
        cursor = min(ids(page))
    assert pages == 6 and len(seen) == len(set(seen)) == PAGED_TRANSFERS
    hashes = {item["meta"]["hash"]["data"] for item in page_all(http, url, "outgoing", hot, page_size=7)}
    assert len(hashes) == PAGED_TRANSFERS  # a different page size walks the same set
    heights = [item["meta"]["height"] for item in first["data"]]
    assert heights == sorted(heights, reverse=True)


def test_page_size_is_clamped(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(4 * 3600)
    url, hot = sim.urls[0], sim.address("hot")
    for asked, got in ((1, 5), (5, 5), (4, 5), (0, 5), (-3, 5), (60, 60), (100, 100), (1000, 100)):
        page = get(http, url, "/account/transfers/outgoing", address=hot, pageSize=asked)
        assert len(page["data"]) == got, asked


def test_all_merges_incoming_and_outgoing_without_duplicates(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(4 * 3600)
    url, thief = sim.urls[0], sim.address("thief")
    incoming = {i["meta"]["id"] for i in page_all(http, url, "incoming", thief)}
    outgoing = {i["meta"]["id"] for i in page_all(http, url, "outgoing", thief)}
    everything = page_all(http, url, "all", thief, page_size=30)
    assert outgoing == set()
    assert [i["meta"]["id"] for i in everything] == sorted(incoming, reverse=True)
    hot_all = page_all(http, url, "all", sim.address("hot"), page_size=100)
    assert len(hot_all) == PAGED_TRANSFERS


def test_multisig_spend_is_outgoing_for_the_account_and_every_cosigner(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(600)
    url = sim.urls[0]
    [wrapper] = [
        i for i in get(http, url, "/account/transfers/outgoing", address=sim.address("exchange"))["data"]
    ]
    assert wrapper["transaction"]["type"] == 4100
    for cosigner in ("signer-1", "signer-2", "signer-3"):  # signer-3 did not sign, NIS lists it all the same
        listed = get(http, url, "/account/transfers/outgoing", address=sim.address(cosigner))["data"]
        assert listed == [wrapper]
        assert get(http, url, "/account/transfers/incoming", address=sim.address(cosigner)) == {"data": []}
    incoming = get(http, url, "/account/transfers/incoming", address=sim.address("thief"), pageSize=100)["data"]
    assert wrapper in incoming
    assert get(http, url, "/account/transfers/incoming", address=sim.address("exchange")) == {"data": []}


def test_hash_cursor_and_node_local_ids(sim: SimCluster, http: httpx.Client) -> None:
    sim.advance(4 * 3600)
    hot = sim.address("hot")
    page = get(http, sim.urls[0], "/account/transfers/outgoing", address=hot, pageSize=10)["data"]
    by_hash = get(http, sim.urls[0], "/account/transfers/outgoing", address=hot, pageSize=10,
                  hash=page[-1]["meta"]["hash"]["data"])["data"]
    by_id = get(http, sim.urls[0], "/account/transfers/outgoing", address=hot, pageSize=10,
                id=page[-1]["meta"]["id"])["data"]
    assert by_hash == by_id and by_hash[0]["meta"]["id"] < page[-1]["meta"]["id"]
    bad = http.get(sim.urls[0] + "/account/transfers/outgoing", params={"address": hot, "hash": "cd" * 32})
    assert bad.status_code == 400
    assert bad.json()["message"] == "Neither transaction id was supplied nor hash was found in cache"


def test_a_node_with_other_database_ids(http: httpx.Client) -> None:
    from simfixtures import compiled_small, start_cluster

    with start_cluster(compiled_small(), nodes=2, id_offsets=[0, 5_000_000]) as sim:
        sim.advance(3600)
        hot = sim.address("hot")
        a = get(http, sim.urls[0], "/account/transfers/outgoing", address=hot)["data"]
        b = get(http, sim.urls[1], "/account/transfers/outgoing", address=hot)["data"]
        assert [i["meta"]["hash"] for i in a] == [i["meta"]["hash"] for i in b]
        assert [i["meta"]["id"] + 5_000_000 for i in a] == [i["meta"]["id"] for i in b]
        older = get(http, sim.urls[1], "/account/transfers/outgoing", address=hot, id=b[-1]["meta"]["id"])["data"]
        assert older[0]["meta"]["id"] < b[-1]["meta"]["id"]
