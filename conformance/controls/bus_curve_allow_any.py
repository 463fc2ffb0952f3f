"""CURVE_ALLOW_ANY: the ZAP handler admits every well-formed CURVE key, as in the seed's own example.

The broker's topic checks still drop what an unknown key sends, so the flaw shows as a completed handshake for
an unlisted key (and for a key that was just rotated out) and as failed authentications that are never counted.
"""

from __future__ import annotations

import zmq.auth

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker
from aico_secure.transport.bus.zap import AllowlistAuthenticator

from ._base import reference_with

BREAKS = ("AICO-BUS-002", "AICO-BUS-007", "AICO-BUS-009")


class AllowAnyBroker(Broker):
    def _make_authenticator(self) -> AllowlistAuthenticator:
        auth = super()._make_authenticator()
        auth.configure_curve(domain="*", location=zmq.auth.CURVE_ALLOW_ANY)
        return auth


class AllowAnyBus(ReferenceBus):
    broker_class = AllowAnyBroker


def build() -> Target:
    return reference_with("CURVE_ALLOW_ANY on the bus", bus=AllowAnyBus())
