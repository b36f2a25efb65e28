"""Message flags: adverts (.onion, URLs, discounts), other chains' addresses, NEM addresses that
are not a party of the transfer, deposit tags; bounded and safe on hostile text."""

from __future__ import annotations

import hashlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nemwatch.core.models import Message, MessageType, Network
from nemwatch.core.nem.address import pretty
from nemwatch.core.taint.chainaddr import Chain, base58_chain, bech32_valid
from nemwatch.core.taint.messages import (
    MAX_FLAGS,
    MAX_FRAGMENT,
    FlagKind,
    deposit_tag,
    flag_text,
    flag_transfer,
    readable_text,
    touches,
)
from taintkit import make_transfer, scenario_transfers

THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check(version: int, body: bytes) -> str:
    raw = bytes([version]) + body
    raw += hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def kinds(text: str, **kw: object) -> set[FlagKind]:
    return set(flag_text(text, **kw).kinds)  # type: ignore[arg-type]


# --- the coincheck-2018 scenario's messages --------------------------------------------------------


def test_coincheck_2018_messages_are_flagged_as_the_case_requires() -> None:
    reports = {t.identity: (t, flag_transfer(t)) for t in scenario_transfers() if t.message is not None}
    adverts = [(t, r) for t, r in reports.values() if ".onion" in t.message.text]  # type: ignore[union-attr]
    assert len(adverts) == 12
    for t, r in adverts:
        assert t.sender == "thief-nc4" and r is not None
        assert r.kinds == {FlagKind.ONION, FlagKind.DISCOUNT}
        assert [f.fragment for f in r.flags] == ["http://examplexemshop22.onion", "15%off"]
    btc = next(r for t, r in reports.values() if "Pay BTC" in t.message.text)  # type: ignore[union-attr]
    assert btc is not None and btc.kinds == {FlagKind.DISCOUNT, FlagKind.BTC_ADDRESS}
    (addr,) = [f for f in btc.flags if f.kind is FlagKind.BTC_ADDRESS]
    assert (addr.fragment, addr.detail) == ("1KA9TKeyJTKy9YTjXfpWRQHu9wqbXp3cjN", "checksum ok")
    ltc = next(r for t, r in reports.values() if t.message.text.startswith("LTC OK"))  # type: ignore[union-attr]
    assert ltc is not None and ltc.kinds == {FlagKind.LTC_ADDRESS, FlagKind.DISCOUNT}
    assert [f.fragment for f in ltc.flags if f.kind is FlagKind.LTC_ADDRESS] == ["LXSHTq6EGyigAwGBGKv3wpz5PzAXWNJ6nB"]
    deposits = [(t, r) for t, r in reports.values() if t.sender.startswith("relay-")]
    assert len(deposits) == 36
    for t, r in deposits:
        assert r is not None and r.kinds == {FlagKind.DEPOSIT_TAG}
        assert r.deposit_tag == t.message.text  # type: ignore[union-attr]
        expected = "numeric" if t.recipient == "exchange-jp-central" else "hex"
        assert r.flags[0].detail == expected
    flagged = {i for i, (_, r) in reports.items() if r is not None and r.flags}
    assert len(flagged) == 12 + 2 + 36  # bystanders' pleas and the exchange's sweeps raise nothing
    hostile = next(r for t, r in reports.values() if t.sender == "bystander-7")
    assert hostile is not None and hostile.flags == ()
    assert "\x1b" not in hostile.text and "\u202e" not in hostile.text and "\x07" not in hostile.text


# --- each kind of flag -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("NEM 15%off now", "15%off"), ("15%OFF!", "15%OFF"), ("今なら15%オフ", "15%オフ"), ("１５％ＯＦＦ", "15%OFF"),
     ("20 % off", "20 % off"), ("2割引で販売", "2割引"), ("discount 30%", "discount 30%"), ("10パーセントオフ", "10パーセントオフ")],
)
def test_discount_adverts_in_english_and_japanese(text: str, fragment: str) -> None:
    report = flag_text(text)
    assert [(f.kind, f.fragment) for f in report.flags] == [(FlagKind.DISCOUNT, fragment)]


