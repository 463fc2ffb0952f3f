"""Limits enforced, not only declared: each is exceeded at the step where it matters.

* AICO-GW-003: a lock applies at the proof step too (a challenge taken before the lock must not carry a proof
  past it), for the identity limit and the address limit; the address a failure counts against is the
  connection's, whatever ``X-Forwarded-For`` / ``Forwarded`` / ``X-Real-IP`` the client sends.
* AICO-GW-002: each token type expires at its own lifetime, at the exact instant, and works one tick before.
* AICO-GW-004: the body limit holds on every route of the login protocol, one byte over.
* AICO-GW-005: CORS allows exactly the declared origins, never a look-alike of one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from aico_secure.conform.fakes import ManualClock
from aico_secure.target.gateway import RunningGateway

from . import steps
from .gwclient import SuiteClient

TICK = 1.0
SAMPLE_ORIGIN = "https://app.example.com"  # look-alikes of it are tried even when nothing is declared


def _locked_before_proof(gateway: RunningGateway, response_status: int, retry_after: str | None, before: int,
                         what: str) -> None:
    assert response_status == 429, f"{what}: expected 429 (locked), got {response_status}"
    assert retry_after and retry_after.isdigit(), f"{what}: a lockout refusal must carry Retry-After in seconds"
    assert gateway.verification_count() == before, f"{what}: the proof was checked although the lock was on"


def _take_challenge(gateway: RunningGateway, client: SuiteClient, user: str) -> dict[str, object] | None:
    """The first step of an SRP-6a login, taken now to be answered later; ``None`` for a build whose own login
    is one request (there is no earlier step to carry past a lock, so the lock must hold on that request)."""
    if not steps.is_srp(gateway):
        return None
    early = steps.challenge(client, user)
    assert early.status_code == 200, f"no challenge for an enrolled user: {early.status_code}"
    return steps.body_of(early)


def _finish_login(client: SuiteClient, user: str, password: str,
                  early: dict[str, object] | None) -> tuple[int, str | None, dict[str, object]]:
    """The login's last step: the proof on ``early`` (SRP-6a), or the build's own whole login."""
    if early is None:
        outcome = client.login(user, password, honour_short_retry=True)
        return outcome.status, outcome.retry_after, outcome.body
    late = steps.prove(client, user, password, early)
    return late.status_code, late.headers.get("retry-after"), steps.body_of(late)


@pytest.mark.requirement("AICO-GW-003")
def test_identity_lock_applies_at_the_proof_step(gateway: RunningGateway, password: str,
                                                 new_user: Callable[[], str]) -> None:
    user = new_user()
    gateway.register(user, password)
    with SuiteClient(gateway, fresh=True) as client:
        early = _take_challenge(gateway, client, user)
        for _ in range(gateway.policy.identity_failure_threshold):
            assert steps.attempt(client, user, password + "-wrong").status == 401
        before = gateway.verification_count()
        status, retry_after, body = _finish_login(client, user, password, early)
        _locked_before_proof(gateway, status, retry_after, before,
                             "the right password on a challenge taken before the identity was locked")
        assert "access_token" not in body, "a locked identity was given a token"


@pytest.mark.requirement("AICO-GW-003")
def test_address_lock_applies_at_the_proof_step(gateway: RunningGateway, password: str,
                                                new_user: Callable[[], str]) -> None:
    user = new_user()
    gateway.register(user, password)
    with SuiteClient(gateway, fresh=True) as client:
        early = _take_challenge(gateway, client, user)
        for _ in range(gateway.policy.address_failure_threshold):  # one guess per identity: only the address adds up
            assert steps.attempt(client, new_user(), password).status == 401
        before = gateway.verification_count()
        status, retry_after, body = _finish_login(client, user, password, early)
        _locked_before_proof(gateway, status, retry_after, before,
                             "the right password on a challenge taken before the address was locked")
        assert "access_token" not in body, "a locked address was given a token"


def _spoofed(n: int) -> dict[str, str]:
    address = f"198.51.{n // 250}.{n % 250 + 1}"
    return {"x-forwarded-for": address, "forwarded": f"for={address}", "x-real-ip": address}


@pytest.mark.requirement("AICO-GW-003")
def test_client_sent_address_headers_do_not_reset_the_address_count(gateway: RunningGateway, password: str,
                                                                     new_user: Callable[[], str]) -> None:
    limit = gateway.policy.address_failure_threshold
    with SuiteClient(gateway, fresh=True) as client:
        for n in range(limit):
            status = steps.attempt(client, new_user(), password, _spoofed(n)).status
            assert status == 401, f"wrong proof {n + 1} of {limit}: expected 401, got {status}"
        before = gateway.verification_count()
        for n in (limit, limit + 1):
            last = steps.attempt(client, new_user(), password, _spoofed(n))
            _locked_before_proof(gateway, last.status, last.retry_after, before,
                                 f"{limit} failures from one connection address, each claiming another address "
                                 "in X-Forwarded-For / Forwarded / X-Real-IP")


def _login(gateway: RunningGateway, client: SuiteClient, user: str, password: str) -> dict[str, object]:
    response = steps.attempt(client, user, password)
    assert response.status == 200, f"login failed: {response.status}"
    return response.body


@pytest.mark.requirement("AICO-GW-002")
def test_each_token_type_expires_at_its_own_exact_instant(gateway: RunningGateway, client: SuiteClient,
                                                          clock: ManualClock, password: str,
                                                          new_user: Callable[[], str]) -> None:
    policy = gateway.policy
    user = new_user()
    gateway.register(user, password)
    clock.now = float(int(clock.now))
    issued = clock.now
    early, late, access_probe = (_login(gateway, client, user, password) for _ in range(3))
    clock.now = issued + policy.access_ttl_seconds - TICK
    assert steps.me(client, str(access_probe["access_token"])) == 200, "access token refused one tick before expiry"
    clock.now = issued + policy.access_ttl_seconds
    assert steps.me(client, str(access_probe["access_token"])) == 401, "access token accepted at its expiry instant"
    clock.now = issued + policy.refresh_ttl_seconds - TICK
    used = steps.refresh(client, str(early["refresh_token"]))
    assert used.status_code == 200, f"refresh token refused one tick before its expiry: {used.status_code}"
    assert steps.me(client, str(steps.body_of(used)["access_token"])) == 200
    clock.now = issued + policy.refresh_ttl_seconds
    expired = steps.refresh(client, str(late["refresh_token"]))
    assert expired.status_code == 401, (
        f"refresh token accepted at its expiry instant (refresh_ttl_seconds={policy.refresh_ttl_seconds})")
    clock.now = issued + policy.refresh_ttl_seconds + policy.access_ttl_seconds
    assert steps.refresh(client, str(access_probe["refresh_token"])).status_code == 401, (
        "refresh token accepted after its lifetime")


@pytest.mark.requirement("AICO-GW-004")
@pytest.mark.parametrize("route", ["/v1/auth/challenge", "/v1/auth/verify", "/v1/auth/refresh",
                                   "/v1/auth/register"])
def test_body_limit_holds_on_every_protocol_step(shared_gateway: RunningGateway, route: str) -> None:
    limit = shared_gateway.policy.max_body_bytes
    head, tail = b'{"username": "', b'"}'
    body = head + b"a" * (limit + 1 - len(head) - len(tail)) + tail
    assert len(body) == limit + 1
    path = steps.login_path(shared_gateway, route)
    with SuiteClient(shared_gateway) as client:
        response = client.request("POST", path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413, f"{path}: a body one byte over max_body_bytes got {response.status_code}"


@pytest.mark.requirement("AICO-GW-004")
@pytest.mark.parametrize("over", [0, 1], ids=["at-the-limit", "one-byte-over"])
def test_body_limit_holds_for_a_body_sent_in_chunks(shared_gateway: RunningGateway, over: int) -> None:
    """A body sent with chunked transfer encoding declares no length up front, so a limit checked only against
    Content-Length lets it through: the limit must hold on the bytes that arrive, exactly at its edge."""
    limit = shared_gateway.policy.max_body_bytes
    head, tail = b'{"username": "', b'"}'
    body = head + b"a" * (limit + over - len(head) - len(tail)) + tail
    assert len(body) == limit + over

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start:start + 4096]

    with SuiteClient(shared_gateway) as client:
        response = client.request("POST", steps.login_path(shared_gateway, "/v1/auth/challenge"), content=chunks(),
                                  headers={"content-type": "application/json"})
    if over:
        assert response.status_code == 413, f"a chunked body one byte over max_body_bytes got {response.status_code}"
    else:
        assert response.status_code != 413, "a chunked body of exactly max_body_bytes was refused as too large"


def _lookalikes(origin: str) -> list[str]:
    parts = urlsplit(origin)
    host, port = parts.hostname or "", parts.port
    other_scheme = "http" if parts.scheme == "https" else "https"
    other_port = (port or 443) + 1
    return [origin + ".evil", origin + "evil.com", origin + ".evil:443", f"{parts.scheme}://evil-{host}",
            f"{parts.scheme}://evil.{host}" + (f":{port}" if port else ""), f"{other_scheme}://{parts.netloc}",
            f"{parts.scheme}://{host}:{other_port}", origin.upper(), origin + "/", "null",
            f"{parts.scheme}://{host}{secrets.choice('xyz')}" + (f":{port}" if port else "")]


@pytest.mark.requirement("AICO-GW-005")
def test_cors_allows_exactly_the_declared_origins(shared_gateway: RunningGateway) -> None:
    declared = tuple(shared_gateway.policy.cors_origins)
    for origin in declared:
        parts = urlsplit(origin)
        assert parts.scheme in ("https", "http") and parts.hostname and not parts.path and origin != "*", (
            f"declared CORS origin {origin!r} is not scheme://host[:port]")
    tried = {candidate for base in (*declared, SAMPLE_ORIGIN) for candidate in _lookalikes(base)} - set(declared)
    preflight = {"access-control-request-method": "PUT", "access-control-request-headers": "authorization"}
    with SuiteClient(shared_gateway) as client:
        for origin in declared:
            got = client.request("GET", "/v1/health", headers={"origin": origin})
            assert got.headers.get("access-control-allow-origin") == origin, (
                f"declared origin {origin!r} is not allowed: the declaration does not match the build")
        for origin in sorted(tried):
            for what, response in (
                    ("GET /v1/health", client.request("GET", "/v1/health", headers={"origin": origin})),
                    ("preflight", client.request("OPTIONS", steps.login_path(shared_gateway, "/v1/auth/challenge"),
                                                 headers={"origin": origin, **preflight}))):
                allowed = response.headers.get("access-control-allow-origin")
                assert allowed is None or allowed not in (origin, "*"), (
                    f"{what}: look-alike origin {origin!r} allowed (declared: {list(declared)})")
