"""ASGI wrappers applied outermost, so nothing inside can bypass them.

``SecurityHeaders`` adds the default headers to every response, including the framework's own 404/405/500s,
and drops the ``server`` header; a failure before any response is answered with a JSON 500 here (uvicorn's own
500 would lack the headers). ``BodyLimit`` refuses a body over the limit with a JSON 413 before the
application sees a byte of it: by declared ``Content-Length`` at once, and by counting for chunked bodies; a
body that does not arrive in full within its timeout is a JSON 408, so a request trickling its body cannot hold
a connection (and a request slot) for ever. (Starlette's own ``max_body_size`` answers in plain text and
replaces any response once a declared length is too big, which would break the API's one error format.)
``InFlightLimit`` caps the requests served at once with a JSON 503 and ``Retry-After``: the gateway's own
answer (with the security headers) instead of uvicorn's plain-text one, whose ``limit_concurrency`` is off.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"()"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != b"server"]
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # uvicorn would answer a failure before any response with its own plain-text 500, without these
            # headers: answer it here, the API's way, then let uvicorn log the error.
            if not started:
                await send_error(send_with_headers, 500, "server_error", "internal error")
            raise


def json_error(status: int, code: str, detail: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"error": code, "detail": detail}).encode()
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())], body


async def send_error(send: Send, status: int, code: str, detail: str, *, close: bool = True,
                     extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    headers, body = json_error(status, code, detail)
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": [*headers, *extra]})
    await send({"type": "http.response.body", "body": body})


class InFlightLimit:
    def __init__(self, app: ASGIApp, max_in_flight: int, retry_after: int = 1) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.retry_after = retry_after
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await send_error(send, 503, "service_unavailable", "too many requests in progress; try again later",
                             close=False, extra=((b"retry-after", str(self.retry_after).encode()),))
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def _refuse(self, send: Send) -> None:
        await send_error(send, 413, "payload_too_large", f"body exceeds {self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        # Read the whole (bounded) body first, then replay it: the app never sees part of an oversize body.
        chunks: list[bytes] = []
        size, more = 0, True
        deadline = None if self.timeout is None else asyncio.get_running_loop().time() + self.timeout
        while more:
            try:
                message = await asyncio.wait_for(receive(), None if deadline is None
                                                 else max(0.0, deadline - asyncio.get_running_loop().time()))
            except TimeoutError:
                await send_error(send, 408, "request_timeout", f"body not received within {self.timeout} s")
                return
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
