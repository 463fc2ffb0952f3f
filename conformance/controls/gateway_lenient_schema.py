"""Unknown request fields are silently dropped instead of refused: a "tolerant reader" in front of the routes
strips every field it does not know, so clients (and attackers) get no signal and future fields of the same
name would be trusted."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-004",)
KNOWN = {"username", "challenge_id", "A", "M", "refresh_token", "value", "ttl_seconds", "salt", "verifier"}


class DropUnknownFields:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if isinstance(document, dict) and set(document) - KNOWN:
            body = json.dumps({k: v for k, v in document.items() if k in KNOWN}).encode()
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class LenientGateway(ReferenceGateway):
    def app(self, runtime: GatewayRuntime) -> ASGIApp:
        return DropUnknownFields(super().app(runtime))


def build() -> Target:
    return reference_with("unknown request fields ignored", gateway=LenientGateway(consent=ReferenceConsent()))
