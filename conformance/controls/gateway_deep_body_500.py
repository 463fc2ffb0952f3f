"""An access-log middleware in front of the routes parses each JSON body to log its field names, catching only
``ValueError``: a body nested deeper than the JSON decoder's recursion limit raises ``RecursionError`` there,
and the client gets a 500 instead of the 400 the validation layer would have answered."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-004",)


class FieldLogging:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen_fields: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def logging_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._log_fields(b"".join(chunks))
            return message

        await self.app(scope, logging_receive, send)

    def _log_fields(self, body: bytes) -> None:
        try:
            document = json.loads(body) if body else None
        except ValueError:  # the planted fault: RecursionError is not a ValueError and escapes as a 500
            document = None
        if isinstance(document, dict):
            for name in document:
                self.seen_fields[str(name)[:32]] = self.seen_fields.get(str(name)[:32], 0) + 1


class FieldLoggingGateway(ReferenceGateway):
    def app(self, runtime: GatewayRuntime) -> ASGIApp:
        return FieldLogging(super().app(runtime))


def build() -> Target:
    return reference_with("gateway answers 500 on a deeply nested body",
                          gateway=FieldLoggingGateway(consent=ReferenceConsent()))
