"""The gateway served with its HTTP server's defaults: uvicorn doing TLS itself (60 s handshake timeout, sockets
counted only after TLS), its default parser (httptools: no request-head size limit, however
``h11_max_incomplete_event_size`` is set), no time limit on a request head, and its own concurrency limit, which
answers a plain-text 503 to everyone once one client holds enough idle connections and, like its 400s, carries
none of the gateway's security headers."""

from __future__ import annotations

import ssl
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from aico_secure.gateway.server import GatewayServer
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-004", "AICO-GW-005")


class DefaultsServer(GatewayServer):
    def _config(self) -> uvicorn.Config:
        context = self._ssl

        def factory(config: Any, default: Any) -> ssl.SSLContext:
            return context

        return uvicorn.Config(self._app, ssl_context_factory=factory, lifespan="off", log_level="warning",
                              access_log=False, server_header=False, proxy_headers=False, timeout_keep_alive=5,
                              timeout_graceful_shutdown=3, limit_concurrency=256, h11_max_incomplete_event_size=16384)


class DefaultsGateway(ReferenceGateway):
    def server(self, app: ASGIApp, context: ssl.SSLContext) -> GatewayServer:
        return DefaultsServer(app, context)


def build() -> Target:
    return reference_with("gateway on its HTTP server's defaults", gateway=DefaultsGateway(consent=ReferenceConsent()))
