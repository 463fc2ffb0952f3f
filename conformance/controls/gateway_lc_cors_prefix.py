"""The CORS allowlist is matched by prefix: ``https://app.example.com.evil`` (any host that starts like an
allowed origin) gets the allowed origin's access."""

from __future__ import annotations

import dataclasses

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-005",)
ALLOWED = ("https://app.example.com",)


class PrefixCORSMiddleware(CORSMiddleware):
    def is_allowed_origin(self, origin: str) -> bool:
        return any(origin.startswith(allowed) for allowed in self.allow_origins)


class PrefixCorsGateway(ReferenceGateway):
    def app(self, runtime: GatewayRuntime) -> ASGIApp:
        declared = runtime.config
        runtime.config = dataclasses.replace(declared, cors_origins=())
        try:
            inner = super().app(runtime)
        finally:
            runtime.config = declared
        return PrefixCORSMiddleware(inner, allow_origins=list(declared.cors_origins),
                                    allow_methods=["GET", "PUT", "POST", "DELETE"],
                                    allow_headers=["authorization", "content-type"])


def build() -> Target:
    return reference_with("CORS allowlist matched by prefix",
                          gateway=PrefixCorsGateway(GatewayConfig(cors_origins=ALLOWED), consent=ReferenceConsent()))
