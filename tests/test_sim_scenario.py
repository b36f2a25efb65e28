"""Scenario files: the loader, the overdraft check, the coincheck-2018 reconstruction, scale variants."""

from __future__ import annotations

import hashlib
import re
import statistics
import tomllib
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from simfixtures import coincheck, get, http, page_all, start_cluster  # noqa: F401

from nemwatch.core.models import MICRO_XEM
from nemwatch.core.nem import address as nem_address
from nemwatch.core.nem import txhash
from nemwatch.sim import Role, ScenarioError, builtin_names, compile_scenario, load_scenario
from nemwatch.sim.scenario_toml import parse_scenario

JST = timezone(timedelta(hours=9))
MARKER = "mizunashi.coincheck_stolen_funds_do_not_accept_trades:owner_of_this_account_is_hacker"
SECOND_HOPS = [f"second-hop-{i}" for i in range(1, 10)]


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text + "+09:00")


def sent(compiled, sender: str, recipient: str | None = None) -> list:  # noqa: ANN001
    a = compiled.address(sender)
    b = compiled.address(recipient) if recipient else None
    return [t for t in compiled.txs if t.sender == a and (b is None or t.recipient == b)]


# --- the loader ---------------------------------------------------------------------------------

BASE = """
[scenario]
start = "2018-01-26T00:00:00+09:00"
[[account]]
label = "a"
xem = "100"
[[account]]
label = "b"
"""


def parse(extra: str) -> object:
    return parse_scenario(tomllib.loads(BASE + extra), "test")


