"""Session tokens (AICO-GW-002): short-lived, typed, audience-bound, expiring by the gateway's clock, refresh
tokens never usable as access tokens, and revocation that survives a restart."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aico_secure.conform.fakes import CollectingSink as EventSink
from aico_secure.conform.fakes import ManualClock
from aico_secure.target.gateway import RunningGateway

from .conftest import StartGateway
from .gwclient import LoginOutcome, SuiteClient

MAX_ACCESS_TTL = 15 * 60  # OWASP ASVS: short-lived access tokens
MAX_REFRESH_TTL = 30 * 24 * 3600


def _login(gateway: RunningGateway, client: SuiteClient, user: str, password: str, *,
           enrol: bool = True) -> LoginOutcome:
    if enrol:
        gateway.register(user, password)
    outcome = client.login(user, password, honour_short_retry=True)
    assert outcome.status == 200 and outcome.access_token and outcome.refresh_token, \
        f"login failed: {outcome.status} {outcome.body}"
    return outcome


def _me(client: SuiteClient, token: str) -> int:
    return client.request("GET", "/v1/me", token=token).status_code


def _refresh(client: SuiteClient, token: str) -> tuple[int, dict[str, object]]:
    response = client.post_json("/v1/auth/refresh", {"refresh_token": token})
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status_code, body if isinstance(body, dict) else {}


@pytest.mark.requirement("AICO-GW-002")
def test_token_types_are_not_interchangeable(gateway: RunningGateway, client: SuiteClient, password: str,
                                            new_user: Callable[[], str], audit_events: EventSink,
                                            evidence: Callable[[str, object], None]) -> None:
    policy = gateway.policy
    assert 0 < policy.access_ttl_seconds <= MAX_ACCESS_TTL, f"access tokens live {policy.access_ttl_seconds} s"
    assert policy.access_ttl_seconds <= policy.refresh_ttl_seconds <= MAX_REFRESH_TTL
    login = _login(gateway, client, new_user(), password)
    access, refresh = str(login.access_token), str(login.refresh_token)
    assert access != refresh
    assert _me(client, access) == 200
    assert _me(client, refresh) == 401, "a refresh token was accepted as an access token"
    status, body = _refresh(client, access)
    assert status == 401 and "access_token" not in body, "an access token was accepted as a refresh token"
    status, body = _refresh(client, refresh)
    assert status == 200 and body.get("access_token"), f"refresh failed: {status}"
    assert _me(client, str(body["access_token"])) == 200
    assert _me(client, str(body["refresh_token"])) == 401, "a rotated refresh token was accepted as access"
    issued = (access, refresh, body["access_token"], body["refresh_token"])
    leaked = [t for t in issued if str(t) in audit_events.text()]
    assert not leaked, "audit events contain tokens"
    evidence("token lifetimes", f"access {policy.access_ttl_seconds} s, refresh {policy.refresh_ttl_seconds} s")


@pytest.mark.requirement("AICO-GW-002")
def test_tokens_expire_by_the_clock(gateway: RunningGateway, client: SuiteClient, clock: ManualClock,
                                    password: str, new_user: Callable[[], str]) -> None:
    policy = gateway.policy
    login = _login(gateway, client, new_user(), password)
    clock.advance(policy.access_ttl_seconds + 1)
    assert _me(client, str(login.access_token)) == 401, "an access token outlived access_ttl_seconds"
    status, body = _refresh(client, str(login.refresh_token))
    assert status == 200, f"a refresh token within its lifetime was refused: {status}"
    assert _me(client, str(body["access_token"])) == 200
    clock.advance(policy.refresh_ttl_seconds + 1)
    assert _refresh(client, str(body["refresh_token"]))[0] == 401, "a refresh token outlived refresh_ttl_seconds"
    assert _me(client, str(body["access_token"])) == 401


@pytest.mark.requirement("AICO-GW-002")
def test_token_of_another_gateway_is_refused(start_gateway: StartGateway, tmp_path: object, password: str,
                                             new_user: Callable[[], str]) -> None:
    """Two gateways of one user share the key hierarchy (e.g. two devices): tokens must name their audience."""
    from pathlib import Path

    first, second = start_gateway(Path(str(tmp_path)) / "gw-a"), start_gateway(Path(str(tmp_path)) / "gw-b")
    with SuiteClient(first) as client_a, SuiteClient(second) as client_b:
        user = new_user()
        login = _login(first, client_a, user, password)
        second.register(user, password)
        assert _me(client_b, str(login.access_token)) == 401, "gateway B accepted gateway A's access token"
        assert _refresh(client_b, str(login.refresh_token))[0] == 401, "gateway B accepted A's refresh token"
        assert _me(client_a, str(login.access_token)) == 200


@pytest.mark.requirement("AICO-GW-002")
@pytest.mark.parametrize("mangle", ["flip", "truncate", "extend", "dash", "garbage", "other-scheme"])
def test_damaged_tokens_are_refused(gateway: RunningGateway, client: SuiteClient, password: str,
                                    new_user: Callable[[], str], mangle: str) -> None:
    token = str(_login(gateway, client, new_user(), password).access_token)
    middle = len(token) // 2
    damaged = {
        "flip": token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:],
        "truncate": token[:-4],
        "extend": token + "AAAA",
        "dash": "-",
        "garbage": "x" * 300,
        "other-scheme": "",
    }[mangle]
    scheme, credential = ("Basic", token) if mangle == "other-scheme" else ("Bearer", damaged)
    headers = {"authorization": f"{scheme} {credential}"}
    response = client.request("GET", "/v1/me", headers=headers)
    assert response.status_code == 401, f"a {mangle} token was answered {response.status_code}"


@pytest.mark.requirement("AICO-GW-002")
def test_revocation_survives_restart(start_gateway: StartGateway, password: str,
                                     new_user: Callable[[], str], evidence: Callable[[str, object], None]) -> None:
    gateway = start_gateway()
    user = new_user()
    with SuiteClient(gateway) as client:
        logged_out = _login(gateway, client, user, password)
        rotated = _login(gateway, client, user, password, enrol=False)
        kept = _login(gateway, client, user, password, enrol=False)
        assert client.request("POST", "/v1/auth/logout", token=str(logged_out.access_token)).status_code in (200, 204)
        assert _me(client, str(logged_out.access_token)) == 401, "logout did not revoke the access token"
        assert _refresh(client, str(logged_out.refresh_token))[0] == 401, "logout did not revoke the refresh token"
        status, _ = _refresh(client, str(rotated.refresh_token))
        assert status == 200
        assert _refresh(client, str(rotated.refresh_token))[0] == 401, "a spent refresh token was accepted again"
    gateway.stop()

    restarted = start_gateway()
    with SuiteClient(restarted) as client:
        assert _me(client, str(logged_out.access_token)) == 401, "a revoked access token works after restart"
        assert _refresh(client, str(logged_out.refresh_token))[0] == 401, "a revoked refresh token works after restart"
        assert _refresh(client, str(rotated.refresh_token))[0] == 401, "a spent refresh token works after restart"
        assert client.login(user, password, honour_short_retry=True).status == 200, "the user was lost on restart"
        evidence("unrevoked token after restart", _me(client, str(kept.access_token)))
