"""The request-head limit is declared (16 KiB, from the configuration) but the server is started with a
different set of connection limits whose head limit is 256 KiB: the declared number is never applied."""

from __future__ import annotations

import dataclasses
import ssl

from starlette.types import ASGIApp

from aico_secure.gateway.server import GatewayServer
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-004",)


class LooseHeadGateway(ReferenceGateway):
    def server(self, app: ASGIApp, context: ssl.SSLContext) -> GatewayServer:
        loose = dataclasses.replace(self.config.connections, max_header_bytes=256 * 1024)
        return GatewayServer(app, context, limits=loose)


def build() -> Target:
    return reference_with("declared head limit not applied", gateway=LooseHeadGateway(consent=ReferenceConsent()))
