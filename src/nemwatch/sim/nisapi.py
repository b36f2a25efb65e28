"""The NIS1 REST endpoints of a simulated node: request in, (status, JSON) out.

Shapes follow the NIS source as documented in the project's NIS1 reference: lists wrapped in
``{"data": [...]}``, ``{}`` for a missing object (``message``, ``meta.innerHash``,
``multisigInfo``), ``null`` for a missing key or label, no ``mosaics`` on v1 transfers,
newest-first paging with an exclusive ``id`` and ``pageSize`` clamped to 5..100 (default 25),
at most 25 unconfirmed transactions with ``meta = {"data": innerHash|null}``, ``nem:xem`` first
in ``/account/mosaic/owned``, and NIS error bodies with the status codes NIS uses.

``/local/chain/blocks-after`` is NIS's trusted API: a simulated node serves it (up to ten blocks
with their hashes) unless it is configured as public (``NisApi.public``, the cluster's
``public=`` option) or told to act so (the ``public`` fault): then it answers 401, as a public
node answers a stranger.

Simplified on purpose: ``importance`` is vested balance / total supply for accounts with at
least 10,000 vested XEM (else 0); ``vestedBalance`` is the smaller of the balance now and a day
(1,440 blocks) ago; account ``status`` is ``UNLOCKED`` for harvesters, else ``LOCKED``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from nemwatch.core.models import MICRO_XEM, Network
from nemwatch.core.nem import address as nem_address
from nemwatch.core.nem import nemtime, txhash
from nemwatch.sim import poolsync
from nemwatch.sim.chain import MAX_UNCONFIRMED
from nemwatch.sim.forge import forge_block
from nemwatch.sim.ledger import Included
from nemwatch.sim.netswap import convert_address, swap
from nemwatch.sim.scenario import Role

if TYPE_CHECKING:
    from nemwatch.sim.node import SimNode

PAGE_DEFAULT, PAGE_MIN, PAGE_MAX = 25, 5, 100
NIS_VERSION = "0.6.102"
TOTAL_SUPPLY_MICRO = 8_999_999_999 * MICRO_XEM
VESTING_BLOCKS = 1440
BLOCKS_AFTER_LIMIT = 10  # NIS's ChainController.localBlocksAfter answers at most this many
SIM_DIFFICULTY = 100_000_000_000_000  # NIS's starting difficulty; the simulator keeps it flat


class NisError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Reply:
    status: int
    body: Any  # a JSON value


def error_body(status: int, message: str, nem_seconds: int) -> dict[str, Any]:
    return {"timeStamp": nem_seconds, "error": HTTPStatus(status).phrase, "message": message, "status": status}


def _int_param(query: dict[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    if not values or values[0] == "":
        return None
    try:
        return int(values[0])
    except ValueError:
        raise NisError(400, f'For input string: "{values[0]}"') from None


class NisApi:
    """Answers NIS requests for one node (its view of the chain and its view faults)."""

    def __init__(self, node: SimNode) -> None:
        self.node = node
        self.public = False  # a public node: its trusted API (/local/*) answers 401

    # --- views --------------------------------------------------------------------------

    @property
    def chain(self):  # noqa: ANN201 - the node's current chain (it can be forked)
        return self.node.chain

    @property
    def network(self) -> Network:
        real = self.chain.network
        if self.node.faults.view.wrong_network:
            return Network.TESTNET if real is Network.MAINNET else Network.MAINNET
        return real

    def view_height(self, *, sync: bool = True) -> int:
        """The height this node admits to (lag and freeze applied, before any lie)."""
        chain = self.chain
        height = chain.sync() if sync else chain.height
        view = self.node.faults.view
        if view.frozen_at is not None:
            height = min(height, view.frozen_at)
        return max(chain.start_height, height - view.lag_blocks)

    def now(self) -> datetime:
        return self.chain.clock.now()

    def _out(self, value: Any) -> Any:
        return swap(value, self.network) if self.node.faults.view.wrong_network else value

    def _address(self, query: dict[str, list[str]], name: str = "address") -> str:
        values = query.get(name)
        if not values:
            raise NisError(400, "encoded address cannot be null")
        text = values[0].upper()  # NIS upper-cases; dashes and other networks stay invalid
        if len(text) != 40 or not nem_address.is_valid(text, self.network):
            raise NisError(400, "address must be valid")
        if self.network is not self.chain.network:
            text = convert_address(text, self.chain.network)
        return text

    # --- dispatch -----------------------------------------------------------------------

    def handle(self, method: str, path: str, query_string: str, body: bytes) -> Reply:
        query = parse_qs(query_string, keep_blank_values=True)
        route = _ROUTES.get(path)
        if route is None:
            return Reply(404, error_body(404, path, nemtime.from_datetime(self.now())))
        want, name = route
        if method != want:
            return Reply(405, error_body(405, f"Request method '{method}' not supported", nemtime.from_datetime(self.now())))
        try:
            with self.chain.lock:
                return Reply(200, self._out(getattr(self, name)(query, body)))
        except NisError as err:
            return Reply(err.status, error_body(err.status, err.message, nemtime.from_datetime(self.now())))

    # --- node ---------------------------------------------------------------------------

    def heartbeat(self, query: Any, body: bytes) -> Any:
        return {"code": 1, "type": 2, "message": "ok"}

    def status(self, query: Any, body: bytes) -> Any:
        return {"code": 6, "type": 4, "message": "status"}

    def node_info(self, query: Any, body: bytes) -> Any:
        return self.node.info_json()

    def node_extended_info(self, query: Any, body: bytes) -> Any:
        return {
            "node": self.node.info_json(),
            "nisInfo": {
                "currentTime": nemtime.from_datetime(self.now()),
                "application": "NEM Infrastructure Server",
                "startTime": self.node.start_nem_time,
                "version": NIS_VERSION,
                "signer": "CN=NEM,O=NEM Infrastructure Server",
            },
        }

    def peers_reachable(self, query: Any, body: bytes) -> Any:
        return {"data": self.node.peer_infos()}

    def peers_all(self, query: Any, body: bytes) -> Any:
        return {"active": self.node.peer_infos(), "busy": [], "inactive": [], "failure": []}

    def max_chain_height(self, query: Any, body: bytes) -> Any:
        return {"height": self.node.peers_max_height()}

    def network_time(self, query: Any, body: bytes) -> Any:
        millis = int((self.now() - nemtime.NEM_EPOCH).total_seconds() * 1000)
        return {"sendTimeStamp": millis, "receiveTimeStamp": millis}

    # --- chain --------------------------------------------------------------------------

    def chain_height(self, query: Any, body: bytes) -> Any:
        return {"height": self.view_height() + self.node.faults.view.lie_offset}

    def chain_score(self, query: Any, body: bytes) -> Any:
        return {"score": format((self.view_height() + self.node.faults.view.lie_offset) * 1_000_003, "x")}

    def last_block(self, query: Any, body: bytes) -> Any:
        block = self.chain.block(self.view_height())
        result = block.to_json()
        result["height"] += self.node.faults.view.lie_offset
        return result

    def block_at(self, query: Any, body: bytes) -> Any:
        height = _height_body(body)
        block = self.chain.block(height) if height <= self.view_height() else None
        if block is None:
            raise NisError(404, f"block not found in the db '{height}' (org.nem.core.model.Block)")
        return self._served_block(height)

    def _served_block(self, height: int) -> dict[str, Any]:
        """The block this node serves at ``height`` (a forgery when told to forge there)."""
        block = self.chain.block(height)
        forgery = self.node.faults.view.forged.get(height)
        if forgery is not None:
            return forge_block(block.to_json(), forgery, self.node.identity, self.chain.network)
        return block.to_json()

    def blocks_after(self, query: Any, body: bytes) -> Any:
        """``/local/chain/blocks-after``: the blocks after a height, at most ten, as NIS's
        ``ExplorerBlockViewModel`` (block, hash, difficulty, txes with hash and innerHash)."""
        if self.public or self.node.faults.view.public:
            raise NisError(401, "this api is only accessible to trusted clients")
        after = _height_body(body)
        top = min(self.view_height(), after + BLOCKS_AFTER_LIMIT)
        network = self.chain.network
        items = []
        for height in range(after + 1, top + 1):
            block = self._served_block(height)
            if height in self.node.faults.view.forged:  # made up here: hashed here
                hashes = [(txhash.transaction_hash(tx, network), txhash.inner_hash(tx, network))
                          for tx in block["transactions"]]
                block_hash = txhash.block_hash(block, network)
            else:
                real = self.chain.block(height)
                hashes = [(e.tx.built.hash, e.tx.built.inner_hash) for e in real.txs]
                block_hash = real.hash
            txes = []
            for tx, (tx_hash, inner) in zip(block["transactions"], hashes, strict=True):
                entry: dict[str, Any] = {"tx": tx, "hash": tx_hash}
                if inner is not None:
                    entry["innerHash"] = inner
                txes.append(entry)
            items.append({"block": block, "hash": block_hash, "difficulty": SIM_DIFFICULTY, "txes": txes})
        return {"data": items}

    # --- accounts -----------------------------------------------------------------------

    def _account_info(self, address: str, height: int) -> dict[str, Any]:
        ledger = self.chain.ledger
        compiled = self.chain.compiled
        balance = ledger.balance_at(address, height)
        vested = min(balance, ledger.balance_at(address, height - VESTING_BLOCKS))
        importance = 0.0
        if vested >= 10_000 * MICRO_XEM:
            importance = float(Decimal(vested) / Decimal(TOTAL_SUPPLY_MICRO))
        multisig = compiled.multisig.get(address)
        return {
            "address": address,
            "harvestedBlocks": ledger.harvested_count(address, height),
            "balance": balance,
            "importance": importance,
            "vestedBalance": vested,
            "publicKey": ledger.public_key_at(address, height),
            "label": None,
            "multisigInfo": {"cosignatoriesCount": len(multisig[0]), "minCosignatories": multisig[1]} if multisig else {},
        }

    def _account_meta(self, address: str, height: int) -> dict[str, Any]:
        compiled = self.chain.compiled
        multisig = compiled.multisig.get(address)
        harvester = compiled.roles.get(address) is Role.HARVESTER
        return {
            "cosignatories": [self._account_info(a, height) for a in (multisig[0] if multisig else ())],
            "cosignatoryOf": [self._account_info(a, height) for a in compiled.cosignatory_of(address)],
            "status": "UNLOCKED" if harvester else "LOCKED",
            "remoteStatus": "INACTIVE",
        }

    def account_get(self, query: dict[str, list[str]], body: bytes) -> Any:
        address = self._address(query)
        height = self.view_height()
        return {"meta": self._account_meta(address, height), "account": self._account_info(address, height)}

    def account_get_batch(self, query: dict[str, list[str]], body: bytes) -> Any:
        """``POST /account/get/batch {"data": [{"account": "N..."}, ...]}``: the pairs, in order."""
        try:
            request = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise NisError(400, "request body is not valid JSON") from None
        items = request.get("data") if isinstance(request, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("account"), str) for i in items):
            raise NisError(400, "data must be a list of {\"account\": address}")
        height = self.view_height()
        out = []
        for item in items:
            address = self._address({"address": [item["account"]]})
            out.append({"meta": self._account_meta(address, height), "account": self._account_info(address, height)})
        return {"data": out}

    def account_from_key(self, query: dict[str, list[str]], body: bytes) -> Any:
        values = query.get("publicKey")
        try:
            address = nem_address.from_public_key(values[0].lower() if values else "", self.chain.network)
        except nem_address.AddressError:
            raise NisError(400, "publicKey must be in compressed form") from None
        height = self.view_height()
        return {"meta": self._account_meta(address, height), "account": self._account_info(address, height)}

    def account_status(self, query: dict[str, list[str]], body: bytes) -> Any:
        return self._account_meta(self._address(query), self.view_height())

    def _pair(self, entry: Included) -> dict[str, Any]:
        tx = entry.tx
        return {
            "meta": {
                "innerHash": {"data": tx.inner_hash} if tx.inner_hash else {},
                "id": entry.id + self.node.id_offset,
                "hash": {"data": tx.hash},
                "height": entry.height,
            },
            "transaction": tx.built.json,
        }

    def _transfers(self, query: dict[str, list[str]], direction: str) -> Any:
        address = self._address(query)
        height = self.view_height()
        size = _int_param(query, "pageSize")
        size = PAGE_DEFAULT if size is None else max(PAGE_MIN, min(PAGE_MAX, size))
        cursor = _int_param(query, "id")
        if cursor is not None:
            cursor -= self.node.id_offset
        elif query.get("hash"):
            found = self._lookup(query["hash"][0], height)
            if found is None:
                raise NisError(400, "Neither transaction id was supplied nor hash was found in cache")
            cursor = found.id
        page = self.chain.ledger.page(address, direction, height, cursor, size)
        return {"data": [self._pair(e) for e in page]}

    def transfers_incoming(self, query: dict[str, list[str]], body: bytes) -> Any:
        return self._transfers(query, "incoming")

    def transfers_outgoing(self, query: dict[str, list[str]], body: bytes) -> Any:
        return self._transfers(query, "outgoing")

    def transfers_all(self, query: dict[str, list[str]], body: bytes) -> Any:
        return self._transfers(query, "all")

    def unconfirmed(self, query: dict[str, list[str]], body: bytes) -> Any:
        address = self._address(query)
        now = nemtime.from_datetime(self.now())
        chain = self.chain
        mine = [
            tx
            for tx in chain.pending(now, self.view_height())
            if tx.recipient == address or address in tx.outgoing
        ]
        mine.sort(key=lambda tx: (tx.created, tx.seq), reverse=True)
        result = []
        for tx in mine[:MAX_UNCONFIRMED]:
            shown = tx.built.pool_json if tx.built.pool_json is not None and now < tx.ready else tx.built.json
            result.append({"meta": {"data": tx.inner_hash}, "transaction": shown})
        return {"data": result}

    def pool_unknown(self, query: dict[str, list[str]], body: bytes) -> Any:
        return poolsync.unknown_pool(self, body)

    def mosaic_definition_page(self, query: dict[str, list[str]], body: bytes) -> Any:
        return poolsync.definition_page(self, query)

    def mosaic_owned(self, query: dict[str, list[str]], body: bytes) -> Any:
        address = self._address(query)
        height = self.view_height()
        items = [{"mosaicId": {"namespaceId": "nem", "name": "xem"}, "quantity": self.chain.ledger.balance_at(address, height)}]
        held = self.chain.ledger.mosaics_at(address, height)
        for mosaic_id in sorted(held):
            if held[mosaic_id] > 0:
                namespace, name = mosaic_id.split(":", 1)
                items.append({"mosaicId": {"namespaceId": namespace, "name": name}, "quantity": held[mosaic_id]})
        return {"data": items}

    # --- transactions -------------------------------------------------------------------

    def _lookup(self, text: str, height: int) -> Included | None:
        entry = self.chain.ledger.by_hash.get(text.lower())
        if entry is None or entry.height > height:
            return None
        hours = self.node.hash_retention_hours
        if hours is not None:
            block = self.chain.block(entry.height)
            if nemtime.from_datetime(self.now()) - block.timestamp > hours * 3600:
                return None
        return entry

    def transaction_get(self, query: dict[str, list[str]], body: bytes) -> Any:
        values = query.get("hash")
        entry = self._lookup(values[0], self.view_height()) if values else None
        if entry is None:
            raise NisError(400, "Hash was not found in cache")
        return self._pair(entry)


def _height_body(body: bytes) -> int:
    """The ``{"height": h}`` body of a block request (NIS's 400s when it is not one)."""
    try:
        request = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise NisError(400, "request body is not valid JSON") from None
    if not isinstance(request, dict) or "height" not in request:
        raise NisError(400, "height must be given")
    height = request["height"]
    if isinstance(height, bool) or not isinstance(height, int):
        raise NisError(400, "height must be a number")
    if height <= 0:
        raise NisError(400, "height must be positive")
    return height


_ROUTES: dict[str, tuple[str, str]] = {
    "/heartbeat": ("GET", "heartbeat"),
    "/status": ("GET", "status"),
    "/node/info": ("GET", "node_info"),
    "/node/extended-info": ("GET", "node_extended_info"),
    "/node/peer-list/reachable": ("GET", "peers_reachable"),
    "/node/peer-list/active": ("GET", "peers_reachable"),
    "/node/peer-list/all": ("GET", "peers_all"),
    "/node/active-peers/max-chain-height": ("GET", "max_chain_height"),
    "/time-sync/network-time": ("GET", "network_time"),
    "/chain/height": ("GET", "chain_height"),
    "/chain/score": ("GET", "chain_score"),
    "/chain/last-block": ("GET", "last_block"),
    "/block/at/public": ("POST", "block_at"),
    "/local/chain/blocks-after": ("POST", "blocks_after"),
    "/account/get": ("GET", "account_get"),
    "/account/get/batch": ("POST", "account_get_batch"),
    "/account/get/from-public-key": ("GET", "account_from_key"),
    "/account/status": ("GET", "account_status"),
    "/account/transfers/incoming": ("GET", "transfers_incoming"),
    "/account/transfers/outgoing": ("GET", "transfers_outgoing"),
    "/account/transfers/all": ("GET", "transfers_all"),
    "/account/unconfirmedTransactions": ("GET", "unconfirmed"),
    "/transactions/unconfirmed": ("POST", "pool_unknown"),
    "/namespace/mosaic/definition/page": ("GET", "mosaic_definition_page"),
    "/account/mosaic/owned": ("GET", "mosaic_owned"),
    "/transaction/get": ("GET", "transaction_get"),
}
