"""Device links also trust the platform's default store, "so peers with publicly trusted certificates work too".

Both contexts keep the pairing CA, pinning and host-name checks, and add ``load_default_certs()``: a server
certificate (or a client certificate) from any CA in the system store, or in ``SSL_CERT_FILE``/``SSL_CERT_DIR``,
now passes the chain check, so a CA someone installed on the machine vouches for the user's peers.
"""

from __future__ import annotations

import ssl

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.sync import Peer, SyncDevice

from ._base import reference_with

BREAKS = ("AICO-TLS-002", "AICO-TLS-004")


class DefaultStoreDevice(SyncDevice):
    def _server_context(self) -> ssl.SSLContext:
        ctx = super()._server_context()
        ctx.load_default_certs(ssl.Purpose.CLIENT_AUTH)
        return ctx

    def _client_context(self, peer: Peer) -> ssl.SSLContext:
        ctx = super()._client_context(peer)
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        return ctx


class DefaultStoreTls(ReferenceTls):
    device_class = DefaultStoreDevice


def build() -> Target:
    return reference_with("device links also trust the default store", tls=DefaultStoreTls())