@pytest.mark.parametrize(
    ("text", "kind", "fragment"),
    [("see https://nem-sale.example.com/buy?x=1.", FlagKind.URL, "https://nem-sale.example.com/buy?x=1"),
     ("go www.xem-shop.net/a", FlagKind.URL, "www.xem-shop.net/a"),
     ("visit cheapxem.io today", FlagKind.URL, "cheapxem.io"),
     ("tor: abcdefghij234567.onion", FlagKind.ONION, "abcdefghij234567.onion"),
     ("http://user@x2.onion:8080/shop", FlagKind.ONION, "http://user@x2.onion:8080/shop")],
)
def test_links(text: str, kind: FlagKind, fragment: str) -> None:
    report = flag_text(text)
    assert [(f.kind, f.fragment) for f in report.flags] == [(kind, fragment)]


def test_plain_words_and_emails_are_not_links() -> None:
    assert flag_text("Please return the NEM. We are watching.").flags == ()
    assert kinds("mail me at someone@example.com") == set()


def test_other_chain_addresses_with_checksums() -> None:
    body = hashlib.sha256(b"x").digest()[:20]
    dash, ltc_m, btc_p2sh = base58check(0x4C, body), base58check(0x32, body), base58check(0x05, body)
    assert base58_chain(dash) == (Chain.DASH, True) and base58_chain(ltc_m) == (Chain.LTC, True)
    assert base58_chain(btc_p2sh) == (Chain.BTC, True)
    report = flag_text(f"pay {dash} or {ltc_m} or {btc_p2sh}")
    assert [(f.kind, f.detail) for f in report.flags] == [
        (FlagKind.DASH_ADDRESS, "checksum ok"), (FlagKind.LTC_ADDRESS, "checksum ok"), (FlagKind.BTC_ADDRESS, "checksum ok")]
    typo = dash[:-1] + ("a" if dash[-1] != "a" else "b")
    (flag,) = flag_text(f"pay {typo}").flags
    assert (flag.kind, flag.detail) == (FlagKind.DASH_ADDRESS, "checksum does not verify")
    assert flag_text("order 1234567891234567891234567 items").flags == ()  # a number, not an address
    eth = "0x52908400098527886E0F7030069857D2E4169EE7"
    assert [(f.kind, f.fragment) for f in flag_text(f"eth: {eth}").flags] == [(FlagKind.ETH_ADDRESS, eth)]


def test_bech32_addresses() -> None:
    assert bech32_valid("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4")
    assert not bech32_valid("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5")
    assert not bech32_valid("bc1Qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")  # mixed case
    (flag,) = flag_text("send to bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 please").flags
    assert (flag.kind, flag.detail) == (FlagKind.BTC_ADDRESS, "bech32, checksum ok")


def test_nem_address_in_text_that_is_not_a_party_is_flagged_in_any_spelling() -> None:
    assert flag_text(f"refund to {THIEF}", parties=[THIEF, HOT]).flags == ()  # names the real counterparty
    for spelled in (HOT, pretty(HOT), pretty(HOT).lower()):
        (flag,) = flag_text(f"send the rest to {spelled}.", parties=[THIEF, "NA6JSWNF24Y7DVIUVPKRNAY7TPOFJJ7G2URL7KU5"]).flags
        assert flag.kind is FlagKind.NEM_ADDRESS_MISMATCH and flag.fragment == spelled
        assert flag.detail == f"{HOT} is not a party of this transfer"
    lookalike = HOT[:-1] + "A"
    (flag,) = flag_text(f"deposit to {lookalike}", parties=[THIEF]).flags
    assert "checksum does not match" in flag.detail
    (flag,) = flag_text("TAMESPACEWH4MKFMBCVFERDPOOP4FK7MTDJEYP35", parties=[THIEF]).flags
    assert "testnet address used on mainnet" in flag.detail
    assert flag_text("TAMESPACEWH4MKFMBCVFERDPOOP4FK7MTDJEYP35", network=Network.TESTNET).flags[0].detail.endswith("transfer")
    assert flag_text("The whole world is watching NC4C6P.", parties=[]).flags == ()


@pytest.mark.parametrize(
    ("text", "tag"),
    [("306484590", "306484590"), (" f8103849 ", "f8103849"), ("0EEFA60C", "0EEFA60C"), ("memo: 12345", "12345"),
     ("UID 8f3a21", "8f3a21"), ("destination tag #778899", "778899"), ("１２３４５６", "123456")],
)
def test_deposit_tags(text: str, tag: str) -> None:
    assert deposit_tag(text) == tag
    report = flag_text(text)
    assert report.deposit_tag == tag and report.kinds == {FlagKind.DEPOSIT_TAG}