def test_loader_reads_a_small_file_and_refuses_overdrafts() -> None:
    scenario = parse('[[transfer]]\nat = "2018-01-26T00:01:00+09:00"\nfrom = "a"\nto = "b"\nxem = "99.95"\n')
    compiled = compile_scenario(scenario)
    [tx] = compiled.txs
    assert tx.xem == 99_950_000 and tx.fee == 50_000
    too_much = parse('[[transfer]]\nat = "2018-01-26T00:01:00+09:00"\nfrom = "a"\nto = "b"\nxem = "99.96"\n')
    with pytest.raises(ScenarioError, match="overdraws"):
        compile_scenario(too_much)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[transfer]]\nat = "2018-01-26T00:01:00+09:00"\nfrom = "a"\nto = "b"\nxem = 1.5\n', "not a float"),
        ('[[transfer]]\nat = "2018-01-26T00:01:00+09:00"\nfrom = "zz"\nto = "b"\n', "unknown sender"),
        ('[[transfer]]\nat = "2018-01-25T00:01:00+09:00"\nfrom = "a"\nto = "b"\n', "before the scenario start"),
        ('[[transfer]]\nat = "2018-01-26T00:01:00"\nfrom = "a"\nto = "b"\n', "timezone"),
        ('[[transfer]]\nat = "2018-01-26T00:01:00+09:00"\nfrom = "a"\nto = "b"\nxem = "0.0000001"\n', "6 decimals"),
        ('[[transfer]]\nat = "2018-01-26T00:01:00+09:00"\nfrom = "a"\nto = "b"\ncolour = 1\n', "unknown key"),
        ('[[account]]\nlabel = "a"\n', "used twice"),
        ('[[account]]\nlabel = "m"\ncosigners = ["a", "q"]\n', "unknown cosigner"),
        ('[price]\npoints = [["2018-01-26T00:00:00+09:00", 1.5]]\n', "not a float"),
    ],
)
def test_loader_errors_are_one_line_and_precise(extra: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse(extra)


def test_scenario_rules_checked_at_compile_time() -> None:
    mosaic = '[[mosaic]]\nid = "x.y:z"\nowner = "a"\nsupply = 10\ntransferable = false\n'
    onward = (
        '[[transfer]]\nat = "2018-01-26T00:01:00+09:00"\nfrom = "a"\nto = "b"\nxem = "1"\n'
        'mosaics = [{ id = "x.y:z", quantity = 1 }]\n'
        '[[transfer]]\nat = "2018-01-26T00:02:00+09:00"\nfrom = "b"\nto = "a"\nmosaics = [{ id = "x.y:z", quantity = 1 }]\n'
    )
    compile_scenario(parse(mosaic + onward))  # back to the owner is allowed
    third = onward.replace('from = "b"\nto = "a"', 'from = "b"\nto = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"')
    with pytest.raises(ScenarioError, match="not transferable"):
        compile_scenario(parse(mosaic + third))
    multisig = '[[account]]\nlabel = "m"\nxem = "5"\ncosigners = ["a", "b"]\nmin_cosigners = 2\n'
    no_via = '[[transfer]]\nat = "2018-01-26T00:01:00+09:00"\nfrom = "m"\nto = "b"\n'
    with pytest.raises(ScenarioError, match="via"):
        parse(multisig + no_via)
    with pytest.raises(ScenarioError, match="neither a label nor a valid address"):
        compile_scenario(parse('[[transfer]]\nat = "2018-01-26T00:01:00+09:00"\nfrom = "a"\nto = "NOPE"\n'))
    with pytest.raises(ScenarioError, match="no scenario"):
        load_scenario("no-such-scenario")


def test_every_builtin_scenario_file_loads(tmp_path: Path) -> None:
    assert "coincheck-2018" in builtin_names()
    for name in builtin_names():
        assert compile_scenario(load_scenario(name)).txs
    copy = tmp_path / "mine.toml"
    copy.write_text(BASE, encoding="utf-8")
    assert load_scenario(str(copy)).name == "mine"


# --- coincheck-2018 ------------------------------------------------------------------------------


def test_coincheck_is_labelled_a_reconstruction_with_real_addresses_in_notes() -> None:
    compiled = coincheck()
    scenario = compiled.scenario
    assert "reconstruction" in scenario.description.lower() and "synthetic" in scenario.description.lower()
    hot = scenario.account("coincheck-hot-wallet")
    thief = scenario.account("thief-nc4")
    assert hot.role is Role.HOT_WALLET and hot.real_address == "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
    assert thief.role is Role.THIEF and thief.real_address == "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
    reals = [scenario.account(h).real_address for h in SECOND_HOPS]
    assert len(set(reals)) == 9 and all(nem_address.is_valid(r) for r in reals)
    assert "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ" in compiled.notes[compiled.address("coincheck-hot-wallet")]
    simulated = set(compiled.labels)
    assert not simulated & {hot.real_address, thief.real_address, *reals}  # synthetic keys, not the real ones
    roles = {a.role for a in scenario.accounts}
    assert {Role.HOT_WALLET, Role.THIEF, Role.SECOND_HOP, Role.BYSTANDER, Role.RELAY, Role.EXCHANGE} <= roles


def test_coincheck_hot_wallet_sends_526300010_xem_in_11_transfers() -> None:
    compiled = coincheck()
    theft = sent(compiled, "coincheck-hot-wallet")
    assert len(theft) == 11
    assert all(t.recipient == compiled.address("thief-nc4") for t in theft)
    assert sum(t.xem for t in theft) == 526_300_010 * MICRO_XEM
    times = [t.spec.at.astimezone(JST) for t in theft]
    assert times[0] == jst("2018-01-26T00:02:13") and theft[0].xem == 10 * MICRO_XEM
    early = [t.xem // MICRO_XEM for t, at in zip(theft, times, strict=True) if at < jst("2018-01-26T00:10:00")]
    assert sorted(early) == [10, 3_000_000, 20_000_000] + [100_000_000] * 5
    late = [(at.strftime("%H:%M"), t.xem // MICRO_XEM) for t, at in zip(theft, times, strict=True) if at >= jst("2018-01-26T00:10:00")]
    assert late == [("03:35", 1_500_000), ("04:33", 1_000_000), ("08:26", 800_000)]
    hot = compiled.address("coincheck-hot-wallet")
    assert compiled.genesis_balances[hot] >= sum(t.xem + t.fee for t in theft)


def test_coincheck_served_by_a_node_matches_the_theft(http: httpx.Client) -> None:
    compiled = coincheck()
    with start_cluster(compiled, nodes=1) as sim:
        sim.advance_to(jst("2018-01-26T09:00:00"))
        url = sim.urls[0]
        hot = sim.address("coincheck-hot-wallet")
        outgoing = page_all(http, url, "outgoing", hot)
        assert len(outgoing) == 11
        assert sum(i["transaction"]["amount"] for i in outgoing) == 526_300_010 * MICRO_XEM
        for item in outgoing:
            assert txhash.transaction_hash(item["transaction"]) == item["meta"]["hash"]["data"]
        for label in ["thief-nc4", *SECOND_HOPS]:
            owned = get(http, url, "/account/mosaic/owned", address=sim.address(label))["data"]
            ids = {f"{m['mosaicId']['namespaceId']}:{m['mosaicId']['name']}": m["quantity"] for m in owned}
            assert ids[MARKER] == 1, label
        balance = get(http, url, "/account/get", address=hot)["account"]["balance"]
        assert balance == compiled.genesis_balances[hot] - sum(t.xem + t.fee for t in sent(compiled, "coincheck-hot-wallet"))


def test_coincheck_markers_and_the_ten_outflows() -> None:
    compiled = coincheck()
    markers = sent(compiled, "tagger-mizunashi")
    assert markers[0].recipient == compiled.address("thief-nc4")
    assert markers[0].spec.at.astimezone(JST) == jst("2018-01-26T02:23:00")
    hops = markers[1:]
    assert {t.recipient for t in hops} == {compiled.address(h) for h in SECOND_HOPS}
    assert all(jst("2018-01-26T02:43:00") <= t.spec.at <= jst("2018-01-26T03:51:00") for t in hops)
    assert all(t.mosaics == ((MARKER, 1),) and t.xem == 0 for t in markers)
    outflows = [t for t in sent(compiled, "thief-nc4") if jst("2018-01-26T00:00:00") <= t.spec.at < jst("2018-01-27T00:00:00")]
    assert len(outflows) == 10
    assert {t.recipient for t in outflows} == {compiled.address(h) for h in SECOND_HOPS}
    assert min(t.spec.at for t in outflows) >= jst("2018-01-26T02:57:00")
    assert max(t.spec.at for t in outflows) < jst("2018-01-26T04:00:00")


def test_coincheck_decoys_go_to_bystanders_who_messaged_the_thief() -> None:
    compiled = coincheck()
    thief = compiled.address("thief-nc4")
    window = (jst("2018-01-30T22:33:00"), jst("2018-01-30T23:10:00"))
    decoys = [t for t in sent(compiled, "thief-nc4") if window[0] <= t.spec.at <= window[1]]
    assert len(decoys) == 14
    assert sorted(t.xem for t in decoys) == [0] * 3 + [100 * MICRO_XEM] * 11
    recipients = {t.recipient for t in decoys}
    assert len(recipients) == 9
    messaged = {t.sender for t in compiled.txs if t.recipient == thief and t.built.json["message"] and t.spec.at < window[0]}
    assert recipients <= messaged
    assert all(compiled.roles[r] is Role.BYSTANDER for r in recipients)


def test_coincheck_adverts_and_other_chain_addresses() -> None:
    compiled = coincheck()
    texts = [
        (t.spec.at, t.spec.message.decode())
        for t in sent(compiled, "thief-nc4")
        if t.spec.message and jst("2018-02-07T00:00:00") <= t.spec.at < jst("2018-02-09T00:00:00")
    ]
    adverts = [m for _, m in texts if ".onion" in m and "15%off" in m]
    assert len(adverts) >= 10
    btc = [re.search(r"\b1[1-9A-HJ-NP-Za-km-z]{25,34}\b", m) for _, m in texts]
    ltc = [re.search(r"\bL[1-9A-HJ-NP-Za-km-z]{26,33}\b", m) for _, m in texts]
    found = [m.group(0) for m in btc + ltc if m]
    assert len(found) == 2 and all(_base58check_ok(a) for a in found)


def _base58check_ok(text: str) -> bool:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = 0
    for char in text:
        number = number * 58 + alphabet.index(char)
    raw = number.to_bytes(25, "big")
    return hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:]


def test_coincheck_relay_hops_into_exchanges_with_deposit_tags() -> None:
    compiled = coincheck()
    exchanges = {compiled.address(x) for x in ("exchange-jp-central", "exchange-overseas-central")}
    relays = {compiled.address("relay-1"), compiled.address("relay-2")}
    deposits = sorted((t for t in compiled.txs if t.sender in relays and t.recipient in exchanges), key=lambda t: t.created)
    assert len(deposits) >= 30
    assert all(t.spec.message and t.spec.message.decode().isalnum() for t in deposits)
    assert all(199_000 * MICRO_XEM <= t.xem <= 300_000 * MICRO_XEM for t in deposits)
    gaps = [(b.created - a.created) / 60 for a, b in zip(deposits, deposits[1:], strict=False)]
    assert 35 <= statistics.median(gaps) <= 45  # about every 40 minutes
    relays_all = compiled.by_role(Role.RELAY)
    single_use = [
        a for a in relays_all
        if sum(1 for t in compiled.txs if t.recipient == a and t.xem) == 1
        and sum(1 for t in compiled.txs if t.sender == a) == 1
    ]
    assert len(single_use) >= 10


def test_coincheck_has_a_multisig_exchange_spending_through_cosigners() -> None:
    compiled = coincheck()
    central = compiled.address("exchange-overseas-central")
    cosigners, minimum = compiled.multisig[central]
    assert len(cosigners) == 3 and minimum == 2
    spends = [t for t in compiled.txs if t.sender == central]
    assert spends and all(t.built.json["type"] == 4100 and t.inner_hash for t in spends)
    assert all(len(t.built.json["signatures"]) == 1 for t in spends)
    assert all(t.initiator in cosigners for t in spends)


def test_coincheck_price_path() -> None:
    scenario = coincheck().scenario
    path = scenario.price_path
    assert all(isinstance(p, Decimal) and w.tzinfo is not None for w, p in path)
    assert Decimal(115) <= path[0][1] <= Decimal(125)
    assert min(p for _, p in path) < Decimal(80)
    window = (jst("2018-01-26T12:09:00"), jst("2018-01-27T23:00:00"))
    inside = [p for w, p in path if window[0] <= w <= window[1]]
    # Zaif's real half-hours: the crash to 70 JPY and the rebound to 113 within the window
    assert len(inside) == 70 and all(Decimal(70) <= p <= Decimal(113) for p in inside)
    assert scenario.price_candles == "xem_jpy_zaif_30m_2018-01-19_2018-02-09.csv"
    assert scenario.price_trades_per_minute > 0


def test_coincheck_plays_to_the_end_over_http(http: httpx.Client) -> None:
    compiled = coincheck()
    with start_cluster(compiled, nodes=1) as sim:
        sim.advance_to(compiled.scenario.end + timedelta(minutes=5))
        assert sim.chain.rejected == []
        assert len(sim.chain.ledger.by_hash) == len(compiled.txs)
        cold = get(http, sim.urls[0], "/account/get", address=sim.address("exchange-overseas-cold"))["account"]
        assert cold["balance"] == 9_000_000 * MICRO_XEM


# --- scale variants ------------------------------------------------------------------------------


def test_scale_variant_is_deterministic_and_keeps_scheduled_transfers() -> None:
    base = load_scenario("coincheck-2018")
    first = compile_scenario(base.scaled(1_500, 150, seed=7))
    again = compile_scenario(base.scaled(1_500, 150, seed=7))
    other = compile_scenario(base.scaled(1_500, 150, seed=8))
    assert [t.hash for t in first.txs] == [t.hash for t in again.txs]
    assert [t.hash for t in first.txs] != [t.hash for t in other.txs]
    generated = [t for t in first.txs if t.seq >= len(base.transfers)]
    assert 1_400 <= len(generated) <= 1_500
    assert len([a for a in first.labels.values() if a.startswith("gen-")]) == 150
    thief_side = {a for role in (Role.THIEF, Role.SECOND_HOP, Role.INTERMEDIATE, Role.RELAY) for a in first.by_role(role)}
    assert any(t.sender in thief_side for t in generated)  # taint flows into the generated crowd
    assert len(sent(first, "coincheck-hot-wallet")) == 11
    assert all(txhash.verify_signature(t.built.json) for t in generated[:50])


def test_unsigned_fast_keeps_genuine_hashes_but_not_signatures() -> None:
    base = load_scenario("coincheck-2018")
    fast = compile_scenario(base.scaled(300, 40, seed=3, signing="unsigned_fast"))
    generated = [t for t in fast.txs if t.seq >= len(base.transfers)]
    for t in generated:
        assert txhash.transaction_hash(t.built.json) == t.hash
        assert not txhash.verify_signature(t.built.json)
    scheduled = [t for t in fast.txs if t.seq < len(base.transfers)]
    assert all(txhash.verify_signature(t.built.json) for t in scheduled)  # the scenario itself stays signed


def test_cluster_serves_the_scenario_price_api(http: httpx.Client) -> None:
    compiled = coincheck()
    with start_cluster(compiled, nodes=1, market=True) as sim:
        sim.advance_to(jst("2018-01-27T12:00:00"))
        assert sim.market_url is not None and sim.market_url != sim.urls[0]
        ticker = http.get(sim.market_url + "/api/1/ticker/xem_jpy").json()
        assert 80 < ticker["last"] < 100  # inside the compensation window's range of the path
    assert sim.market_url is None  # stopped with the cluster
