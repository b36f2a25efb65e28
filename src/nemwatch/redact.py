"""Masking secrets in URLs and alert sink strings before anything is shown or logged.

Sink URLs carry secrets: passwords in the userinfo, tokens in path segments (Slack, Discord
webhooks), in the host position of some notification URLs (``tgram://BOTTOKEN/...``) and in
query values (``?token=...``). ``redact_url`` masks every such part with ``MASK`` and keeps the
rest readable, so a user can still tell which service a sink points at. It errs on the side of
masking: a harmless long path segment is masked too.

``secret_parts`` lists what ``redact_url`` masks, so that error text from a library (which may
quote the whole URL) can be cleaned with ``scrub`` before it is printed or stored.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MASK = "<secret>"
TOKEN_MIN_LEN = 9  # a piece longer than 8 characters is treated as a possible token
_SECRET_KEY = re.compile(r"token|key|secret|pass|pwd|auth|webhook|sig|credential", re.IGNORECASE)
_WEB_SCHEMES = frozenset({"http", "https"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_IP_OR_LOCAL = re.compile(r"^(localhost|\[[0-9A-Fa-f:.]+\]|\d{1,3}(\.\d{1,3}){3})$")


def is_secret_key(name: str) -> bool:
    """True when a query key or option name looks like it holds a secret (token, apikey, ...)."""
    return bool(_SECRET_KEY.search(name))


def _long(piece: str) -> bool:
    return len(unquote(piece)) >= TOKEN_MIN_LEN


def _split_host_port(hostport: str) -> tuple[str, str]:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end != -1:
            return hostport[: end + 1], hostport[end + 1 :]
    host, colon, port = hostport.rpartition(":")
    if colon and port.isdigit():
        return host, colon + port
    return hostport, ""


def _url_pieces(url: str) -> list[tuple[str, str, bool]]:
    """Split ``url`` into (kind, text, secret) pieces that concatenate back to ``url``."""
    parts = urlsplit(url)
    out: list[tuple[str, str, bool]] = []
    if parts.scheme:
        out.append(("scheme", parts.scheme + ":", False))
    if parts.netloc or url[len(parts.scheme) + 1 :].startswith("//"):
        out.append(("sep", "//", False))
        userinfo, at, hostport = parts.netloc.rpartition("@")
        if at:
            user, colon, password = userinfo.partition(":")
            out.append(("user", user, _long(user)))
            if colon:
                out.append(("sep", ":", False))
                out.append(("password", password, bool(password)))
            out.append(("sep", "@", False))
        host, port = _split_host_port(hostport)
        host_secret = (
            parts.scheme.lower() not in _WEB_SCHEMES
            and "." not in host
            and not _IP_OR_LOCAL.match(host)
            and len(hostport) >= TOKEN_MIN_LEN
        )
        if host_secret:
            out.append(("host", hostport, True))
        else:
            out.append(("host", host, False))
            if port:
                out.append(("port", port, False))
    segments = parts.path.split("/")
    for i, segment in enumerate(segments):
        if i:
            out.append(("sep", "/", False))
        out.append(("path", segment, _long(segment)))
    if "?" in url.split("#", 1)[0]:
        out.append(("sep", "?", False))
        for i, pair in enumerate(parts.query.split("&")):
            if i:
                out.append(("sep", "&", False))
            key, eq, value = pair.partition("=")
            out.append(("qkey", key + eq, False))
            if eq:
                out.append(("qvalue", value, bool(value) and (is_secret_key(unquote(key)) or _long(value))))
    if "#" in url:
        out.append(("sep", "#", False))
        out.append(("fragment", parts.fragment, _long(parts.fragment)))
    return out


def redact_url(url: str) -> str:
    """``url`` with its secrets replaced by ``MASK``; a URL too malformed to split is masked whole.

    Masked: the userinfo password (and a user name longer than 8 characters), path segments and
    query values longer than 8 characters, query values whose key looks like a secret
    (token, key, secret, password, apikey, webhook, ...), and for non-web schemes a host part
    that is not a host name (``tgram://123456:ABC.../``, ``discord://ID/TOKEN``).
    """
    try:
        pieces = _url_pieces(url)
    except ValueError:
        scheme = _SCHEME.match(url)
        return f"{scheme.group(1)}://{MASK}" if scheme else MASK
    return "".join(MASK if secret else text for _kind, text, secret in pieces)


def secret_parts(url: str) -> list[str]:
    """The substrings of ``url`` that ``redact_url`` masks (raw and percent-decoded forms)."""
    try:
        pieces = _url_pieces(url)
    except ValueError:
        return [url]
    found: list[str] = []
    for _kind, text, secret in pieces:
        if secret:
            found.append(text)
            decoded = unquote(text)
            if decoded != text:
                found.append(decoded)
    return found


def _redact_command(cmdline: str) -> str:
    try:
        argv = shlex.split(cmdline)
    except ValueError:
        return MASK
    out: list[str] = []
    mask_next = False
    for arg in argv:
        if mask_next:
            out.append(MASK)
            mask_next = False
        elif "://" in arg:
            out.append(redact_url(arg))
        elif arg.startswith("-") and "=" not in arg and is_secret_key(arg.lstrip("-")):
            out.append(arg)
            mask_next = True
        elif "=" in arg and is_secret_key(arg.split("=", 1)[0]):
            out.append(arg.split("=", 1)[0] + "=" + MASK)
        else:
            out.append(arg)
    return " ".join(out)


def redact_sink(sink: str) -> str:
    """A sink string (``stdout``, ``journal``, ``command:...``, ``webhook+https://...``, an
    apprise URL) safe to show: URLs go through ``redact_url``; a command keeps its program and
    masks option values named like secrets (``--token X``, ``key=X``) and secrets in URL arguments.
    """
    if sink in ("stdout", "journal"):
        return sink
    if sink.startswith("command:"):
        return "command:" + _redact_command(sink[len("command:") :])
    if sink.startswith("webhook+"):
        return "webhook+" + redact_url(sink[len("webhook+") :])
    return redact_url(sink)


def sink_secrets(sink: str) -> list[str]:
    """The secret substrings of a sink string (see ``secret_parts``)."""
    if sink in ("stdout", "journal"):
        return []
    if sink.startswith("command:"):
        try:
            argv = shlex.split(sink[len("command:") :])
        except ValueError:
            return [sink]
        found: list[str] = []
        for prev, arg in zip(["", *argv[:-1]], argv, strict=True):
            if "://" in arg:
                found.extend(secret_parts(arg))
            elif prev.startswith("-") and "=" not in prev and is_secret_key(prev.lstrip("-")):
                found.append(arg)
            elif "=" in arg and is_secret_key(arg.split("=", 1)[0]):
                found.append(arg.split("=", 1)[1])
        return [s for s in found if s]
    if sink.startswith("webhook+"):
        return secret_parts(sink[len("webhook+") :])
    return secret_parts(sink)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``MASK`` (longest first)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def url_secrets(urls: Iterable[str]) -> list[str]:
    """The secrets of plain http(s) URLs (nodes, price APIs): the user name and password, and
    what ``redact_url`` masks (query values named like secrets, long tokens)."""
    found: list[str] = []
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:
            found.append(url)
            continue
        userinfo, at, _host = parts.netloc.rpartition("@")
        if at:  # the password always, the user name when long enough to be a token (as redact_url)
            user, colon, password = userinfo.partition(":")
            found.append(userinfo)
            if colon:
                found.extend((password, unquote(password)))
        found.extend(secret_parts(url))
    return [s for s in dict.fromkeys(found) if s]