@pytest.mark.parametrize("text", ["sweep 1", "deadbeef", "123", "12345678901234567890", "hello 306484590", "返して", ""])
def test_not_deposit_tags(text: str) -> None:
    assert deposit_tag(text) is None


def test_encrypted_hex_and_missing_messages() -> None:
    plain = make_transfer("a", "b", message="15%off")
    assert flag_transfer(plain).kinds == {FlagKind.DISCOUNT}  # type: ignore[union-attr]
    assert flag_transfer(make_transfer("a", "b")) is None
    enc = Message(MessageType.ENCRYPTED, b"\x01\x02", "")
    assert readable_text(enc) is None
    hex_text = Message(MessageType.HEX, b"\xfe" + "12345678".encode(), "3132333435363738")
    assert readable_text(hex_text) == "12345678"
    hex_binary = Message(MessageType.HEX, b"\xfe\xff\x00\xab\xcd", "ff00abcd")
    assert readable_text(hex_binary) == "ff00abcd"
    assert touches(plain, {"b"}) and not touches(plain, {"c"})


# --- hostile input ---------------------------------------------------------------------------------

ADVERSARIAL = [
    "a" * 5000, "1" * 3000, "N" + "A-" * 3000, "http://" + "a" * 5000, "www." + "a." * 3000, "1%" * 3000,
    "0x" + "f" * 5000, "a.onion." * 1000, "\x1b]" * 3000, "a-" * 4000 + ".com", "1" + "A1b" * 2000,
    "bc1" + "q" * 5000, "99 % " * 2000, ("x" * 62 + ".") * 100 + "onion", "NAAAAA-" * 1000, "１" * 5000,
    "\ufdfa" * 3000, "\u202e" * 2000 + "15%off", ("15%off http://a.onion 1KA9TKeyJTKy9YTjXfpWRQHu9wqbXp3cjN " * 40),
]


@pytest.mark.parametrize("payload", ADVERSARIAL, ids=[f"adv{i}" for i in range(len(ADVERSARIAL))])
def test_adversarial_payloads_stay_bounded(payload: str) -> None:
    assert len(payload) >= 1024
    start = time.perf_counter()
    report = flag_text(payload, parties=[THIEF])
    elapsed = time.perf_counter() - start
    assert elapsed < 0.25, f"{elapsed:.3f}s"
    assert len(report.flags) <= MAX_FLAGS
    assert all(len(f.fragment) <= MAX_FRAGMENT for f in report.flags)
    assert len(report.text) <= 2048 and "\x1b" not in report.text and "\u202e" not in report.text


def test_repeats_collapse_and_the_cap_keeps_every_kind() -> None:
    repeated = flag_text("15%off http://a.onion 1KA9TKeyJTKy9YTjXfpWRQHu9wqbXp3cjN " * 40)
    assert repeated.truncated and len(repeated.flags) == 3
    assert repeated.kinds == {FlagKind.ONION, FlagKind.DISCOUNT, FlagKind.BTC_ADDRESS}
    many = flag_text("".join(f"http://shop{i}.onion {i}%off " for i in range(60)))
    assert len(many.flags) == MAX_FLAGS
    counts = {k: sum(f.kind is k for f in many.flags) for k in many.kinds}
    assert counts == {FlagKind.ONION: MAX_FLAGS // 2, FlagKind.DISCOUNT: MAX_FLAGS // 2}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000), st.lists(st.sampled_from([THIEF, HOT, "", "x"]), max_size=3))
def test_flagger_never_raises_and_stays_bounded(text: str, parties: list[str]) -> None:
    start = time.perf_counter()
    report = flag_text(text, parties=parties)
    assert time.perf_counter() - start < 0.25
    assert len(report.flags) <= MAX_FLAGS and len(report.text) <= 2048
    for flag in report.flags:
        assert isinstance(flag.kind, FlagKind) and 0 < len(flag.fragment) <= MAX_FRAGMENT
        assert not any(ch in flag.fragment for ch in "\x1b\x07\u202e\u200b\n")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("NTA27-.:/%offwww1bcLMX0x onion割引オフ")), max_size=2500))
def test_flagger_on_pattern_alphabet_never_raises(text: str) -> None:
    start = time.perf_counter()
    flag_text(text, parties=[THIEF])
    assert time.perf_counter() - start < 0.25
