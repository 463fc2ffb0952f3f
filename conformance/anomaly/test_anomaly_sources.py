"""AICO-ANO-001 and AICO-AUD-001 across capabilities: failures at the build's real gateway and real bus reach
the build's own audit trail and raise an alert there. (The scripted tests in this folder drive the detector
with events; these drive the components that produce them.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import zmq

from aico_secure.conform.checks import find_leaks
from aico_secure.conform.fixtures import capability_fixture
from aico_secure.probes.bus import BusProbe
from aico_secure.target import KeySession
from aico_secure.target.audit import AuditTrail
from aico_secure.target.bus import BusCapability
from aico_secure.target.gateway import GatewayCapability

from ..gateway.gwclient import SuiteClient

FAILURES = 4
bus = capability_fixture("bus", BusCapability)
gateway_cap = capability_fixture("gateway", GatewayCapability, name="gateway_cap")


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _auth_events(trail: AuditTrail, result: str) -> list[object]:
    return [e for e in trail.events() if e.category == "auth" and e.result == result]


@pytest.mark.requirement("AICO-ANO-001", "AICO-AUD-001")
def test_bus_handshake_failures_reach_the_trail_and_alert(bus: BusCapability, open_trail: Callable[..., AuditTrail],
                                                          tmp_path: Path) -> None:
    trail = open_trail(auth_failures=FAILURES)
    broker = bus.start(tmp_path / "bus", audit=trail)
    probe = BusProbe(broker)
    try:
        for attempt in range(1, FAILURES + 2):
            stranger = probe.stranger(zmq.PUB)
            recorded = _wait_for(lambda: len(_auth_events(trail, "failure")) >= attempt, timeout=5.0)
            probe.discard(stranger)
            assert recorded, "a refused bus handshake was not recorded as an auth failure in the build's trail"
        assert _wait_for(lambda: any(a.action == "auth_failures" for a in trail.alerts())), \
            "repeated bus authentication failures raised no alert"
    finally:
        probe.close()
        broker.stop()


@pytest.mark.requirement("AICO-ANO-001", "AICO-AUD-001")
def test_gateway_login_failures_reach_the_trail_and_alert(gateway_cap: GatewayCapability, key_session: KeySession,
                                                          open_trail: Callable[..., AuditTrail],
                                                          tmp_path: Path, password: str) -> None:
    trail = open_trail(auth_failures=FAILURES)
    gateway = gateway_cap.start(key_session, tmp_path / "gateway", audit=trail)
    try:
        gateway.register("alice", password)
        with SuiteClient(gateway) as client:
            assert client.login("alice", password, honour_short_retry=True).status == 200
            for _ in range(FAILURES + 1):
                client.login("alice", password + "-guess", honour_short_retry=True)
        assert _auth_events(trail, "success"), "a successful login was not audited"
        assert len(_auth_events(trail, "failure")) >= FAILURES, "failed logins were not audited"
        assert any(a.action == "auth_failures" for a in trail.alerts()), \
            "repeated gateway login failures raised no alert"
        recorded = " ".join(f"{e.actor} {e.subject} {dict(e.details)}" for e in trail.events())
        assert password not in recorded, "the password reached the audit trail"
    finally:
        gateway.stop()


@pytest.mark.requirement("AICO-AUD-002")
def test_gateway_tokens_and_passwords_never_reach_the_audit_log(gateway_cap: GatewayCapability,
                                                               key_session: KeySession,
                                                               open_trail: Callable[..., AuditTrail],
                                                               tmp_path: Path, password: str) -> None:
    trail = open_trail()
    gateway = gateway_cap.start(key_session, tmp_path / "gateway", audit=trail)
    try:
        gateway.register("bob", password)
        with SuiteClient(gateway) as client:
            outcome = client.login("bob", password, honour_short_retry=True)
            assert outcome.status == 200 and outcome.access_token and outcome.refresh_token
            client.login("bob", password + "-wrong", honour_short_retry=True)
            client.request("GET", "/v1/data/notes/n1", token=outcome.access_token)
            client.post_json("/v1/auth/refresh", {"refresh_token": outcome.refresh_token})
    finally:
        gateway.stop()
    tokens = [outcome.access_token, outcome.refresh_token]
    recorded = " ".join(f"{e.actor} {e.subject} {dict(e.details)}" for e in trail.events())
    assert _auth_events(trail, "success"), "the login was not audited: nothing to check"
    for secret in [password, password + "-wrong", *tokens]:
        assert secret not in recorded, "a password or token reached an audit event"
    trail.close()
    result = find_leaks(tmp_path / "audit-0", canaries=[password, *tokens],
                        secrets=dict(key_session.secret_material()))
    assert result.files_read > 0, "the audit directory is empty: nothing was checked"
    assert not result.findings, f"password, token or key in the audit log files: {result.findings[:3]}"
