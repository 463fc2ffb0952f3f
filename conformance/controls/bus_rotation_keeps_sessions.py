"""Rotation and revocation only change the allowlist: sessions opened with the old key stay connected.

Messages the old key *sends* are still dropped (their User-Id is stale), but its existing subscriptions keep
receiving, which is what a revocation that is only checked at handshake time looks like.
"""

from __future__ import annotations

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker

from ._base import reference_with

BREAKS = ("AICO-BUS-007",)


class HandshakeOnlyRevocation(Broker):
    def _command(self, name: str) -> None:
        if name != "cut":
            super()._command(name)


class LazyRotationBus(ReferenceBus):
    broker_class = HandshakeOnlyRevocation


def build() -> Target:
    return reference_with("revocation checked at handshake only", bus=LazyRotationBus())
