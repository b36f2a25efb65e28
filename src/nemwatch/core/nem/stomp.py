"""STOMP over SockJS as NIS1's websocket speaks it: pure encoding and decoding, no I/O.

NIS (port 7778, ``/w/messages``) runs Spring's STOMP broker behind SockJS. Over a raw
websocket session (``/w/messages/{3 digits}/{session}/websocket``) the server sends text
frames ``o`` (open), ``h`` (heartbeat, every 25 s), ``a["...", ...]`` (a JSON array of STOMP
frames) and ``c[code,"reason"]`` (close); the client sends a JSON array of STOMP frames, of
which NIS decodes only element 0, so one STOMP frame per websocket message.

A STOMP frame is ``COMMAND\\n`` + ``name:value\\n`` headers + ``\\n`` + body + NUL. Everything
the server sends is hostile: decoding never raises anything but ``StompError`` and caps the
number and size of headers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MAX_HEADERS = 32
MAX_HEADER_CHARS = 1024

_ESCAPES = {"\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\c": ":"}


class StompError(ValueError):
    """A SockJS or STOMP frame nemwatch cannot read; the text never echoes the frame."""


@dataclass(frozen=True, slots=True)
class StompFrame:
    command: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass(frozen=True, slots=True)
class SockJsFrame:
    """One websocket text message from a SockJS server: its kind and, for ``a``, the frames."""

    kind: str  # "open" | "heartbeat" | "messages" | "close"
    messages: tuple[str, ...] = ()
    close_code: int | None = None


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace(":", "\\c")


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        pair = value[i : i + 2]
        if value[i] == "\\":
            if pair not in _ESCAPES:
                raise StompError("invalid escape in a STOMP header")
            out.append(_ESCAPES[pair])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def encode_frame(command: str, headers: dict[str, str] | None = None, body: str = "") -> str:
    """A STOMP frame as text (CONNECT's headers are not escaped, as STOMP 1.2 says)."""
    lines = [command]
    for name, value in (headers or {}).items():
        lines.append(f"{name}:{value}" if command == "CONNECT" else f"{_escape(name)}:{_escape(value)}")
    return "\n".join(lines) + "\n\n" + body + "\x00"


def decode_frame(text: str) -> StompFrame:
    """One STOMP frame (a server may put a newline before it: a STOMP heartbeat)."""
    text = text.lstrip("\r\n")
    if not text:
        raise StompError("empty STOMP frame")
    head, sep, rest = text.partition("\n\n")
    if not sep:
        raise StompError("STOMP frame without a blank line after its headers")
    lines = head.replace("\r\n", "\n").split("\n")
    command = lines[0]
    if not command.isascii() or not command.isalpha() or not command.isupper() or len(command) > 16:
        raise StompError("not a STOMP command")
    if len(lines) - 1 > MAX_HEADERS:
        raise StompError("too many STOMP headers")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if len(line) > MAX_HEADER_CHARS:
            raise StompError("STOMP header too long")
        name, colon, value = line.partition(":")
        if not colon:
            raise StompError("STOMP header without a colon")
        headers.setdefault(_unescape(name), _unescape(value))  # the first of a repeated header counts
    body = rest
    if "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise StompError("content-length is not a number") from None
        encoded = body.encode("utf-8", "surrogatepass")
        if length < 0 or length + 1 > len(encoded) or encoded[length : length + 1] != b"\x00":
            raise StompError("content-length does not match the body")
        body = encoded[:length].decode("utf-8", "replace")
    else:
        end = body.find("\x00")
        if end < 0:
            raise StompError("STOMP frame without its NUL end")
        body = body[:end]
    return StompFrame(command, headers, body)


def sockjs_send(frame: str) -> str:
    """What a client sends for one STOMP frame: a JSON array of one string."""
    return json.dumps([frame])


def sockjs_decode(text: str) -> SockJsFrame:
    """One websocket text message from a SockJS server."""
    if text == "o":
        return SockJsFrame("open")
    if text == "h":
        return SockJsFrame("heartbeat")
    if text.startswith("c"):
        return SockJsFrame("close", close_code=_close_code(text[1:]))
    if text.startswith("a"):
        try:
            value = json.loads(text[1:])
        except (ValueError, RecursionError):
            raise StompError("SockJS message array is not JSON") from None
        if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
            raise StompError("SockJS message array is not an array of strings")
        return SockJsFrame("messages", tuple(value))
    raise StompError("unknown SockJS frame")


def _close_code(payload: str) -> int | None:
    """The code of a SockJS close frame's ``[code, "reason"]``, None when it has none."""
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    return value[0] if isinstance(value, list) and value and type(value[0]) is int else None


def sockjs_messages(messages: list[str] | tuple[str, ...]) -> str:
    """What a SockJS server sends for some STOMP frames: ``a`` and a JSON array."""
    return "a" + json.dumps(list(messages), separators=(",", ":"))


__all__ = [
    "SockJsFrame",
    "StompError",
    "StompFrame",
    "decode_frame",
    "encode_frame",
    "sockjs_decode",
    "sockjs_messages",
    "sockjs_send",
]
