"""CORS reflects any Origin with credentials allowed: a "make the web UI work" shortcut that lets every web
page a user visits call the gateway with the user's credentials."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-005",)


class ReflectOrigin:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = dict(scope.get("headers", [])).get(b"origin") if scope["type"] == "http" else None

        async def send_with_cors(message: Message) -> None:
            if origin is not None and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"access-control-allow-origin", origin),
                                                  (b"access-control-allow-credentials", b"true")]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


class ReflectingGateway(ReferenceGateway):
    def app(self, runtime: GatewayRuntime) -> ASGIApp:
        return ReflectOrigin(super().app(runtime))


def build() -> Target:
    return reference_with("CORS reflects any origin with credentials",
                          gateway=ReflectingGateway(consent=ReferenceConsent()))
