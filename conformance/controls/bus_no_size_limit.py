"""No frame size limit on the broker sockets: oversize messages are accepted and forwarded."""

from __future__ import annotations

import zmq

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker

from ._base import reference_with

BREAKS = ("AICO-BUS-008",)


class UnboundedBroker(Broker):
    def _limit(self, sock: zmq.Socket[bytes]) -> None:
        sock.setsockopt(zmq.HANDSHAKE_IVL, self.config.handshake_timeout_ms)


class UnboundedBus(ReferenceBus):
    broker_class = UnboundedBroker


def build() -> Target:
    return reference_with("bus without a message size limit", bus=UnboundedBus())
