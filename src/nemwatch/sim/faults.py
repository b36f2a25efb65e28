"""Faults a simulated node can be told to show, one set per node.

HTTP-level faults (``latency``, ``error``, ``rate_limit``, ``body``) each have a scope: the
next ``count`` requests, until a simulated time (``for_seconds``), or until cleared; and an
optional list of path prefixes they apply to. View faults (``wrong_network``, ``lag``,
``freeze``, ``lie``, ``forge``, ``public``) change what the node reports until cleared; ``public``
makes the node refuse its trusted API (``/local/*``, 401) as a public node refuses strangers. Control requests under
``/_sim/`` are never faulted.

Body faults:

- ``malformed``: the real body with bytes in the middle replaced by ``<html>`` junk;
- ``truncated``: ``Content-Length`` of the whole body, half of it sent, connection closed;
- ``wrong_types``: every JSON number written as a string (``"height": "243"``);
- ``huge``: a valid JSON object of ``size`` bytes (default 50 MB), streamed in chunks;
- ``drip``: the real body, one byte every ``interval`` seconds.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from nemwatch.sim.forge import Forgery, Invented

BodyKind = Literal["malformed", "truncated", "wrong_types", "huge", "drip"]
BODY_KINDS = ("malformed", "truncated", "wrong_types", "huge", "drip")
HUGE_DEFAULT = 50 * 1024 * 1024


@dataclass
class Scope:
    count: int | None = None  # requests left; None: no count limit
    until: datetime | None = None  # simulated time; None: no time limit
    paths: tuple[str, ...] = ()  # path prefixes; empty: every path

    def matches(self, path: str, now: datetime) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.until is not None and now >= self.until:
            return False
        return not self.paths or any(path.startswith(p) for p in self.paths)

    def expired(self, now: datetime) -> bool:
        return (self.count is not None and self.count <= 0) or (self.until is not None and now >= self.until)

    def describe(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "until": self.until.isoformat() if self.until else None,
            "paths": list(self.paths),
        }


@dataclass
class HttpFault:
    kind: str  # "latency" | "error" | "rate_limit" | "body"
    scope: Scope
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        params = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.params.items()}
        return {"kind": self.kind, **params, **self.scope.describe()}


@dataclass
class ViewFaults:
    wrong_network: bool = False
    lag_blocks: int = 0
    frozen_at: int | None = None
    lie_offset: int = 0
    forged: dict[int, Forgery] = field(default_factory=dict)  # height -> the block it makes up
    public: bool = False  # /local/* (trusted API) answers 401


class Faults:
    """The fault set of one node. Thread-safe; every method returns ``self`` for chaining."""

    def __init__(self, now: Any) -> None:
        self._now = now  # callable -> simulated datetime
        self._lock = threading.Lock()
        self._http: list[HttpFault] = []
        self.view = ViewFaults()

    # --- HTTP faults --------------------------------------------------------------------

    def _scope(self, count: int | None, for_seconds: float | None, paths: tuple[str, ...] | list[str]) -> Scope:
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        until = self._now() + timedelta(seconds=for_seconds) if for_seconds is not None else None
        return Scope(count, until, tuple(paths))

    def _add(self, fault: HttpFault) -> Faults:
        with self._lock:
            self._http.append(fault)
        return self

    def latency(self, ms: float, *, count: int | None = None, for_seconds: float | None = None,
                paths: tuple[str, ...] | list[str] = ()) -> Faults:
        """Delay each matching request by ``ms`` real milliseconds before answering."""
        if ms < 0:
            raise ValueError("latency must not be negative")
        return self._add(HttpFault("latency", self._scope(count, for_seconds, paths), {"ms": ms}))

    def error(self, status: int = 503, *, message: str | None = None, count: int | None = None,
              for_seconds: float | None = None, paths: tuple[str, ...] | list[str] = ()) -> Faults:
        """Answer with ``status`` (4xx/5xx) and a NIS error body."""
        if not 400 <= status <= 599:
            raise ValueError("status must be 4xx or 5xx")
        params = {"status": status, "message": message}
        return self._add(HttpFault("error", self._scope(count, for_seconds, paths), params))

    def rate_limit(self, retry_after: int | datetime | None = 120, *, count: int | None = None,
                   for_seconds: float | None = None, paths: tuple[str, ...] | list[str] = (),
                   date_form: bool = False) -> Faults:
        """429 Too Many Requests. ``retry_after``: seconds, an absolute time (sent as an HTTP
        date), or None for no header; ``date_form=True`` sends seconds as an HTTP date."""
        params = {"retry_after": retry_after, "date_form": date_form}
        return self._add(HttpFault("rate_limit", self._scope(count, for_seconds, paths), params))

    def body(self, kind: BodyKind, *, count: int | None = None, for_seconds: float | None = None,
             paths: tuple[str, ...] | list[str] = (), size: int = HUGE_DEFAULT, interval: float = 4.0) -> Faults:
        if kind not in BODY_KINDS:
            raise ValueError(f"body fault must be one of {', '.join(BODY_KINDS)}")
        if size < 16 or interval < 0:
            raise ValueError("size must be at least 16 bytes and interval non-negative")
        params = {"body": kind, "size": size, "interval": interval}
        return self._add(HttpFault("body", self._scope(count, for_seconds, paths), params))

    def malformed(self, **kw: Any) -> Faults:
        return self.body("malformed", **kw)

    def truncated(self, **kw: Any) -> Faults:
        return self.body("truncated", **kw)

    def wrong_types(self, **kw: Any) -> Faults:
        return self.body("wrong_types", **kw)

    def huge(self, size: int = HUGE_DEFAULT, **kw: Any) -> Faults:
        return self.body("huge", size=size, **kw)

    def drip(self, interval: float = 4.0, **kw: Any) -> Faults:
        return self.body("drip", interval=interval, **kw)

    # --- view faults --------------------------------------------------------------------

    def wrong_network(self, on: bool = True) -> Faults:
        self.view.wrong_network = on
        return self

    def lag(self, blocks: int) -> Faults:
        """Report the chain ``blocks`` behind the real tip (0 to stop)."""
        if blocks < 0:
            raise ValueError("lag must not be negative")
        self.view.lag_blocks = blocks
        return self

    def freeze(self, height: int | None) -> Faults:
        """Stay at ``height`` (None to thaw)."""
        self.view.frozen_at = height
        return self

    def lie(self, offset: int = 1000) -> Faults:
        """Claim a chain ``offset`` blocks higher than it is (0 to stop)."""
        self.view.lie_offset = offset
        return self

    def forge(self, height: int, *, hide: tuple[str, ...] | list[str] = (),
              invent: tuple[Invented, ...] | list[Invented] = ()) -> Faults:
        """Serve at ``height`` a block of this node's own, signed by its key: the real one's
        transactions minus ``hide`` (transaction hashes), plus ``invent`` (transfers it makes
        up and cannot sign for). See ``nemwatch.sim.forge``."""
        if height < 1:
            raise ValueError("height must be positive")
        with self._lock:
            self.view.forged[height] = Forgery(tuple(hide), tuple(invent))
        return self

    def public(self, on: bool = True) -> Faults:
        """Refuse the trusted API (``/local/*``) with 401, as a public node does (False to stop)."""
        self.view.public = on
        return self

    # --- reading and clearing -----------------------------------------------------------

    def take(self, path: str) -> list[HttpFault]:
        """The HTTP faults that apply to this request (their counts are used up)."""
        now = self._now()
        taken: list[HttpFault] = []
        with self._lock:
            for fault in self._http:
                if fault.scope.matches(path, now):
                    if fault.scope.count is not None:
                        fault.scope.count -= 1
                    taken.append(fault)
            self._http = [f for f in self._http if not f.scope.expired(now)]
        return taken

    def clear(self, kind: str | None = None) -> Faults:
        """Clear every fault, or one kind: latency, error, rate_limit, body, wrong_network,
        lag, freeze, lie, forge, public."""
        with self._lock:
            if kind is None:
                self._http = []
                self.view = ViewFaults()
            elif kind in ("latency", "error", "rate_limit", "body"):
                self._http = [f for f in self._http if f.kind != kind]
            elif kind == "wrong_network":
                self.view.wrong_network = False
            elif kind == "lag":
                self.view.lag_blocks = 0
            elif kind == "freeze":
                self.view.frozen_at = None
            elif kind == "lie":
                self.view.lie_offset = 0
            elif kind == "forge":
                self.view.forged = {}
            elif kind == "public":
                self.view.public = False
            else:
                raise ValueError(f"unknown fault kind {kind!r}")
        return self

    def describe(self) -> dict[str, Any]:
        now = self._now()
        with self._lock:
            http = [f.describe() for f in self._http if not f.scope.expired(now)]
        return {"http": http, "view": asdict(self.view)}
