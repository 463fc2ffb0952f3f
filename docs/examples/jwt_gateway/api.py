"""The HTTP API (FastAPI). docs/gateway.md's routes, except that login is ``POST /v1/auth/login`` with the
password in the body (TLS protects it in transit; Argon2id at rest).

Input handling, strict on purpose: no route takes a query string; bodies must be ``application/json`` in UTF-8
and parse without duplicate keys or NaN (``read_json``) before the route's pydantic model sees them; a route
without a body refuses one; path parameters have patterns. FastAPI's own validation answer (a 422 that echoes
the input) is replaced by a 400 naming the field and the rule only. Every error is ``{"error", "detail"}``; a 401
carries ``WWW-Authenticate``, a 429 ``Retry-After``.

Password checks are synchronous routes (FastAPI runs them in its thread pool), so an Argon2 check never stalls
the event loop that serves everyone else.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from aico_secure.target.consent import OPERATIONS, Actor, ConsentService, Grant, Operation
from aico_secure.target.errors import AccessDenied

from .hardening import BodyGuard, SecureHeaders
from .models import CATEGORY, OPERATION, RECORD_KEY, GrantBody, LoginBody, RefreshBody, ValueBody
from .runtime import Runtime
from .tokens import ACCESS, Pair, RefreshReused, TokenRefused

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
STATUS_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 408: "request_timeout", 409: "conflict", 413: "payload_too_large",
                415: "unsupported_media_type", 429: "too_many_requests", 500: "server_error",
                503: "service_unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.retry_after = status, detail, retry_after


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="jwt-gateway", error="invalid_token"'
    return JSONResponse({"error": STATUS_CODES.get(status, "error"), "detail": detail}, status_code=status,
                        headers=headers)


def _where(location: tuple[Any, ...]) -> str:
    parts = [str(p)[:64] for p in location if p not in ("body", "path")]
    return "field '" + ".".join(parts) + "'" if parts else "body"


def _described(errors: list[Any]) -> str:
    """The first problem, by field and rule; never the submitted value."""
    first = errors[0] if errors else {}
    return f"{_where(tuple(first.get('loc', ())))}: {first.get('type', 'invalid')}"


# ---- input ---------------------------------------------------------------------------------------------------
def _no_query(request: Request) -> None:
    if request.url.query:
        raise ApiError(400, "query parameters are not accepted")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ApiError(400, f"field '{key[:64]}' appears twice")
        document[key] = value
    return document


def _not_json(name: str) -> None:
    raise ApiError(400, f"{name} is not JSON")


def read_json(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "body is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise ApiError(400, "body starts with a byte-order mark")
    try:
        document = json.loads(text, object_pairs_hook=_pairs, parse_constant=_not_json)
        json.dumps(document, ensure_ascii=False).encode("utf-8")  # lone surrogates cannot be stored or echoed
    except ApiError:
        raise
    except (ValueError, RecursionError):
        raise ApiError(400, "body is not valid JSON") from None
    if not isinstance(document, dict):
        raise ApiError(400, "body must be a JSON object")
    return document


def body_of(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    async def parse(request: Request) -> M:
        _no_query(request)
        media, _, parameters = request.headers.get("content-type", "").partition(";")
        charset = parameters.partition("charset=")[2].strip().strip('"').lower()
        if media.strip().lower() != "application/json" or charset not in ("", "utf-8", "utf8"):
            raise ApiError(415, "body must be application/json in UTF-8")
        try:
            return model.model_validate(read_json(await request.body()))
        except ValidationError as exc:
            raise ApiError(400, _described(exc.errors(include_input=False))) from None

    return parse


async def no_input(request: Request) -> None:
    _no_query(request)
    if await request.body():
        raise ApiError(400, "this route takes no body")


def access_claims(request: Request) -> dict[str, Any]:
    """The claims of the request's access token (``Authorization: Bearer``), or a 401."""
    runtime: Runtime = request.app.state.runtime
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip() or " " in credential.strip():
        raise ApiError(401, "a bearer access token is required")
    try:
        return runtime.tokens.decode(credential.strip(), ACCESS)
    except TokenRefused as exc:
        raise ApiError(401, str(exc)) from None


def address(request: Request) -> str:
    """The connection's peer: what lockouts count by (never a header the client sends)."""
    return request.client.host if request.client else "unknown"


def pair(tokens: Pair) -> dict[str, Any]:
    return {"token_type": "Bearer", "access_token": tokens.access, "refresh_token": tokens.refresh,
            "expires_in": tokens.access_ttl, "refresh_expires_in": tokens.refresh_ttl}


Claims = Annotated[dict[str, Any], Depends(access_claims)]
Category = Annotated[str, Path(pattern=CATEGORY)]
RecordKey = Annotated[str, Path(pattern=RECORD_KEY)]
OperationName = Annotated[str, Path(pattern=OPERATION)]


