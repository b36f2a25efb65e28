"""Load scenario files (TOML) into ``Scenario`` objects, with one-line errors.

Layout of a file (see ``scenarios/coincheck-2018.toml`` for a full one)::

    [scenario]
    name = "demo"                       # defaults to the file name
    description = "..."
    network = "mainnet"                 # or "testnet"
    start = "2018-01-25T23:00:00+09:00"
    block_interval = 60                 # simulated seconds per block
    speed = 60                          # simulated seconds per real second (nemwatch sim)
    seed = "demo"                       # key derivation: sha256(seed + "/" + label)
    start_height = 1                    # height of the first block
    harvesters = 3
    notes = ["..."]

    [[account]]
    label = "hot"                       # unique
    role = "hot_wallet"                 # see Role
    xem = "1000.5"                      # starting balance, XEM (string or integer)
    key_seed = "..."                    # optional: fixed key material
    cosigners = ["a", "b"]              # optional: a multisig account ...
    min_cosigners = 2                   # ... and its minimum
    real_address = "N..."               # the real account it stands for (notes only)
    note = "..."

    [[mosaic]]
    id = "namespace:name"
    owner = "hot"
    supply = 10000                      # whole units
    divisibility = 0
    transferable = false

    [[transfer]]
    at = "2018-01-26T00:02:13+09:00"
    from = "hot"
    to = "thief"                        # label or address
    xem = "10"
    mosaics = [{ id = "namespace:name", quantity = 1 }]
    message = "text"                    # or message_hex = "fe..."; message_type = 1
    via = "cosigner-label"              # multisig spend
    cosigners = ["other-cosigner"]
    version = 2
    note = "..."

    [price]
    trades_per_minute = 6
    trade_xem = ["100", "20000"]
    points = [["2018-01-26T00:00:00+09:00", "118.2"], ...]
    # or, instead of points: replay a candle file shipped in nemwatch/sim/data
    candles = "xem_jpy_zaif_30m_2018-01-19_2018-02-09.csv"

    [scale]
    transfers = 100000
    accounts = 10000
    seed = 1
    signing = "signed"                  # or "unsigned_fast"
"""

from __future__ import annotations

import tomllib
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from nemwatch.sim.scenario import (
    AccountSpec,
    MosaicSpec,
    Role,
    ScaleSpec,
    Scenario,
    ScenarioError,
    TransferSpec,
    message_bytes,
    to_micro,
    to_utc,
)

_SCENARIO_KEYS = {
    "name", "description", "network", "start", "block_interval", "speed", "seed", "start_height",
    "harvesters", "max_block_transactions", "notes",
}
_ACCOUNT_KEYS = {"label", "role", "xem", "key_seed", "cosigners", "min_cosigners", "real_address", "note"}
_MOSAIC_KEYS = {"id", "owner", "supply", "divisibility", "transferable", "description"}
_TRANSFER_KEYS = {
    "at", "from", "to", "xem", "mosaics", "message", "message_hex", "message_type", "via", "cosigners",
    "version", "note",
}
_PRICE_KEYS = {"trades_per_minute", "trade_xem", "points", "candles"}
_SCALE_KEYS = {"transfers", "accounts", "seed", "signing", "taint_share_permille"}


def _table(value: Any, what: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{what}: expected a table")
    unknown = set(value) - allowed
    if unknown:
        raise ScenarioError(f"{what}: unknown key {sorted(unknown)[0]!r}")
    return value


def _typed(table: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str, default: Any = None) -> Any:
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) and kind is not bool:
        raise ScenarioError(f"{what}.{key}: wrong type")
    if not isinstance(value, kind):
        raise ScenarioError(f"{what}.{key}: wrong type")
    return value


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, (bool, float)):
        raise ScenarioError(f"{what}: give a decimal string, not a float")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ScenarioError(f"{what}: not a number") from None


def _account(raw: Any, i: int) -> AccountSpec:
    what = f"account #{i + 1}"
    t = _table(raw, what, _ACCOUNT_KEYS)
    label = _typed(t, "label", str, what)
    if not label:
        raise ScenarioError(f"{what}: label is required")
    try:
        role = Role(t.get("role", "user"))
    except ValueError:
        raise ScenarioError(f"{what}: unknown role {t.get('role')!r}") from None
    cosigners = tuple(_typed(t, "cosigners", list, what, []))
    if not all(isinstance(c, str) for c in cosigners):
        raise ScenarioError(f"{what}.cosigners: labels expected")
    minimum = _typed(t, "min_cosigners", int, what, len(cosigners))
    return AccountSpec(
        label=label,
        role=role,
        balance=to_micro(t.get("xem", 0), f"{what}.xem"),
        key_seed=_typed(t, "key_seed", str, what),
        cosigners=cosigners,
        min_cosigners=minimum if cosigners else 0,
        note=_typed(t, "note", str, what, ""),
        real_address=_typed(t, "real_address", str, what),
    )


def _mosaic(raw: Any, i: int) -> MosaicSpec:
    what = f"mosaic #{i + 1}"
    t = _table(raw, what, _MOSAIC_KEYS)
    return MosaicSpec(
        id=_typed(t, "id", str, what) or "",
        owner=_typed(t, "owner", str, what) or "",
        supply=_typed(t, "supply", int, what, 0),
        divisibility=_typed(t, "divisibility", int, what, 0),
        transferable=_typed(t, "transferable", bool, what, True),
        description=_typed(t, "description", str, what, ""),
    )


