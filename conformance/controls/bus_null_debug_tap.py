"""A "debug tap": besides its CURVE sockets, the broker mirrors all traffic on an unauthenticated NULL XPUB.

The tap listens on loopback and is even reported in ``bound_endpoints``; the flaw is the mechanism: any local
process can read the bus without a key.
"""

from __future__ import annotations

import time

import zmq

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker

from ._base import reference_with

BREAKS = ("AICO-BUS-001",)


class TappedBroker(Broker):
    def _open_sockets(self) -> None:
        super()._open_sockets()
        tap = self._context.socket(zmq.XPUB)
        tap.linger = 0
        for _attempt in range(150):  # after a key rotation the same port is re-bound; wait for the old socket
            try:
                tap.bind(self._bound.get("tap", "tcp://127.0.0.1:*"))
                break
            except zmq.ZMQError:
                time.sleep(0.02)
        self._bound["tap"] = tap.getsockopt_string(zmq.LAST_ENDPOINT)
        self._sockets["tap"] = tap

    def _forward(self, backend: zmq.Socket[bytes], topic: zmq.Frame, payload: zmq.Frame) -> None:
        super()._forward(backend, topic, payload)
        tap = self._sockets.get("tap")
        if tap is not None:
            tap.send_multipart([topic.bytes, payload.bytes], zmq.NOBLOCK)


class TappedBus(ReferenceBus):
    broker_class = TappedBroker


def build() -> Target:
    return reference_with("unauthenticated debug tap on the bus", bus=TappedBus())
