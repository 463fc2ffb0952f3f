"""The request-body timeout is configured (``ConnectionLimits.body_timeout``) but the body-limit wrapper is built
without it: a request whose body stalls after its head holds its connection and a request slot for ever, and a
few dozen of them lock every client out."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.types import ASGIApp

from aico_secure.gateway.middleware import BodyLimit, InFlightLimit, SecurityHeaders
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-004",)


class NoBodyTimeoutGateway(ReferenceGateway):
    def app(self, runtime: GatewayRuntime) -> ASGIApp:
        inner: ASGIApp = super().app(runtime)
        while not isinstance(inner, Starlette):
            inner = inner.app  # type: ignore[attr-defined]
        return SecurityHeaders(InFlightLimit(BodyLimit(inner, runtime.config.max_body_bytes),
                                             runtime.config.connections.max_in_flight))


def build() -> Target:
    return reference_with("body timeout configured but not applied",
                          gateway=NoBodyTimeoutGateway(consent=ReferenceConsent()))
