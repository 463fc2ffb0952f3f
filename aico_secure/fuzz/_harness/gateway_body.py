"""Gateway request validation: a request's body (and path parameters) against its route's schema, through the
same functions the handlers call (``json_body``, ``no_body``, ``path_params``) on a real Starlette request.

The input is structured, so ``FuzzedDataProvider`` takes it apart: the route and the Content-Type come from
the last bytes, path parameters (on routes that have them) and then the body from the front. Besides the
documented refusal (``RequestRejected``), two properties are checked on everything the validator lets through,
because a handler trusts exactly that:

- a value matched by a schema ``pattern`` matches it as a whole string (Python's ``$`` also matches before a
  final newline, the published ECMA-262 schema does not);
- the handler's own conversion of the accepted values succeeds (hex to bytes and integers, the data value to
  UTF-8, the TTL to a float): anything it raises would be a 500 instead of a 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from starlette.requests import Request

from aico_secure.fuzz.interface import Harness
from aico_secure.gateway import schemas
from aico_secure.gateway.validation import RequestRejected, json_body, no_body, path_params

CONTENT_TYPES = (b"application/json", b"application/json; charset=utf-8", b'application/json;charset="UTF8"',
                 b"application/json; charset=latin-1", b"text/plain", b"")


class AcceptedBadValue(AssertionError):
    """The validator accepted a value its handler cannot use, or one its pattern does not match as a whole."""


def check_whole_patterns(validator: Draft202012Validator, document: Mapping[str, Any]) -> None:
    schema = validator.schema
    properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    for field, value in document.items():
        pattern = properties.get(field, {}).get("pattern")
        if isinstance(pattern, str) and isinstance(value, str) \
                and not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value):
            raise AcceptedBadValue(f"field {field!r} passed its schema pattern only as a prefix")


def _convert(route: str, body: dict[str, Any]) -> None:
    """What each handler does with the accepted body before any logic (gateway/app.py)."""
    if route == "register":
        bytes.fromhex(body["salt"])
        int(body["verifier"], 16)
    elif route == "verify":
        int(body["A"], 16)
        bytes.fromhex(body["M"])
    elif route == "data_put":
        body["value"].encode()
    elif route == "grant_put":
        float(body["ttl_seconds"])


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: Draft202012Validator | None  # path parameter schema, when the route has parameters
    params: tuple[str, ...]
    body: Draft202012Validator | None  # body schema; None: the route takes no body


ROUTES = (
    Route("register", "POST", None, (), schemas.REGISTER),
    Route("challenge", "POST", None, (), schemas.CHALLENGE),
    Route("verify", "POST", None, (), schemas.VERIFY),
    Route("refresh", "POST", None, (), schemas.REFRESH),
    Route("logout", "POST", None, (), None),
    Route("data_get", "GET", schemas.DATA_PATH, ("category", "key"), None),
    Route("data_put", "PUT", schemas.DATA_PATH, ("category", "key"), schemas.DATA_PUT),
    Route("grant_put", "PUT", schemas.GRANT_PATH, ("category", "operation"), schemas.GRANT_PUT),
    Route("grant_delete", "DELETE", schemas.GRANT_PATH, ("category", "operation"), None),
)


def _request(route: Route, content_type: bytes, params: dict[str, str], body: bytes) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": route.method, "path": "/", "query_string": b"", "path_params": params,
             "headers": [(b"content-type", content_type)] if content_type else []}
    return Request(scope, receive)


def _complete(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never waits (its ``receive`` returns at once) without an event loop per input."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("the request parser waited for something although the whole body was there")


def decode(data: bytes) -> tuple[Route, bytes, dict[str, str], bytes]:
    """(route, Content-Type, path parameters, body) for any bytes. Atheris is imported here, not at the top, so
    the replay in CI can load every harness from an installation without the fuzzing extra."""
    import atheris

    fdp = atheris.FuzzedDataProvider(data)
    route = ROUTES[fdp.ConsumeIntInRange(0, len(ROUTES) - 1)]
    content_type = CONTENT_TYPES[fdp.ConsumeIntInRange(0, len(CONTENT_TYPES) - 1)]
    lengths = [fdp.ConsumeIntInRange(0, 255) for _ in route.params]
    params = {name: fdp.ConsumeBytes(n).decode("utf-8", "replace") for name, n in zip(route.params, lengths,
                                                                                      strict=True)}
    return route, content_type, params, fdp.ConsumeBytes(fdp.remaining_bytes())


def encode(route: int, content_type: int, params: tuple[bytes, ...], body: bytes) -> bytes:
    """The input that ``decode`` takes apart into these values (Atheris takes integers from the end, bytes from
    the front); checked by decoding it again."""
    data = b"".join(params) + body + bytes(reversed([route, content_type, *(len(p) for p in params)]))
    decoded = decode(data)
    expected = (ROUTES[route], CONTENT_TYPES[content_type],
                {n: p.decode("utf-8", "replace") for n, p in zip(ROUTES[route].params, params, strict=True)}, body)
    if decoded != expected:
        raise ValueError("these values do not fit the input layout (a path parameter over 255 bytes?)")
    return data


class GatewayBodyHarness(Harness):
    name = "gateway_body"
    surface = "a gateway request's body and path parameters: json_body / no_body / path_params against its route"
    refusals = (RequestRejected,)
    max_len = 24 * 1024  # above the largest body any route accepts (a 16 KiB data value, escaped)
    timeout_s = 5
    rss_limit_mb = 1024
    dictionary = (b'"username":', b'"salt":', b'"verifier":', b'"challenge_id":', b'"A":', b'"M":',
                  b'"refresh_token":', b'"value":', b'"ttl_seconds":', b'"read"', b'"write"', b'"delete"', b"\\n",
                  b"\\u0000", b"\\ud800", b"\\udc00", b"\xef\xbb\xbf", b"NaN", b"Infinity", b"1e999", b"1.0",
                  b"31622400", b"31622401", b"null", b"true", b"[]", b"{}", b"aico1.", b"\xc0\x80", b"\xed\xa0\x80")

    def run(self, data: bytes) -> None:
        route, content_type, params, body_bytes = decode(data)
        request = _request(route, content_type, params, body_bytes)
        if route.path is not None:
            check_whole_patterns(route.path, path_params(request, route.path))
        if route.body is None:
            _complete(no_body(request))
            return
        body = _complete(json_body(request, route.body))
        check_whole_patterns(route.body, body)
        _convert(route.name, body)

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        from aico_secure.gateway.srp import DEFAULT_GROUP, SrpClientSession, compute_verifier, new_salt

        salt = new_salt()
        client = SrpClientSession(DEFAULT_GROUP, "alice", "fuzz only")
        bodies: dict[str, Callable[[], dict[str, Any]]] = {
            "register": lambda: {"username": "alice", "salt": salt.hex(),
                                 "verifier": format(compute_verifier(DEFAULT_GROUP, salt, "alice", "fuzz only"), "x")},
            "challenge": lambda: {"username": "alice"},
            "verify": lambda: {"challenge_id": "Zm9vYmFyYmF6cXV4cXV1eA", "A": format(client.client_public, "x"),
                               "M": bytes(range(32)).hex()},
            "refresh": lambda: {"refresh_token": "aico1." + "A" * 120},
            "data_put": lambda: {"value": "72.5 kg, \u00e9t\u00e9"},
            "grant_put": lambda: {"ttl_seconds": 3600},
        }
        params = {"data_get": (b"health", b"weight.2026-01"), "data_put": (b"health", b"weight.2026-01"),
                  "grant_put": (b"health", b"read"), "grant_delete": (b"notes", b"delete")}
        for index, route in enumerate(ROUTES):
            make = bodies.get(route.name)
            # As httpx writes a json= body (what gateway/client.py sends).
            body = json.dumps(make(), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode() \
                if make else b""
            yield route.name, encode(index, 1 if make else 0, params.get(route.name, ()), body)


HARNESS = GatewayBodyHarness()
