"""The device client validates the certificate chain and host name but never checks the pinned key."""

from __future__ import annotations

import socket
import ssl

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.errors import HandshakeError
from aico_secure.transport.sync import Peer, SyncDevice
from aico_secure.transport.sync.device import CLIENT_TIMEOUT

from ._base import reference_with

BREAKS = ("AICO-TLS-002",)


class UnpinnedDevice(SyncDevice):
    def _connect(self, peer: Peer) -> ssl.SSLSocket:
        try:
            raw = socket.create_connection((peer.host, peer.port), timeout=CLIENT_TIMEOUT)
            return self._client_context(peer).wrap_socket(raw, server_hostname=peer.server_name)
        except (OSError, ssl.SSLError) as exc:
            raise HandshakeError(f"handshake failed: {type(exc).__name__}") from None


class Unpinned(ReferenceTls):
    device_class = UnpinnedDevice


def build() -> Target:
    return reference_with("no certificate pinning on device links", tls=Unpinned())
