"""The login protocol one step at a time, so a test can act between the steps (take a challenge, let a lock
begin, then send the proof) and send its own headers with each step.

``SuiteClient.login`` runs both steps back to back; these functions split it. The SRP arithmetic is the same
independent ``srp`` package's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from .gwclient import _HASHES, SuiteClient, _backend, _even, group_named

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
            headers: Mapping[str, str] | None = None) -> httpx.Response:
    """Both steps; the response of the last step made (the challenge's when it was refused)."""
    first = challenge(client, username, headers)
    if first.status_code != 200:
        return first
    return prove(client, username, password, body_of(first), headers)


def refresh(client: SuiteClient, token: str) -> httpx.Response:
    return patient(lambda: client.post_json("/v1/auth/refresh", {"refresh_token": token}))


def me(client: SuiteClient, token: str) -> int:
    return patient(lambda: client.request("GET", "/v1/me", token=token)).status_code