def build_app(rt: Runtime, cors: dict[str, Any] | None) -> ASGIApp:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, redirect_slashes=False)
    app.state.runtime = rt

    # ---- errors ----------------------------------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.detail, {"Retry-After": str(exc.retry_after)} if exc.retry_after else None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error(400, _described(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(exc.status_code, {404: "no such route", 405: "method not allowed"}.get(exc.status_code,
                                                                                              "request refused"))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        return _error(500, "internal error")

    NoInput = Depends(no_input)

    # ---- authentication --------------------------------------------------------------------------------------
    @app.get("/v1/health", dependencies=[NoInput])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/auth/login")
    def login(request: Request, body: Annotated[LoginBody, Depends(body_of(LoginBody))]) -> dict[str, Any]:
        source = address(request)
        with rt.lockouts.gate():
            refused = rt.lockouts.refusal(body.username, source)
            if refused is not None:
                rt.trail.record("login", source, body.username, "denied", reason=f"{refused.kind}_locked")
                raise ApiError(429, "too many failed logins; try again later", retry_after=refused.seconds)
            if not rt.passwords.check(body.username, body.password):
                locks = rt.lockouts.failed(body.username, source)
                rt.trail.record("login", source, body.username, "failure", reason="bad_credentials")
                for lock in locks:
                    rt.trail.record("lockout", source, body.username, "denied", kind=lock.kind, seconds=lock.seconds)
                raise ApiError(401, "wrong user name or password")
            rt.lockouts.succeeded(body.username)
        tokens = rt.tokens.issue(body.username)
        rt.trail.record("login", source, body.username, "success", reason="password", token=tokens.access)
        return pair(tokens)

    @app.post("/v1/auth/refresh")
    def refresh(request: Request, body: Annotated[RefreshBody, Depends(body_of(RefreshBody))]) -> dict[str, Any]:
        source = address(request)
        try:
            found, tokens = rt.tokens.refresh(body.refresh_token)
        except RefreshReused as exc:
            rt.trail.record("token_revoke", source, exc.subject, "success", reason="refresh_reuse",
                            token=body.refresh_token)
            raise ApiError(401, str(exc)) from None
        except TokenRefused as exc:
            rt.trail.record("token_refresh", source, "(unknown)", "failure", reason="refused",
                            token=body.refresh_token)
            raise ApiError(401, str(exc)) from None
        rt.trail.record("token_refresh", source, str(found["sub"]), "success", reason="rotated",
                        token=body.refresh_token)
        return pair(tokens)

    @app.post("/v1/auth/logout", status_code=204, dependencies=[NoInput])
    def logout(request: Request, who: Claims) -> Response:
        rt.tokens.revoke(str(who["sid"]))
        rt.trail.record("token_revoke", address(request), str(who["sub"]), "success", reason="logout",
                        token=request.headers["authorization"].partition(" ")[2].strip())
        return Response(status_code=204)

    @app.get("/v1/me", dependencies=[NoInput])
    def me(who: Claims) -> dict[str, Any]:
        return {"username": who["sub"], "expires_at": who["exp"]}

    # ---- data and consent: every access goes through the consent service -------------------------------------
    def consent_for(who: dict[str, Any], category: str | None) -> tuple[ConsentService, Actor]:
        if rt.consent is None:
            raise ApiError(503, "no consent service: data routes are closed")
        if category is not None and category not in rt.consent.categories():
            raise ApiError(400, "field 'category': unknown category")
        return rt.consent, Actor("user:" + str(who["sub"]), "user_data")

    @app.get("/v1/data/{category}/{key}", dependencies=[NoInput])
    def data_get(category: Category, key: RecordKey, who: Claims) -> dict[str, str]:
        consent, actor = consent_for(who, category)
        value = _consented(lambda: consent.read(actor, category, key))
        if value is None:
            raise ApiError(404, "no such record")
        return {"value": value.decode("utf-8", "replace")}

    @app.put("/v1/data/{category}/{key}", status_code=204)
    def data_put(category: Category, key: RecordKey, who: Claims,
                 body: Annotated[ValueBody, Depends(body_of(ValueBody))]) -> Response:
        consent, actor = consent_for(who, category)
        _consented(lambda: consent.write(actor, category, key, body.value.encode()))
        return Response(status_code=204)

    @app.delete("/v1/data/{category}/{key}", status_code=204, dependencies=[NoInput])
    def data_delete(category: Category, key: RecordKey, who: Claims) -> Response:
        consent, actor = consent_for(who, category)
        _consented(lambda: consent.delete(actor, category, key))
        return Response(status_code=204)

    @app.get("/v1/consent/grants", dependencies=[NoInput])
    def grants(who: Claims) -> dict[str, Any]:
        consent, actor = consent_for(who, None)
        return {"grants": [_grant(g) for g in consent.active_grants(actor.id)]}

    @app.put("/v1/consent/grants/{category}/{operation}", status_code=201)
    def grant(category: Category, operation: OperationName, who: Claims,
              body: Annotated[GrantBody, Depends(body_of(GrantBody))]) -> dict[str, Any]:
        consent, actor = consent_for(who, category)
        made = _consented(lambda: consent.grant(actor, actor, category, _operation(operation),
                                                ttl_seconds=float(body.ttl_seconds)))
        return _grant(made)

    @app.delete("/v1/consent/grants/{category}/{operation}", status_code=204, dependencies=[NoInput])
    def revoke(category: Category, operation: OperationName, who: Claims) -> Response:
        consent, actor = consent_for(who, category)
        _consented(lambda: consent.revoke(actor, actor.id, category, _operation(operation)))
        return Response(status_code=204)

    app.add_middleware(BodyGuard, max_bytes=rt.settings.max_body_bytes, timeout=rt.settings.body_timeout)
    if cors is not None:
        app.add_middleware(CORSMiddleware, **cors)
    return SecureHeaders(app)


def _operation(name: str) -> Operation:
    for operation in OPERATIONS:
        if operation == name:
            return operation
    raise ApiError(400, "field 'operation': unknown operation")


def _grant(grant: Grant) -> dict[str, Any]:
    return {"category": grant.category, "operation": grant.operation, "granted_at": grant.granted_at,
            "expires_at": grant.expires_at}


def _consented(action: Callable[[], T]) -> T:
    try:
        return action()
    except AccessDenied:
        raise ApiError(403, "no live consent grant for this category and operation") from None
    except ValueError:
        raise ApiError(400, "the consent service refused the request as malformed") from None
