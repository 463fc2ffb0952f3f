"""What the gateway reports to its audit sink, stated from the audit requirements:

* AICO-AUD-001: every authentication event (failed and successful logins, refused refreshes, logouts) names
  its source, the client address, as ``actor``; login events name the identity tried as ``subject``. Without
  the source an auth-failure alert cannot say where an attack comes from.
* AICO-AUD-002: no password (right or wrong) and no token, issued or presented, is in any event the gateway
  reports: the events are audit records whatever log they end up in.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aico_secure.conform.checks import text_contains_secret
from aico_secure.conform.fakes import CollectingSink, ManualClock
from aico_secure.target.gateway import RunningGateway

from . import steps
from .gwclient import SuiteClient

CLIENT_ADDRESS = "127.0.0.1"  # where the suite's client connects from


def _session(gateway: RunningGateway, client: SuiteClient, user: str, password: str, wrong: str,
             clock: ManualClock) -> list[str]:
    """A user's day: a wrong password, a login, a refresh, a replayed and an expired refresh, a logout.
    Returns every token issued or presented."""
    gateway.register(user, password)
    assert steps.attempt(client, user, wrong).status == 401
    login = steps.attempt(client, user, password).body
    assert login.get("access_token"), "login failed"
    tokens = [str(login["access_token"]), str(login["refresh_token"])]
    rotated = steps.body_of(steps.refresh(client, tokens[1]))
    assert rotated.get("access_token"), "refresh failed"
    tokens += [str(rotated["access_token"]), str(rotated["refresh_token"])]
    assert steps.refresh(client, tokens[1]).status_code == 401, "a spent refresh token was accepted"
    second = steps.attempt(client, user, password).body
    tokens += [str(second["access_token"]), str(second["refresh_token"])]
    client.request("POST", "/v1/auth/logout", token=tokens[4])
    clock.advance(gateway.policy.refresh_ttl_seconds + 1)
    assert steps.refresh(client, tokens[5]).status_code == 401, "a refresh token outlived its lifetime"
    return tokens


@pytest.mark.requirement("AICO-AUD-001")
def test_gateway_auth_events_name_their_source(gateway: RunningGateway, client: SuiteClient, clock: ManualClock,
                                               audit_events: CollectingSink, password: str,
                                               new_user: Callable[[], str]) -> None:
    user = new_user()
    _session(gateway, client, user, password, password + "-wrong", clock)
    auth = [e for e in audit_events.events if e.category == "auth"]
    assert any(e.action == "login" and e.result == "failure" for e in auth), "no failed login was reported"
    assert any(e.action == "login" and e.result == "success" for e in auth), "no successful login was reported"
    sourceless = [e for e in auth if CLIENT_ADDRESS not in e.actor]
    assert not sourceless, (
        f"auth events without the client address as actor: {[(e.action, e.actor) for e in sourceless][:4]}")
    logins = [e for e in auth if e.action == "login"]
    assert all(e.subject == user for e in logins), (
        f"login events do not name the identity tried: {[e.subject for e in logins][:4]}")


@pytest.mark.requirement("AICO-AUD-002")
def test_gateway_events_carry_no_password_or_token(gateway: RunningGateway, client: SuiteClient,
                                                   clock: ManualClock, audit_events: CollectingSink, password: str,
                                                   new_user: Callable[[], str]) -> None:
    wrong = "Velvet Harbor quarry 41 lantern!"
    tokens = _session(gateway, client, new_user(), password, wrong, clock)
    assert audit_events.events, "the gateway reported no events at all"
    secrets = {"password": password.encode(), "wrong password": wrong.encode()}
    secrets |= {f"token {i}": token.encode() for i, token in enumerate(tokens)}
    leaked = text_contains_secret(audit_events.text(), secrets)
    assert not leaked, f"the gateway's audit events carry secrets: {sorted(leaked)}"
