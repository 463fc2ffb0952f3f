"""The device client does not check that the peer certificate names the host it meant to reach."""

from __future__ import annotations

import ssl

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.sync import Peer, SyncDevice

from ._base import reference_with

BREAKS = ("AICO-TLS-003",)


class AnyHostDevice(SyncDevice):
    def _client_context(self, peer: Peer) -> ssl.SSLContext:
        ctx = super()._client_context(peer)
        ctx.check_hostname = False
        return ctx


class AnyHost(ReferenceTls):
    device_class = AnyHostDevice


def build() -> Target:
    return reference_with("no host-name check on device links", tls=AnyHost())
