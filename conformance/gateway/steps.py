"""The login protocol one step at a time, so a test can act between the steps (take a challenge, let a lock
begin, then send the proof) and send its own headers with each step.

``SuiteClient.login`` runs both steps back to back; ``challenge`` and ``prove`` split the SRP-6a exchange of
docs/gateway.md (the arithmetic is the same independent ``srp`` package's). ``attempt`` is a whole login the way
the build logs in, and ``entry_route`` its first request, for tests about every route.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from aico_secure.target.gateway import LoginHook, LoginRequest, RunningGateway

from .gwclient import _HASHES, LoginOutcome, SuiteClient, _backend, _even, group_named

SHORT_RETRY = 2  # a 429 with Retry-After up to this many seconds is a wall-clock request-rate limit


def patient(send: Callable[[], httpx.Response]) -> httpx.Response:
    """``send()``, repeated (at most three times) after a short wall-clock rate-limit refusal, so a test of
    lockouts or lifetimes is not confused by how fast the suite itself sends requests."""
    response = send()
    for _ in range(3):
        wait = response.headers.get("retry-after", "")
        if response.status_code != 429 or not wait.isdigit() or int(wait) > SHORT_RETRY:
            break
        time.sleep(int(wait) + 0.2)
        response = send()
    return response


def body_of(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def challenge(client: SuiteClient, username: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """Step 1: ask for a challenge."""
    return patient(lambda: client.post_json("/v1/auth/challenge", {"username": username},
                                            headers=dict(headers or {})))


def prove(client: SuiteClient, username: str, password: str, challenge_body: Mapping[str, Any],
          headers: Mapping[str, str] | None = None) -> httpx.Response:
    """Step 2: answer ``challenge_body`` with a proof of ``password`` (correct or not)."""
    group = group_named(str(challenge_body.get("group")))
    hash_alg = _HASHES.get(str(challenge_body.get("hash")))
    assert hash_alg is not None, f"gateway offered SRP hash {challenge_body.get('hash')!r}"
    salt, big_b = bytes.fromhex(str(challenge_body["salt"])), bytes.fromhex(_even(str(challenge_body["B"])))
    user = _backend(salt).User(username, password, hash_alg=hash_alg, **group.srp_args)
    _, big_a = user.start_authentication()
    proof = user.process_challenge(salt, big_b)
    assert proof is not None, "the gateway's B failed the SRP-6a safety check"
    document = {"challenge_id": challenge_body["challenge_id"], "A": big_a.hex(), "M": proof.hex()}
    return patient(lambda: client.post_json("/v1/auth/verify", document, headers=dict(headers or {})))


def attempt(client: SuiteClient, username: str, password: str,
            headers: Mapping[str, str] | None = None) -> LoginOutcome:
    """One whole login the way the build logs in (its login hook, or SRP-6a), ``headers`` sent with each
    request; short wall-clock rate-limit refusals are waited out as in ``patient``."""
    return client.login(username, password, honour_short_retry=True, headers=headers)


def is_srp(gateway: RunningGateway) -> bool:
    """Whether the gateway logs in with the documented SRP-6a exchange (no login hook of its own)."""
    return not isinstance(gateway, LoginHook)


def entry_route(gateway: RunningGateway, username: str, password: str) -> LoginRequest:
    """The first request of the gateway's login, well formed: the route every client reaches without a token."""
    if isinstance(gateway, LoginHook):
        request = gateway.login_route(username, password)
        assert isinstance(request, LoginRequest), \
            f"the gateway's login_route returned {type(request).__name__}, not a LoginRequest"
        return request
    return LoginRequest("POST", "/v1/auth/challenge", {"username": username})


def refresh(client: SuiteClient, token: str) -> httpx.Response:
    return patient(lambda: client.post_json("/v1/auth/refresh", {"refresh_token": token}))


def me(client: SuiteClient, token: str) -> int:
    return patient(lambda: client.request("GET", "/v1/me", token=token)).status_code


LOGIN_PATHS = ("/v1/auth/challenge", "/v1/auth/verify")  # the documented SRP-6a exchange


def login_path(gateway: RunningGateway, path: str) -> str:
    """``path`` as this gateway serves it: a step of the documented SRP-6a exchange stands for the build's own
    login route when it has one (a login of one request is both "steps"); every other route is the same."""
    if path in LOGIN_PATHS and not is_srp(gateway):
        return entry_route(gateway, "probe", "probe-password").path
    return path
