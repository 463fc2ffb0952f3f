"""The gateway also speaks TLS 1.2: its server context's minimum version was lowered "for old clients", so a
downgrade to 1.2 (and its weaker suites and handshake) is possible."""

from __future__ import annotations

import ssl

from starlette.types import ASGIApp

from aico_secure.gateway import tls_identity
from aico_secure.gateway.server import GatewayServer
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-005",)


class LenientServer(GatewayServer):
    @staticmethod
    def check_context(ssl_context: ssl.SSLContext) -> None:
        return None


class Tls12Gateway(ReferenceGateway):
    def ssl_context(self, tls: tls_identity.GatewayTls) -> ssl.SSLContext:
        context = super().ssl_context(tls)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def server(self, app: ASGIApp, context: ssl.SSLContext) -> GatewayServer:
        return LenientServer(app, context)


def build() -> Target:
    return reference_with("gateway accepts TLS 1.2", gateway=Tls12Gateway(consent=ReferenceConsent()))
