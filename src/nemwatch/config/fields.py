"""Field types shared by the config sections: addresses, XEM amounts, URLs, datetimes, mosaic ids.

Validators raise ``ValueError`` with a short reason that never repeats the offending value, so
an error about a sink URL cannot print the token inside it. A validator that checks several
fields at once raises ``FieldProblem`` to say which one is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
)

from nemwatch.core.models import MICRO_XEM, Network
from nemwatch.core.nem.address import AddressError, network_of, normalize, validate
from nemwatch.core.text import sanitize

MODEL_CONFIG = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

MAX_XEM_SUPPLY = 8_999_999_999
Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """('watch', 2, 'address') -> 'watch[2].address'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class FieldProblem(ValueError):
    """A problem with one field, found by a validator that looks at several.

    ``loc`` is relative to the object the validator checks.
    """

    def __init__(self, loc: Loc, problem: str) -> None:
        super().__init__(f"{format_loc(loc)}: {problem}" if loc else problem)
        self.loc = loc
        self.problem = problem


def reject_repeats(
    items: Sequence[Any], key: Callable[[Any], Hashable], message: str, field: str | None = None
) -> None:
    """Raise ``FieldProblem`` at the first item whose ``key(item)`` repeats an earlier one.

    ``message`` gets the earlier index through ``str.format``.
    """
    seen: dict[Hashable, int] = {}
    for i, item in enumerate(items):
        k = key(item)
        if k in seen:
            raise FieldProblem((i, field) if field else (i,), message.format(seen[k]))
        seen[k] = i


