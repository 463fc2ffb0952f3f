"""The gateway's HTTP API (Starlette). docs/gateway.md is the contract; this module implements it.

Routes are thin: each validates its input against its schema (``schemas``), calls one service, and maps the
service's typed refusals to a status code. Every error is JSON ``{"error": code, "detail": message}``; 429s
carry ``Retry-After``; 401s carry ``WWW-Authenticate``. ``SecurityHeaders`` wraps the whole application, so
even the framework's own errors get the default headers; the errors the HTTP layer answers before any
application code runs (malformed request, oversize head) get them from ``protocol``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from aico_secure.gateway import schemas
from aico_secure.gateway.errors import RefreshReplayed, SrpError, TokenRejected, UserExistsError
from aico_secure.gateway.middleware import BodyLimit, InFlightLimit, SecurityHeaders
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.gateway.srp import DEFAULT_GROUP
from aico_secure.gateway.tokens import TokenClaims, TokenPair
from aico_secure.gateway.validation import RequestRejected, json_body, no_body, path_params
from aico_secure.target.consent import OPERATIONS, Actor, ConsentService, Grant, Operation
from aico_secure.target.errors import AccessDenied

Handler = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")
USER_PREFIX = "user:"  # consent actor id of an authenticated gateway user


def _error(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _rejected(exc: RequestRejected) -> JSONResponse:
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="aico"'
    return _error(exc.status, exc.code, exc.detail, headers)


_HTTP_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 408: "request_timeout",
               413: "payload_too_large", 431: "request_header_fields_too_large", 503: "service_unavailable"}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return _error(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> Response:
    return _error(500, "server_error", "internal error")


def _token_response(tokens: TokenPair, **extra: Any) -> JSONResponse:
    return JSONResponse({**extra, "token_type": "Bearer", "access_token": tokens.access,
                         "refresh_token": tokens.refresh, "expires_in": tokens.access_expires_in,
                         "refresh_expires_in": tokens.refresh_expires_in})


def _bearer(request: Request) -> str:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credential or " " in credential.strip():
        raise RequestRejected(401, "unauthorized", "missing or malformed bearer token")
    return credential.strip()


class GatewayApi:
    """The route handlers of one runtime."""

    def __init__(self, runtime: GatewayRuntime) -> None:
        self.rt = runtime

    def address(self, request: Request) -> str:
        client = request.client
        return self.rt.client_address(client.host, client.port) if client else "unknown"

    def authenticate(self, request: Request) -> TokenClaims:
        try:
            claims = self.rt.tokens.verify(_bearer(request), "access")
        except TokenRejected as exc:
            raise RequestRejected(401, "unauthorized", str(exc)) from None
        wait = self.rt.rates.api_call(claims.sub)
        if wait:
            raise RequestRejected(429, "too_many_requests", "request rate exceeded", retry_after=wait)
        return claims

    async def health(self, request: Request) -> Response:
        await no_body(request)
        return JSONResponse({"status": "ok"})

    async def register(self, request: Request) -> Response:
        body = await json_body(request, schemas.REGISTER)
        address = self.address(request)
        if not self.rt.is_enrolment_token(_bearer(request)):
            self.rt.audit.enrol(body["username"], address, "denied", "bad_enrolment_credential")
            wait = self.rt.rates.address_attempt(address)  # only refused attempts spend the budget
            if wait:
                raise RequestRejected(429, "too_many_requests", "too many enrolment requests", retry_after=wait)
            raise RequestRejected(401, "unauthorized", "enrolment needs the gateway's enrolment credential")
        try:
            self.rt.state.users.enrol(body["username"], DEFAULT_GROUP, bytes.fromhex(body["salt"]),
                                      int(body["verifier"], 16))
        except UserExistsError as exc:
            self.rt.audit.enrol(body["username"], address, "failure", "exists")
            raise RequestRejected(409, "conflict", str(exc)) from None
        except SrpError as exc:
            raise RequestRejected(400, "invalid_request", str(exc)) from None
        self.rt.audit.enrol(body["username"], address, "success", "verifier")
        return JSONResponse({"username": body["username"]}, status_code=201)

    async def challenge(self, request: Request) -> Response:
        body = await json_body(request, schemas.CHALLENGE)
        found = self.rt.login.challenge(body["username"], self.address(request))
        return JSONResponse({"challenge_id": found.challenge_id, "salt": found.salt.hex(),
                             "B": format(found.server_public, "x"), "group": DEFAULT_GROUP.name,
                             "hash": DEFAULT_GROUP.hash_name})

    async def verify(self, request: Request) -> Response:
        body = await json_body(request, schemas.VERIFY)
        result = self.rt.login.verify(body["challenge_id"], int(body["A"], 16), bytes.fromhex(body["M"]),
                                      self.address(request))
        return _token_response(result.tokens, server_proof=result.server_proof.hex())

    async def refresh(self, request: Request) -> Response:
        body = await json_body(request, schemas.REFRESH)
        address = self.address(request)
        wait = self.rt.rates.address_attempt(address)
        if wait:
            raise RequestRejected(429, "too_many_requests", "too many refresh requests", retry_after=wait)
        try:
            claims, tokens = self.rt.tokens.refresh(body["refresh_token"])
        except RefreshReplayed as exc:
            self.rt.audit.token("token_revoke", exc.subject, address, "success", "refresh_reuse")
            raise RequestRejected(401, "unauthorized", str(exc)) from None
        except TokenRejected as exc:
            self.rt.audit.token("token_refresh", "(unknown)", address, "failure", "rejected")
            raise RequestRejected(401, "unauthorized", str(exc)) from None
        self.rt.audit.token("token_refresh", claims.sub, address, "success", "rotated")
        return _token_response(tokens)

    async def logout(self, request: Request) -> Response:
        await no_body(request)
        claims = self.authenticate(request)
        self.rt.tokens.revoke_session(claims.sid)
        self.rt.audit.token("token_revoke", claims.sub, self.address(request), "success", "logout")
        return Response(status_code=204)

    async def me(self, request: Request) -> Response:
        await no_body(request)
        claims = self.authenticate(request)
        return JSONResponse({"username": claims.sub, "expires_at": claims.exp})

    # ---- data and consent: every access goes through the consent service ----------------------------------
    def _consent(self, request: Request, category: str) -> tuple[ConsentService, Actor]:
        claims = self.authenticate(request)
        if self.rt.consent is None:
            raise RequestRejected(503, "service_unavailable", "no consent service: data routes are closed")
        if category and category not in self.rt.consent.categories():
            raise RequestRejected(400, "invalid_request", "unknown data category")
        return self.rt.consent, Actor(USER_PREFIX + claims.sub, "user_data")

    async def data_get(self, request: Request) -> Response:
        params = path_params(request, schemas.DATA_PATH)
        await no_body(request)
        consent, actor = self._consent(request, params["category"])
        value = _consented(lambda: consent.read(actor, params["category"], params["key"]))
        if value is None:
            raise RequestRejected(404, "not_found", "no such record")
        return JSONResponse({"value": value.decode("utf-8", "replace")})

    async def data_put(self, request: Request) -> Response:
        params = path_params(request, schemas.DATA_PATH)
        body = await json_body(request, schemas.DATA_PUT)
        consent, actor = self._consent(request, params["category"])
        _consented(lambda: consent.write(actor, params["category"], params["key"], body["value"].encode()))
        return Response(status_code=204)

    async def data_delete(self, request: Request) -> Response:
        params = path_params(request, schemas.DATA_PATH)
        await no_body(request)
        consent, actor = self._consent(request, params["category"])
        _consented(lambda: consent.delete(actor, params["category"], params["key"]))
        return Response(status_code=204)

    async def grants_list(self, request: Request) -> Response:
        await no_body(request)
        consent, actor = self._consent(request, "")
        return JSONResponse({"grants": [_grant_json(g) for g in consent.active_grants(actor.id)]})

    async def grant_put(self, request: Request) -> Response:
        params = path_params(request, schemas.GRANT_PATH)
        body = await json_body(request, schemas.GRANT_PUT)
        consent, actor = self._consent(request, params["category"])
        operation = _operation(params["operation"])
        grant = _consented(lambda: consent.grant(actor, actor, params["category"], operation,
                                                 ttl_seconds=float(body["ttl_seconds"])))
        return JSONResponse(_grant_json(grant), status_code=201)

    async def grant_delete(self, request: Request) -> Response:
        params = path_params(request, schemas.GRANT_PATH)
        await no_body(request)
        consent, actor = self._consent(request, params["category"])
        operation = _operation(params["operation"])
        _consented(lambda: consent.revoke(actor, actor.id, params["category"], operation))
        return Response(status_code=204)


def _operation(name: str) -> Operation:
    for operation in OPERATIONS:
        if operation == name:
            return operation
    raise RequestRejected(400, "invalid_request", "field 'operation': unknown operation")


def _grant_json(grant: Grant) -> dict[str, Any]:
    return {"category": grant.category, "operation": grant.operation, "granted_at": grant.granted_at,
            "expires_at": grant.expires_at}


def _consented(action: Callable[[], T]) -> T:
    """Run one consent-guarded operation, mapping its refusals: 403 (no live grant), 400 (a request the consent
    service calls malformed)."""
    try:
        return action()
    except AccessDenied:
        raise RequestRejected(403, "forbidden", "no live consent grant for this category and operation") from None
    except ValueError:
        raise RequestRejected(400, "invalid_request", "the consent service refused the request as malformed") from None


def _guarded(handler: Handler) -> Handler:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except RequestRejected as exc:
            return _rejected(exc)

    run.__name__ = handler.__name__
    return run


def create_app(runtime: GatewayRuntime) -> ASGIApp:
    api = GatewayApi(runtime)
    routes = [
        Route("/v1/health", _guarded(api.health), methods=["GET"]),
        Route("/v1/auth/register", _guarded(api.register), methods=["POST"]),
        Route("/v1/auth/challenge", _guarded(api.challenge), methods=["POST"]),
        Route("/v1/auth/verify", _guarded(api.verify), methods=["POST"]),
        Route("/v1/auth/refresh", _guarded(api.refresh), methods=["POST"]),
        Route("/v1/auth/logout", _guarded(api.logout), methods=["POST"]),
        Route("/v1/me", _guarded(api.me), methods=["GET"]),
        Route("/v1/data/{category}/{key}", _guarded(api.data_get), methods=["GET"]),
        Route("/v1/data/{category}/{key}", _guarded(api.data_put), methods=["PUT"]),
        Route("/v1/data/{category}/{key}", _guarded(api.data_delete), methods=["DELETE"]),
        Route("/v1/consent/grants", _guarded(api.grants_list), methods=["GET"]),
        Route("/v1/consent/grants/{category}/{operation}", _guarded(api.grant_put), methods=["PUT"]),
        Route("/v1/consent/grants/{category}/{operation}", _guarded(api.grant_delete), methods=["DELETE"]),
    ]
    middleware = []
    if runtime.config.cors_origins:  # explicit origins only (config refuses "*"); none by default
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(runtime.config.cors_origins),
                                     allow_methods=["GET", "PUT", "POST", "DELETE"],
                                     allow_headers=["authorization", "content-type"], allow_credentials=False))
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: _http_error, Exception: _server_error})
    limits = runtime.config.connections
    return SecurityHeaders(InFlightLimit(BodyLimit(app, runtime.config.max_body_bytes, limits.body_timeout),
                                         limits.max_in_flight))
