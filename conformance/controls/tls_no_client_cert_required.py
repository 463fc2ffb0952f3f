"""The sync server asks for a client certificate but serves clients that present none (CERT_OPTIONAL)."""

from __future__ import annotations

import ssl

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.sync import SyncDevice

from ._base import reference_with

BREAKS = ("AICO-TLS-004",)


class OptionalCertDevice(SyncDevice):
    def _server_context(self) -> ssl.SSLContext:
        ctx = super()._server_context()
        ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx


class OptionalCert(ReferenceTls):
    device_class = OptionalCertDevice


def build() -> Target:
    return reference_with("client certificate optional on sync", tls=OptionalCert())
