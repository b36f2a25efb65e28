"""Flags on transfer messages: darkweb adverts, other chains' addresses, spoofed NEM addresses,
exchange deposit tags.

Messages are written by attackers. ``flag_text`` therefore works on a bounded, sanitized copy
(at most ``MAX_RAW_CHARS`` read, ``MAX_SCAN_CHARS`` scanned, after ``core.text.sanitize`` and
NFKC so that full-width ``１５％ＯＦＦ`` reads as ``15%OFF``), with regexes whose every
repetition is bounded or deterministic (no nested unbounded quantifiers, so no catastrophic
backtracking), and returns each flag with the matched fragment, itself sanitized and short.

Which transfers to scan is the caller's choice: those that touch a tainted or watched account
(``touches``). Wiring, once the taint rules exist::

    report = flag_transfer(transfer, network)           # None: no readable message
    if report and report.flags and touches(transfer, tainted | watched):
        ...  # one message_flag alert carrying report.flags; report.deposit_tag feeds taint_exchange
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import Enum

from nemwatch.core.models import Message, MessageType, Network, Transfer
from nemwatch.core.nem.address import AddressError, network_of, normalize, validate
from nemwatch.core.taint.chainaddr import Chain, base58_chain, bech32_chain
from nemwatch.core.text import sanitize

MAX_RAW_CHARS = 8192  # NIS caps a message at 1024 bytes; anything longer is cut before any work
MAX_SCAN_CHARS = 2048
MAX_FRAGMENT = 120
MAX_FLAGS = 32


class FlagKind(str, Enum):
    ONION = "onion"
    URL = "url"
    DISCOUNT = "discount"
    BTC_ADDRESS = "btc_address"
    LTC_ADDRESS = "ltc_address"
    DASH_ADDRESS = "dash_address"
    ETH_ADDRESS = "eth_address"
    NEM_ADDRESS_MISMATCH = "nem_address_mismatch"
    DEPOSIT_TAG = "deposit_tag"


_CHAIN_KIND = {Chain.BTC: FlagKind.BTC_ADDRESS, Chain.LTC: FlagKind.LTC_ADDRESS, Chain.DASH: FlagKind.DASH_ADDRESS}


@dataclass(frozen=True, slots=True)
class MessageFlag:
    """One finding: ``fragment`` is the matched text (sanitized, at most 120 characters);
    ``detail`` says more where useful (``checksum ok``, ``not a party of this transfer``...)."""

    kind: FlagKind
    fragment: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class MessageReport:
    """The flags of one message. ``text`` is the sanitized message as scanned; ``truncated``
    says the message was longer than what was scanned."""

    text: str
    flags: tuple[MessageFlag, ...]
    truncated: bool = False

    @property
    def kinds(self) -> frozenset[FlagKind]:
        return frozenset(f.kind for f in self.flags)

    @property
    def deposit_tag(self) -> str | None:
        return next((f.fragment for f in self.flags if f.kind is FlagKind.DEPOSIT_TAG), None)


_URL = re.compile(r"(?i)(?<![\w.+-])(?:https?|ftp|wss?)://[^\s<>\"'()\[\]{}]{1,256}")
_ONION = re.compile(r"(?i)(?<![\w.-])[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9][a-z0-9-]{0,62}){0,3}\.onion(?![\w-])")
_WWW = re.compile(r"(?i)(?<![\w.-])www\.[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,4}(?:/[^\s<>\"']{0,200})?")
_TLDS = (
    "com|net|org|io|jp|co|info|biz|xyz|top|ru|cn|me|to|cc|shop|site|online|app|dev|link|club|vip|pro|"
    "exchange|market|su|ws|pw|tk|ly|gg|is"
)
_DOMAIN = re.compile(
    rf"(?i)(?<![\w.@/-])[a-z0-9][a-z0-9-]{{0,62}}(?:\.[a-z0-9][a-z0-9-]{{0,62}}){{0,3}}\.(?:{_TLDS})(?![\w-])"
    r"(?:/[^\s<>\"']{0,200})?"
)
_DISCOUNT = re.compile(
    r"(?i)\d{1,3}(?:\.\d{1,2})?[ \t]{0,3}(?:%|percent|パーセント)[ \t]{0,3}(?:off|オフ|引き|引|割引|discount)"
    r"|\d{1,2}[ \t]{0,2}割[ \t]{0,2}(?:引き|引|オフ|off|安)"
    r"|(?:discount|割引|値引き|値引)[ \t]{0,3}(?:of[ \t]{1,3})?\d{1,3}[ \t]{0,2}%"
)
_BASE58 = re.compile(r"(?<![A-Za-z0-9])[13LMX7][1-9A-HJ-NP-Za-km-z]{25,34}(?![A-Za-z0-9])")
_BECH32 = re.compile(r"(?i)(?<![a-z0-9])(?:bc1|ltc1)[02-9ac-hj-np-z]{8,87}(?![a-z0-9])")
_ETH = re.compile(r"(?<![A-Za-z0-9])0x[0-9a-fA-F]{40}(?![0-9A-Za-z])")
# plain (40 characters) or in the dashed display form (groups of 6: NC4C6P-SUW5CL-...-77OG)
_NEM = re.compile(r"(?<![A-Za-z0-9-])[NTnt][A-Za-z2-7]{5}(?:-?[A-Za-z2-7]{6}){5}-?[A-Za-z2-7]{4}(?![A-Za-z0-9])")
_TAG_NUMERIC = re.compile(r"\d{4,12}")
_TAG_HEX = re.compile(r"(?i)(?=[0-9a-f]{0,15}[0-9])(?=[0-9a-f]{0,15}[a-f])[0-9a-f]{6,16}")
_TAG_LABELLED = re.compile(
    r"(?i)(?:tag|memo|uid|id|user[ _-]?id|deposit[ _-]?(?:id|tag)|dest(?:ination)?[ _-]?tag)"
    r"[ \t]{0,3}[:#=]?[ \t]{0,3}([0-9a-z]{3,16})"
)
_TRAILING = ".,;:!?)]}>'\""


def _fragment(text: str) -> str:
    return sanitize(text, max_len=MAX_FRAGMENT)


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _links(text: str) -> list[MessageFlag]:
    flags: list[MessageFlag] = []
    taken: list[tuple[int, int]] = []
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        taken.append((m.start(), m.start() + len(url)))
        onion = _host(url).lower().endswith(".onion")
        flags.append(MessageFlag(FlagKind.ONION if onion else FlagKind.URL, _fragment(url), "Tor hidden service" if onion else ""))
    for pattern, kind in ((_ONION, FlagKind.ONION), (_WWW, FlagKind.URL), (_DOMAIN, FlagKind.URL)):
        for m in pattern.finditer(text):
            if _overlaps(m.span(), taken):
                continue
            found = m.group(0).rstrip(_TRAILING)
            taken.append((m.start(), m.start() + len(found)))
            flags.append(MessageFlag(kind, _fragment(found), "Tor hidden service" if kind is FlagKind.ONION else ""))
    return flags


def _other_chains(text: str) -> list[MessageFlag]:
    flags: list[MessageFlag] = []
    for m in _BASE58.finditer(text):
        found = base58_chain(m.group(0))
        if found is not None:
            chain, ok = found
            flags.append(MessageFlag(_CHAIN_KIND[chain], m.group(0), "checksum ok" if ok else "checksum does not verify"))
    for m in _BECH32.finditer(text):
        found = bech32_chain(m.group(0))
        if found is not None:
            chain, ok = found
            flags.append(MessageFlag(_CHAIN_KIND[chain], m.group(0), "bech32, checksum ok" if ok else "bech32, checksum does not verify"))
    for m in _ETH.finditer(text):
        flags.append(MessageFlag(FlagKind.ETH_ADDRESS, m.group(0)))
    return flags


def _nem_addresses(text: str, parties: Collection[str], network: Network) -> list[MessageFlag]:
    flags: list[MessageFlag] = []
    for m in _NEM.finditer(text):
        address = normalize(m.group(0))
        found = network_of(address)
        if found is None:
            continue  # a 40-letter word, not an address
        if address in parties:
            continue
        try:
            validate(address, network)
            detail = f"{address} is not a party of this transfer"
        except AddressError as err:
            detail = f"{address} is not a party of this transfer; {err}"
        flags.append(MessageFlag(FlagKind.NEM_ADDRESS_MISMATCH, _fragment(m.group(0)), detail))
    return flags


def deposit_tag(text: str) -> str | None:
    """The exchange-style deposit tag a whole message is, or None.

    A tag is the entire (trimmed) message: 4-12 digits (``306484590``), 6-16 hex digits with at
    least one letter and one digit (``f8103849``), or a labelled id (``memo: 12345``,
    ``UID 8f3a21``). Sentences never are.
    """
    body = unicodedata.normalize("NFKC", sanitize(text[:64], max_len=64)).strip()
    if not body or len(body) > 40:
        return None
    if _TAG_NUMERIC.fullmatch(body) or _TAG_HEX.fullmatch(body):
        return body
    labelled = _TAG_LABELLED.fullmatch(body)
    if labelled and any(c.isdigit() for c in labelled.group(1)):
        return labelled.group(1)
    return None


def _tag_kind(tag: str) -> str:
    if tag.isdigit():
        return "numeric"
    return "hex" if _TAG_HEX.fullmatch(tag) else "labelled"


def _capped(flags: list[MessageFlag]) -> tuple[MessageFlag, ...]:
    """Repeats dropped; over ``MAX_FLAGS``, taken in turn from each kind so none is crowded out."""
    unique = list(dict.fromkeys(flags))
    if len(unique) <= MAX_FLAGS:
        return tuple(unique)
    by_kind: dict[FlagKind, list[MessageFlag]] = {}
    for f in unique:
        by_kind.setdefault(f.kind, []).append(f)
    kept: set[MessageFlag] = set()
    queues = [iter(v) for v in by_kind.values()]
    while len(kept) < MAX_FLAGS:
        for q in queues:
            f = next(q, None)
            if f is not None and len(kept) < MAX_FLAGS:
                kept.add(f)
    return tuple(f for f in unique if f in kept)


def flag_text(text: str, *, parties: Iterable[str] = (), network: Network = Network.MAINNET) -> MessageReport:
    """Flag a message's text. ``parties`` are the transfer's sender and recipient (normalized):
    a NEM address in the text that is neither is flagged as a mismatch (possible spoofing).

    Never raises on any ``str``; work is bounded by ``MAX_RAW_CHARS``/``MAX_SCAN_CHARS``.
    """
    raw = text[:MAX_RAW_CHARS]
    clean = sanitize(raw, max_len=MAX_SCAN_CHARS + 1)
    scan = unicodedata.normalize("NFKC", clean)[:MAX_SCAN_CHARS]
    truncated = len(text) > MAX_RAW_CHARS or len(clean) > MAX_SCAN_CHARS
    if truncated:  # do not read a word cut in half (half an address) as a whole one
        cut = scan.rfind(" ", MAX_SCAN_CHARS - 128)
        scan = scan[:cut] if cut > 0 else scan
    party_set = frozenset(normalize(p) for p in parties)
    flags: list[MessageFlag] = []
    tag = deposit_tag(scan) if not truncated else None
    if tag is not None:
        flags.append(MessageFlag(FlagKind.DEPOSIT_TAG, tag, _tag_kind(tag)))
    else:
        flags += _links(scan)
        flags += (MessageFlag(FlagKind.DISCOUNT, _fragment(m.group(0))) for m in _DISCOUNT.finditer(scan))
        flags += _other_chains(scan)
        flags += _nem_addresses(scan, party_set, network)
    return MessageReport(text=sanitize(clean, max_len=MAX_SCAN_CHARS), flags=_capped(flags), truncated=truncated)


def readable_text(message: Message | None) -> str | None:
    """The text of a plain message, or of a hex message whose bytes are UTF-8; None otherwise
    (absent, encrypted, or binary)."""
    if message is None or message.type is MessageType.ENCRYPTED:
        return None
    if message.type is MessageType.HEX:
        payload = message.payload[1:] if message.payload[:1] == b"\xfe" else message.payload
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return message.text  # binary: scan the hex itself (a hex deposit tag, say)
    return message.text


def flag_transfer(transfer: Transfer, network: Network = Network.MAINNET) -> MessageReport | None:
    """Flag ``transfer``'s message against its own sender and recipient; None when there is no
    readable message."""
    text = readable_text(transfer.message)
    if not text:
        return None
    return flag_text(text, parties=(transfer.sender, transfer.recipient), network=network)


def touches(transfer: Transfer, accounts: Collection[str]) -> bool:
    """True when the transfer's sender or recipient is among ``accounts`` (tainted or watched)."""
    return transfer.sender in accounts or transfer.recipient in accounts