def type_name(value: object) -> str:
    """How TOML calls the type of a parsed value: 'a string', 'an integer', 'a table', ..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float | Decimal):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, datetime):
        return "a datetime"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


# --- addresses ------------------------------------------------------------------------------


def _address(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an address string, got {type_name(value)}")
    network = (info.context or {}).get("network")
    if not isinstance(network, Network):
        # No network given: check the address against its own network; Config checks that
        # every address matches [network] name.
        network = network_of(normalize(value)) or Network.MAINNET
    try:
        return validate(value, network)
    except AddressError as err:
        raise ValueError(str(err)) from None


Address = Annotated[str, BeforeValidator(_address)]
"""A NEM address: dashed or lowercase accepted, stored normalized (40 uppercase characters)."""


# --- XEM amounts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class XemAmount:
    """Marks a field written in XEM in the file and held in micro-XEM in the model."""


def xem_to_micro(value: Any) -> int:
    """A decimal XEM amount (int, Decimal, float or numeric string) to exact micro-XEM."""
    if isinstance(value, bool):
        raise ValueError("expected an amount of XEM (a number), got a boolean")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            raise ValueError('expected an amount of XEM such as 1000 or "0.5"') from None
    else:
        raise ValueError(f"expected an amount of XEM (a number), got {type_name(value)}")
    if not amount.is_finite():
        raise ValueError("amount of XEM must be a finite number")
    if amount < 0:
        raise ValueError("amount of XEM must not be negative")
    if amount > MAX_XEM_SUPPLY:
        raise ValueError(f"amount is more than all the XEM there is ({MAX_XEM_SUPPLY:,})")
    micro = amount * MICRO_XEM
    if micro != micro.to_integral_value():
        raise ValueError("amount of XEM has more than 6 decimal places")
    return int(micro)


def micro_to_xem(micro: int) -> int | Decimal:
    """Micro-XEM back to XEM, exactly: an int when whole, else a Decimal."""
    whole, frac = divmod(micro, MICRO_XEM)
    if frac == 0:
        return whole
    return (Decimal(micro) / MICRO_XEM).normalize()


MicroXem = Annotated[int, BeforeValidator(xem_to_micro), XemAmount()]
"""Written in XEM (``1000``, ``0.5``, ``"0.000001"``), held as an int of micro-XEM."""


# --- numbers --------------------------------------------------------------------------------


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"expected a number, got {type_name(value)}")
    return float(value)


Seconds = Annotated[float, BeforeValidator(_number), Field(gt=0)]
"""A positive duration in seconds (int or float in the file)."""

Count = Annotated[StrictInt, Field(ge=0)]
PositiveInt = Annotated[StrictInt, Field(gt=0)]
Flag = StrictBool


def _percent(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError(f"expected a number, got {type_name(value)}")
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


DecimalNumber = Annotated[Decimal, BeforeValidator(_percent), Field(allow_inf_nan=False)]


# --- text -----------------------------------------------------------------------------------


def _text(value: Any) -> Any:
    # Printable ASCII is what sanitize keeps unchanged: skip its per-character walk (10,000
    # labels in a config).
    if isinstance(value, str) and value.isascii() and value.isprintable():
        return value
    if isinstance(value, str) and sanitize(value, max_len=len(value) + 1) != value:
        raise ValueError("text must be one line without control or invisible characters")
    return value


Text = Annotated[StrictStr, BeforeValidator(_text), Field(max_length=200)]
"""A short label written by the user: one line, printable."""


# --- datetimes ------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def _aware_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetime needs a UTC offset, e.g. 2018-01-26T00:02:13+09:00")
        return value
    if isinstance(value, date):
        raise ValueError("expected a date and time with an offset, e.g. 2018-01-26T00:02:13+09:00")
    if not isinstance(value, str):
        raise ValueError(f"expected an RFC 3339 datetime, got {type_name(value)}")
    text = value.strip()
    if not _RFC3339.match(text):
        raise ValueError("not an RFC 3339 datetime with offset, e.g. 2018-01-26T00:02:13+09:00")
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError("not a valid date or time (month, day, hour or offset out of range)") from None


AwareDatetime = Annotated[datetime, BeforeValidator(_aware_datetime)]
"""An RFC 3339 datetime with a UTC offset (a TOML datetime or a string)."""


# --- mosaic ids -----------------------------------------------------------------------------

_NS_PART = re.compile(r"^[a-z0-9][a-z0-9'_-]*$")
_MOSAIC_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9 '_-]*$")


def _mosaic_id(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a mosaic id string, got {type_name(value)}")
    namespace, colon, name = value.strip().partition(":")
    if not colon:
        raise ValueError("mosaic id must be namespace:name, e.g. ts:warning_dont_accept_stolen_funds")
    parts = namespace.split(".")
    if len(parts) > 3:
        raise ValueError("mosaic namespace has more than 3 levels")
    for level, part in enumerate(parts):
        if not _NS_PART.match(part) or len(part) > (16 if level == 0 else 64):
            raise ValueError(
                "mosaic namespace parts are lowercase letters, digits, ' _ - "
                "(root up to 16 characters, sub-levels up to 64)"
            )
    if not _MOSAIC_NAME.match(name) or len(name) > 32:
        raise ValueError(
            "mosaic name is up to 32 letters, digits, spaces, ' _ - (starting with a letter or digit)"
        )
    return f"{namespace}:{name}"


MosaicId = Annotated[str, BeforeValidator(_mosaic_id)]
"""A mosaic id ``namespace:name`` (namespace up to 3 dot-separated levels)."""


# --- URLs -----------------------------------------------------------------------------------


def check_http_url(
    value: Any, what: str, *, need_port: bool = False, allow_path: bool = True, allow_secrets: bool = False,
    allow_userinfo: bool = False,
) -> str:
    """Validate an http(s) URL and return it with scheme and host lowercased, no trailing '/'.

    Error messages never repeat the URL (it may hold a secret). ``allow_secrets`` admits what
    webhooks and nodes behind an authenticating proxy use: a user name and password, and a
    query (``?token=...``); ``allow_userinfo`` the user name and password only. Both are kept
    in the URL returned (everything that shows it masks them: ``nemwatch.redact``).
    """
    allow_userinfo = allow_userinfo or allow_secrets
    if not isinstance(value, str):
        raise ValueError(f"expected a {what} string, got {type_name(value)}")
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"{what} is not a valid URL (bad port or brackets)") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{what} must start with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"{what} has no host")
    if not allow_userinfo and (parts.username is not None or parts.password is not None):
        raise ValueError(f"{what} must not contain a user name or password")
    if need_port and port is None:
        raise ValueError(f"{what} needs a port, e.g. http://host:7890")
    if port == 0:
        raise ValueError(f"{what} port must be 1-65535")
    if parts.fragment or "#" in value:
        raise ValueError(f"{what} must not have a fragment (#...)")
    if not allow_secrets and (parts.query or "?" in value):
        raise ValueError(f"{what} must not have a query (?...) or a fragment (#...)")
    path = parts.path.rstrip("/")
    if path and not allow_path:
        raise ValueError(f"{what} must not have a path; give only scheme, host and port")
    userinfo, at, netloc = parts.netloc.rpartition("@")
    host = netloc.lower() if port is None else netloc.rsplit(":", 1)[0].lower() + f":{port}"
    query = f"?{parts.query}" if allow_secrets and parts.query else ""
    return f"{parts.scheme.lower()}://{userinfo}{at}{host}{path}{query}"


def _node_url(value: Any) -> str:
    # a node behind an authenticating proxy: http://user:pass@host:7890 or ...:7890?token=...
    return check_http_url(value, "node URL", need_port=True, allow_path=False, allow_secrets=True)


def _base_url(value: Any) -> str:
    # the providers append their API paths, so a query cannot be kept; a proxy's user:pass can
    return check_http_url(value, "base URL", allow_userinfo=True)


NodeUrl = Annotated[str, BeforeValidator(_node_url)]
"""A NIS node: ``http://host:7890`` or ``https://host:7891`` (port required, no path)."""

BaseUrl = Annotated[str, BeforeValidator(_base_url)]
"""An http(s) API base URL, stored without a trailing slash."""


# --- local paths ----------------------------------------------------------------------------


def _local_path(value: Any, info: ValidationInfo) -> Path:
    if not isinstance(value, str | Path):
        raise ValueError(f"expected a path string, got {type_name(value)}")
    if not str(value).strip():
        raise ValueError("path is empty; remove the line to use the default")
    path = Path(value).expanduser()
    base = (info.context or {}).get("base_dir")
    if not path.is_absolute() and isinstance(base, Path):
        path = base / path
    return path


LocalPath = Annotated[Path, BeforeValidator(_local_path)]
"""A local path; ``~`` expanded, a relative path taken from the config file's directory."""
