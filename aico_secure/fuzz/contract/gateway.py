"""Bodies at the gateway: mutations of each route's valid request body, sent over HTTPS as any client would.

The property (AICO-GW-004, fuzzed): every answer is a 4xx or a success, never a 5xx, a hang or a dropped
connection, and the gateway still serves ``GET /v1/health`` afterwards. The suite checks a fixed list of
malformed variants per route; here the variants are drawn from the seed: wrong types, deep nesting, huge
numbers, odd unicode, truncated or byte-flipped JSON, fields added, removed or duplicated. Routes are those of
docs/gateway.md, with the build's own login route (``LoginHook.login_route``) in place of the SRP-6a steps;
authenticated routes carry a token from the build's own login (its hook, or the documented SRP-6a exchange).
"""

from __future__ import annotations

import json
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aico_secure.conform.passphrases import passphrase
from aico_secure.fuzz.contract.interface import (
    DROPPED,
    HANG,
    SERVER_ERROR,
    STOPPED_SERVING,
    ContractSurface,
    Finding,
    Source,
    SurfaceUnavailable,
)
from aico_secure.probes.bus import RecordingSink
from aico_secure.target import KeysCapability, KeySession, Target
from aico_secure.target.gateway import GatewayCapability, LoginHook, RunningGateway

USER = "fuzzuser"
CATEGORY = "profile"
HEALTH_EVERY = 25
TEXTS = ("", "a", "\u0000", "\ud800", "\u202e", "\ud83d\ude00", "\ufeff", "é" * 40, "\\", "\"", "x" * 70, "1e400")


@dataclass
class Route:
    name: str
    method: str
    path: str
    auth: bool
    body: Callable[[], dict[str, Any]]