def _transfer(raw: Any, i: int) -> TransferSpec:
    what = f"transfer #{i + 1}"
    t = _table(raw, what, _TRANSFER_KEYS)
    for key in ("at", "from", "to"):
        if key not in t:
            raise ScenarioError(f"{what}: {key} is required")
    mosaics = []
    for m in _typed(t, "mosaics", list, what, []):
        m = _table(m, f"{what}.mosaics", {"id", "quantity"})
        quantity = m.get("quantity")
        if not isinstance(m.get("id"), str) or isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ScenarioError(f"{what}.mosaics: id (string) and quantity (integer) expected")
        mosaics.append((m["id"], quantity))
    cosigners = _typed(t, "cosigners", list, what)
    return TransferSpec(
        at=to_utc(t["at"], f"{what}.at"),
        sender=str(t["from"]),
        recipient=str(t["to"]),
        xem=to_micro(t.get("xem", 0), f"{what}.xem"),
        mosaics=tuple(mosaics),
        message=message_bytes(_typed(t, "message", str, what), _typed(t, "message_hex", str, what)),
        message_type=_typed(t, "message_type", int, what, 1),
        via=_typed(t, "via", str, what),
        cosigners=tuple(cosigners) if cosigners is not None else None,
        version=_typed(t, "version", int, what),
        note=_typed(t, "note", str, what, ""),
    )


def parse_scenario(data: dict[str, Any], default_name: str = "scenario") -> Scenario:
    """A ``Scenario`` from parsed TOML; ``ScenarioError`` says what is wrong."""
    allowed = {"scenario", "account", "mosaic", "transfer", "price", "scale"}
    unknown = set(data) - allowed
    if unknown:
        raise ScenarioError(f"unknown table {sorted(unknown)[0]!r}")
    head = _table(data.get("scenario", {}), "[scenario]", _SCENARIO_KEYS)
    if "start" not in head:
        raise ScenarioError("[scenario]: start is required")
    price = _table(data.get("price", {}), "[price]", _PRICE_KEYS)
    points = []
    for j, point in enumerate(price.get("points", [])):
        if not isinstance(point, list) or len(point) != 2:
            raise ScenarioError(f"[price] point #{j + 1}: expected [time, price]")
        points.append((to_utc(point[0], f"[price] point #{j + 1}"), _decimal(point[1], f"[price] point #{j + 1}")))
    candles = price.get("candles")
    if candles is not None:
        if points or not isinstance(candles, str):
            raise ScenarioError("[price].candles: the name of a shipped candle file, instead of points")
        from nemwatch.sim.candles import CandleError, CandlePath

        try:
            points = CandlePath.shipped(candles).points()
        except CandleError as err:
            raise ScenarioError(f"[price].candles: {err}") from None
    trade_xem = price.get("trade_xem", ["100", "10000"])
    if not isinstance(trade_xem, list) or len(trade_xem) != 2:
        raise ScenarioError("[price].trade_xem: expected [min, max]")
    scale = None
    if "scale" in data:
        s = _table(data["scale"], "[scale]", _SCALE_KEYS)
        signing = s.get("signing", "signed")
        if signing not in ("signed", "unsigned_fast"):
            raise ScenarioError("[scale].signing: signed or unsigned_fast")
        scale = ScaleSpec(
            transfers=_typed(s, "transfers", int, "[scale]", 0),
            accounts=_typed(s, "accounts", int, "[scale]", 0),
            seed=_typed(s, "seed", int, "[scale]", 1),
            signing=signing,
            taint_share_permille=_typed(s, "taint_share_permille", int, "[scale]", 50),
        )
    speed = head.get("speed", 1)
    if isinstance(speed, bool) or not isinstance(speed, (int, float)):
        raise ScenarioError("[scenario].speed: a number")
    notes = _typed(head, "notes", list, "[scenario]", [])
    network = head.get("network", "mainnet")
    if network not in ("mainnet", "testnet"):
        raise ScenarioError("[scenario].network: mainnet or testnet")
    return Scenario(
        name=_typed(head, "name", str, "[scenario]", default_name),
        description=_typed(head, "description", str, "[scenario]", ""),
        network=network,
        start=to_utc(head["start"], "[scenario].start"),
        accounts=tuple(_account(a, i) for i, a in enumerate(_list(data, "account"))),
        transfers=tuple(_transfer(t, i) for i, t in enumerate(_list(data, "transfer"))),
        mosaics=tuple(_mosaic(m, i) for i, m in enumerate(_list(data, "mosaic"))),
        block_interval=_typed(head, "block_interval", int, "[scenario]", 60),
        speed=float(speed),
        seed=_typed(head, "seed", str, "[scenario]", default_name),
        start_height=_typed(head, "start_height", int, "[scenario]", 1),
        harvesters=_typed(head, "harvesters", int, "[scenario]", 3),
        max_block_transactions=_typed(head, "max_block_transactions", int, "[scenario]", 120),
        price_path=points,
        price_trades_per_minute=_typed(price, "trades_per_minute", int, "[price]", 0),
        price_trade_xem=(_decimal(trade_xem[0], "[price].trade_xem"), _decimal(trade_xem[1], "[price].trade_xem")),
        price_candles=candles,
        scale=scale,
        notes=tuple(str(n) for n in notes),
    )


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"[[{key}]] must be an array of tables")
    return value


def load_file(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path.name}: not valid TOML ({err})") from None
    return parse_scenario(data, default_name=path.stem)


def builtin_names() -> list[str]:
    folder = resources.files("nemwatch.sim") / "scenarios"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name (``coincheck-2018``) or a TOML file by path."""
    text = str(name_or_path)
    if text in builtin_names():
        resource = resources.files("nemwatch.sim") / "scenarios" / f"{text}.toml"
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
        return parse_scenario(data, default_name=text)
    path = Path(text)
    if path.is_file():
        return load_file(path)
    known = ", ".join(builtin_names()) or "none"
    raise ScenarioError(f"no scenario {text!r} (built in: {known}; or give a .toml path)")
