"""The gateway runs behind uvicorn's proxy-headers middleware trusting every peer, so the client chooses the
address its failures count against with ``X-Forwarded-For``: a new header value is a fresh address budget."""

from __future__ import annotations

from typing import cast

from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-003",)


class ForwardedForGateway(ReferenceGateway):
    def app(self, runtime: GatewayRuntime) -> ASGIApp:
        proxied = ProxyHeadersMiddleware(super().app(runtime), trusted_hosts="*")  # type: ignore[arg-type]
        return cast(ASGIApp, proxied)


def build() -> Target:
    return reference_with("X-Forwarded-For trusted for the client address",
                          gateway=ForwardedForGateway(consent=ReferenceConsent()))