class GatewaySurface(ContractSurface):
    name = "gateway"
    bound_s = 20.0

    def __init__(self) -> None:
        self.session: KeySession | None = None
        self.gateway: RunningGateway | None = None
        self.http: httpx.Client | None = None
        self.routes: list[Route] = []
        self.access = ""
        self.refresh = ""
        self.sent = 0
        self._ca = tempfile.TemporaryDirectory(prefix="aico-contract-fuzz-ca-")

    # ---- set-up ----------------------------------------------------------------------------------------------
    def setup(self, target: Target, workdir: Path) -> None:
        keys, capability = target.keys, target.gateway
        if not isinstance(keys, KeysCapability) or not isinstance(capability, GatewayCapability):
            raise SurfaceUnavailable("the build has no gateway (or no keys capability to start it with)")
        self.session = keys.create(workdir / "keys", passphrase(), fast_kdf=True)
        frozen = time.time()
        self.gateway = capability.start(self.session, workdir / "gateway", audit=RecordingSink(),
                                        clock=lambda: frozen)  # tokens stay valid for the whole run
        ca = Path(self._ca.name) / "ca.pem"
        ca.write_bytes(self.gateway.ca_pem)
        context = ssl.create_default_context(cafile=str(ca))
        self.http = httpx.Client(base_url=self.gateway.base_url, verify=context, timeout=self.bound_s)
        password = passphrase()
        self.gateway.register(USER, password)
        self.access, self.refresh = self._login(password, context)
        granted = self.http.put(f"/v1/consent/grants/{CATEGORY}/write", json={"ttl_seconds": 3600},
                                headers={"authorization": f"Bearer {self.access}"})
        if granted.status_code >= 300:
            raise SurfaceUnavailable(f"granting consent through the documented API answered {granted.status_code}")
        self.routes = self._routes(password)

    def _login(self, password: str, context: ssl.SSLContext) -> tuple[str, str]:
        assert self.gateway is not None
        if isinstance(self.gateway, LoginHook):
            result = self.gateway.login(USER, password)
            if result.status != 200 or not result.access_token:
                raise SurfaceUnavailable(f"the build's own login answered {result.status}")
            return result.access_token, result.refresh_token or ""
        from aico_secure.gateway.client import GatewayClient  # speaks the documented SRP-6a exchange

        with GatewayClient(self.gateway.base_url, context, timeout=self.bound_s) as client:
            tokens = client.login(USER, password)
        return tokens.access_token, tokens.refresh_token

    def _routes(self, password: str) -> list[Route]:
        assert self.gateway is not None
        routes = [Route("refresh", "POST", "/v1/auth/refresh", False, lambda: {"refresh_token": self.refresh}),
                  Route("data_put", "PUT", f"/v1/data/{CATEGORY}/note", True, lambda: {"value": "hello"}),
                  Route("grant_put", "PUT", f"/v1/consent/grants/{CATEGORY}/read", True,
                        lambda: {"ttl_seconds": 60})]
        if isinstance(self.gateway, LoginHook):
            entry = self.gateway.login_route(USER, password)
            routes.append(Route("login", entry.method, entry.path, False, lambda: dict(entry.body)))
        else:
            routes.append(Route("challenge", "POST", "/v1/auth/challenge", False, lambda: {"username": USER}))
            routes.append(Route("verify", "POST", "/v1/auth/verify", False,
                                lambda: {"challenge_id": "c" * 32, "A": "0f" * 64, "M": "ab" * 32}))
        return routes

    # ---- inputs ----------------------------------------------------------------------------------------------
    def _value(self, source: Source, depth: int = 0) -> Any:
        kind = source.weighted({"int": 2, "huge": 2, "float": 2, "text": 3, "bool": 1, "null": 1, "list": 1,
                                "object": 1, "deep": 2 if depth == 0 else 0})
        if kind == "int":
            return source.pick((0, -1, 1, 2**31, -(2**63), 2**64, 31622401))
        if kind == "huge":
            return RawJson(source.pick(("", "-")) + "9" * source.int_in(20, 6000))
        if kind == "float":
            return RawJson(source.pick(("1e400", "-1e400", "1.5", "-0.0", "1e-400", "0.1e1", "NaN", "Infinity")))
        if kind == "text":
            text = source.pick(TEXTS)
            return text * source.int_in(1, 300) if source.chance(0.3) else text
        if kind == "bool":
            return source.chance(0.5)
        if kind == "null":
            return None
        if kind == "list" and depth < 3:
            return [self._value(source, depth + 1) for _ in range(source.int_in(0, 3))]
        if kind == "object" and depth < 3:
            return {source.pick(("a", "value", "", "\u0000")): self._value(source, depth + 1)}
        levels = source.pick((10, 100, 900, 1100, 3000, 20000))
        opener, closer = ("[", "]") if source.chance(0.5) else ('{"a":', "}")
        return RawJson(opener * levels + "1" + closer * levels)

    def body(self, source: Source, route: Route) -> tuple[bytes, str]:
        valid = route.body()
        how = source.weighted({"field": 6, "extra": 1, "missing": 1, "duplicate": 1, "truncate": 2, "flip": 2,
                               "whole": 1, "media": 1})
        content_type = "application/json"
        if how in ("field", "extra"):
            key = source.pick(list(valid)) if how == "field" and valid else source.pick(("x", "\u202e", "a" * 300))
            text = _dump({**valid, key: self._value(source)})
        elif how == "missing" and valid:
            text = _dump({k: v for k, v in valid.items() if k != source.pick(list(valid))})
        elif how == "duplicate" and valid:
            key = source.pick(list(valid))
            text = "{" + json.dumps(key) + ": " + _dump(self._value(source)) + ", " + _dump(valid)[1:]
        elif how == "whole":
            text = _dump(self._value(source))
        else:
            text = _dump(valid)
        data = text.encode("utf-8", "surrogatepass")
        if how == "truncate":
            data = data[:source.int_in(0, max(0, len(data) - 1))]
        elif how == "flip" and data:
            buffer = bytearray(data)
            for _ in range(source.int_in(1, 4)):
                buffer[source.int_in(0, len(buffer) - 1)] ^= 1 << source.int_in(0, 7)
            data = bytes(buffer)
        elif how == "media":
            content_type = source.pick(("text/plain", "application/json; charset=latin-1", "application/x-json",
                                        "multipart/form-data; boundary=x", ""))
        return data, content_type

    # ---- one input -------------------------------------------------------------------------------------------
    def step(self, source: Source, label: str) -> list[Finding]:
        route = source.pick(self.routes)
        data, content_type = self.body(source, route)
        headers = {"content-type": content_type} if content_type else {}
        if route.auth:
            headers["authorization"] = f"Bearer {self.access}"
        what = f"{label}: {route.method} {route.path}, {len(data)} bytes {data[:80]!r}"
        findings: list[Finding] = []
        try:
            answer = self._send(route.method, route.path, data, headers)
            if answer.status_code >= 500:
                findings.append(Finding(self.name, SERVER_ERROR, f"{route.name} answered {answer.status_code}", what))
        except httpx.TimeoutException:
            findings.append(Finding(self.name, HANG, f"{route.name}: no answer within {self.bound_s:.0f} s", what))
        except httpx.TransportError as exc:
            findings.append(Finding(self.name, DROPPED, f"{route.name}: {type(exc).__name__} instead of an answer",
                                    what))
        self.sent += 1
        if findings or self.sent % HEALTH_EVERY == 0:
            findings += self._health(label)
        return findings

    def _send(self, method: str, path: str, data: bytes, headers: dict[str, str]) -> httpx.Response:
        """One request; a kept-alive connection the server closed while idle is not a finding, so a transport
        error is retried once on a new connection with the same bytes."""
        assert self.http is not None
        try:
            return self.http.request(method, path, content=data, headers=headers)
        except httpx.TransportError as exc:
            if isinstance(exc, httpx.TimeoutException):
                raise
            return self.http.request(method, path, content=data, headers={**headers, "connection": "close"})

    def _health(self, label: str) -> list[Finding]:
        try:
            status = self._send("GET", "/v1/health", b"", {}).status_code
        except httpx.HTTPError as exc:
            status, why = 0, type(exc).__name__
        else:
            why = f"answered {status}"
        if status == 200:
            return []
        return [Finding(self.name, STOPPED_SERVING, f"GET /v1/health {why} after the inputs", label)]

    def finish(self) -> list[Finding]:
        return self._health("after the last input")

    def teardown(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        if self.session is not None:
            self.session.close()
            self.session = None
        self._ca.cleanup()


class RawJson(str):
    """Text placed into the body verbatim: JSON the standard library would not write (1e400, NaN, deep nests,
    a 6000-digit integer beyond Python's int-to-str limit)."""


def _dump(value: Any) -> str:
    """JSON text of ``value`` with ``RawJson`` pieces spliced in as they are."""
    if isinstance(value, RawJson):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    return json.dumps(value)
