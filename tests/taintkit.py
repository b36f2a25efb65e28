"""Transfers for the taint tests: hand-made ones and the coincheck-2018 scenario's, as core models.

Scenario accounts are addressed by their labels (the pure functions under test never check an
address), so assertions read like the scenario file.
"""

from __future__ import annotations

from datetime import UTC, datetime

from nemwatch.core.models import Message, MessageType, MosaicAmount, Transfer
from nemwatch.sim.scenario_toml import load_scenario

T0 = datetime(2018, 2, 8, 3, 0, tzinfo=UTC)


def make_transfer(
    sender: str,
    recipient: str,
    *,
    xem: int = 0,
    message: str | None = None,
    mosaics: tuple[tuple[str, int], ...] = (),
    at: datetime = T0,
    height: int | None = 1,
    ident: str = "h",
) -> Transfer:
    return Transfer(
        hash=ident, inner_hash=None, height=height, meta_id=None, sender=sender, sender_public_key="00" * 32,
        initiator=None, fee=50_000, nem_timestamp=0, timestamp=at, deadline=0, version=2 if mosaics else 1,
        signature=None, recipient=recipient, amount=xem, xem=xem,
        mosaics=tuple(MosaicAmount(*mid.split(":", 1), qty) for mid, qty in mosaics),
        message=None if message is None else Message(MessageType.PLAIN, message.encode(), message),
    )


def scenario_transfers(name: str = "coincheck-2018") -> list[Transfer]:
    """Every scheduled transfer of the scenario, in time order, with labels as addresses."""
    scenario = load_scenario(name)
    specs = sorted(scenario.transfers, key=lambda t: t.at)
    return [
        make_transfer(
            t.sender, t.recipient, xem=t.xem, mosaics=t.mosaics, at=t.at, height=i + 1, ident=f"t{i}",
            message=t.message.decode("utf-8") if t.message is not None else None,
        )
        for i, t in enumerate(specs)
    ]
