"""Device links accept TLS 1.2 as well as 1.3 (server and client), the usual "compatibility" setting."""

from __future__ import annotations

import ssl

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.sync import Peer, SyncDevice

from ._base import reference_with

BREAKS = ("AICO-TLS-001",)


class Tls12Device(SyncDevice):
    def _server_context(self) -> ssl.SSLContext:
        ctx = super()._server_context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def _client_context(self, peer: Peer) -> ssl.SSLContext:
        ctx = super()._client_context(peer)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx


class Tls12(ReferenceTls):
    device_class = Tls12Device


def build() -> Target:
    return reference_with("TLS 1.2 allowed on device links", tls=Tls12())
