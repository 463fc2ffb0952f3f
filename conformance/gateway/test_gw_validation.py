"""Request validation (AICO-GW-004): every route of the API (docs/gateway.md) refuses what its schema does not
allow with a 4xx and a JSON error naming the problem without echoing the value, and the server stays up.

Each route is first called with a valid request (real challenge ids and tokens), to prove the malformed
variants are refused by validation and not by something else.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from aico_secure.target.gateway import RunningGateway

from . import steps
from .gwclient import SuiteClient

VALIDATION_STATUSES = {400, 413, 415, 422}
CATEGORY = "profile"


@dataclass
class Ctx:
    gateway: RunningGateway
    client: SuiteClient
    access: str
    refresh: str
    user: str
    password: str


@pytest.fixture
def ctx(shared_gateway: RunningGateway, password: str, new_user: Callable[[], str]) -> Iterator[Ctx]:
    user = new_user()
    shared_gateway.register(user, password)
    with SuiteClient(shared_gateway) as client:
        login = client.login(user, password, honour_short_retry=True)
        assert login.status == 200, f"login failed: {login.status} {login.body}"
        yield Ctx(shared_gateway, client, str(login.access_token), str(login.refresh_token), user, password)


def _challenge_id(c: Ctx) -> str:
    response, body = c.client.challenge(c.user)
    assert response.status_code == 200, f"challenge failed: {response.status_code}"
    return str(body["challenge_id"])


@dataclass
class BodyRoute:
    method: str
    path: str
    auth: bool
    template: Callable[[Ctx], dict[str, Any]]


BODY_ROUTES = {
    "challenge": BodyRoute("POST", "/v1/auth/challenge", False, lambda c: {"username": c.user}),
    "verify": BodyRoute("POST", "/v1/auth/verify", False,
                        lambda c: {"challenge_id": _challenge_id(c), "A": "0f" * 64, "M": "ab" * 32}),
    "refresh": BodyRoute("POST", "/v1/auth/refresh", False, lambda c: {"refresh_token": c.refresh}),
    "data_put": BodyRoute("PUT", f"/v1/data/{CATEGORY}/note", True, lambda c: {"value": "hello"}),
    "grant_put": BodyRoute("PUT", f"/v1/consent/grants/{CATEGORY}/read", True, lambda c: {"ttl_seconds": 60}),
}


def _route(c: Ctx, name: str) -> BodyRoute:
    """The route ``name`` as this gateway serves it: a build with its own login has its login route in place of
    both steps of the documented SRP-6a exchange."""
    if name in ("challenge", "verify") and not steps.is_srp(c.gateway):
        entry = steps.entry_route(c.gateway, c.user, c.password)
        return BodyRoute(entry.method, entry.path, False, lambda _c: dict(entry.body))
    return BODY_ROUTES[name]


def _send(c: Ctx, route: BodyRoute, content: bytes, content_type: str = "application/json") -> Any:
    return c.client.request(route.method, route.path, token=c.access if route.auth else None, content=content,
                            headers={"content-type": content_type})


def _dump(body: object) -> bytes:
    return json.dumps(body).encode()


def _cases(c: Ctx, route: BodyRoute, canary: str) -> Iterator[tuple[str, bytes, str]]:
    """(name, body bytes, content type) of every malformed variant of ``route``'s valid request."""
    valid = route.template(c)
    yield "unknown field", _dump({**valid, "unexpected_field": canary}), "application/json"
    for field in valid:
        for wrong in (12345, [canary], {"nested": canary}, None, True):
            if type(wrong) is type(valid[field]):
                continue
            yield f"{field} as {type(wrong).__name__}", _dump({**valid, field: wrong}), "application/json"
        yield f"missing {field}", _dump({k: v for k, v in valid.items() if k != field}), "application/json"
    first = next(iter(valid))
    limit = c.gateway.policy.max_body_bytes
    yield "oversize", _dump({**valid, first: "a" * (limit + 1)}), "application/json"
    yield "bad utf-8", _dump(valid)[:-2] + b"\xff\xfe\"}", "application/json"
    yield "bad json", _dump(valid)[:-1], "application/json"
    yield "not an object", _dump([valid]), "application/json"
    text = _dump(valid).decode()
    rest = _dump({k: v for k, v in valid.items() if k != first}).decode()
    yield "duplicate key", ("{" + json.dumps(first) + ": " + json.dumps(canary) + ", " + text[1:]).encode(), \
        "application/json"
    yield "NaN", ("{" + json.dumps(first) + ": NaN" + (", " + rest[1:] if rest != "{}" else "}")).encode(), \
        "application/json"
    # Deeper than any decoder's recursion limit, yet well within the body limit: refused like any other
    # malformed body, never a 500 from whatever layer parses it first.
    depth = max(1, min(20_000, (limit - len(text)) // 2 - 16))
    yield "deeply nested array", ("{" + json.dumps(first) + ": " + "[" * depth + "]" * depth
                                  + (", " + rest[1:] if rest != "{}" else "}")).encode(), "application/json"
    yield "deeply nested object", ('{"a":' * depth + "1" + "}" * depth).encode(), "application/json"
    digits = max(1, min(50_000, limit - len(text) - 64))
    yield "huge number", ("{" + json.dumps(first) + ": 1" + "0" * digits
                          + (", " + rest[1:] if rest != "{}" else "}")).encode(), "application/json"
    yield "wrong media type", _dump(valid), "text/plain"
    yield "form encoded", f"{first}={canary}".encode(), "application/x-www-form-urlencoded"


def _check_refusal(response: Any, case: str, canary: str) -> None:
    assert response.status_code in VALIDATION_STATUSES, f"{case}: answered {response.status_code}"
    try:
        error = response.json()
    except ValueError:
        error = None
    assert isinstance(error, dict) and isinstance(error.get("error"), str) and error["error"] \
        and isinstance(error.get("detail"), str) and error["detail"], \
        f"{case}: the refusal is not a JSON error with 'error' and 'detail'"
    assert canary not in response.text, f"{case}: the error message echoes the submitted value"


@pytest.mark.requirement("AICO-GW-004")
@pytest.mark.parametrize("name", sorted(BODY_ROUTES))
def test_body_route_refuses_malformed_requests(ctx: Ctx, name: str, evidence: Callable[[str, object], None]) -> None:
    route = _route(ctx, name)
    canary = "CANARY-" + secrets.token_hex(8)
    baseline = _send(ctx, route, _dump(route.template(ctx)))
    assert baseline.status_code not in VALIDATION_STATUSES and baseline.status_code < 500, \
        f"the valid request to {route.path} was answered {baseline.status_code}: the test would prove nothing"
    checked = 0
    for case, body, content_type in _cases(ctx, route, canary):
        _check_refusal(_send(ctx, route, body, content_type), f"{name}/{case}", canary)
        checked += 1
    assert ctx.client.request("GET", "/v1/health").status_code == 200, "the gateway is down after malformed requests"
    evidence(f"{name} malformed variants refused", checked)


NO_BODY_ROUTES = {
    "health": ("GET", "/v1/health", False),
    "me": ("GET", "/v1/me", True),
    "logout": ("POST", "/v1/auth/logout", True),
    "data_get": ("GET", f"/v1/data/{CATEGORY}/note", True),
    "data_delete": ("DELETE", f"/v1/data/{CATEGORY}/note", True),
    "grants_get": ("GET", "/v1/consent/grants", True),
    "grant_delete": ("DELETE", f"/v1/consent/grants/{CATEGORY}/read", True),
}


@pytest.mark.requirement("AICO-GW-004")
@pytest.mark.parametrize("name", sorted(NO_BODY_ROUTES))
def test_bodiless_route_refuses_extra_input(ctx: Ctx, name: str) -> None:
    """A route without a body takes none, and no route takes query parameters: extra input is refused, not
    ignored."""
    method, path, auth = NO_BODY_ROUTES[name]
    token = ctx.access if auth else None
    canary = "CANARY-" + secrets.token_hex(8)
    response = ctx.client.request(method, f"{path}?unexpected={canary}", token=token)
    _check_refusal(response, f"{name}/query parameter", canary)
    response = ctx.client.request(method, path, token=token, content=json.dumps({"x": canary}).encode(),
                                  headers={"content-type": "application/json"})
    _check_refusal(response, f"{name}/unexpected body", canary)
    baseline = ctx.client.request(method, path, token=token)
    assert baseline.status_code not in VALIDATION_STATUSES and baseline.status_code < 500, \
        f"the valid request to {path} was answered {baseline.status_code}"


@pytest.mark.requirement("AICO-GW-004")
@pytest.mark.parametrize("path", [
    f"/v1/data/{CATEGORY}/" + "k" * 300,
    "/v1/data/" + "c" * 300 + "/note",
    f"/v1/data/{CATEGORY}/bad%00key",
    f"/v1/data/{CATEGORY}/%E2%80%AEkey",
    f"/v1/consent/grants/{CATEGORY}/execute",
], ids=["long-key", "long-category", "nul-in-key", "bidi-in-key", "unknown-operation"])
def test_path_parameters_are_validated(ctx: Ctx, path: str) -> None:
    method = "PUT" if path.startswith("/v1/consent") else "GET"
    content = json.dumps({"ttl_seconds": 60}).encode() if method == "PUT" else None
    response = ctx.client.request(method, path, token=ctx.access, content=content,
                                  headers={"content-type": "application/json"} if content else {})
    assert 400 <= response.status_code < 500 and response.status_code not in (401, 403), \
        f"{path[:60]} was answered {response.status_code}"
    assert ctx.client.request("GET", "/v1/health").status_code == 200
