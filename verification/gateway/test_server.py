"""The running gateway, over real HTTPS on 127.0.0.1: enrolment route, decoy challenges, audit vocabulary, TLS
identity at rest and across restarts, TLS 1.3-only server, damaged state, and data routes without consent."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.gateway.client import GatewayClientError
from aico_secure.gateway.errors import GatewayStartError
from aico_secure.gateway.server import GatewayServer
from aico_secure.gateway.srp import DEFAULT_GROUP, compute_verifier, new_salt
from aico_secure.gateway.users import USERS_FILE
from aico_secure.reference.gateway import ReferenceGateway, ReferenceRunningGateway
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target.errors import IntegrityViolation

from .conftest import Clock


class Events:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)


@pytest.fixture
def session(tmp_path: Path) -> ReferenceKeySession:
    return ReferenceKeys().create(tmp_path / "keys", "pw-for-gateway-unit-tests", fast_kdf=True)


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def running(session: ReferenceKeySession, tmp_path: Path, events: Events) -> Iterator[ReferenceRunningGateway]:
    gateway = ReferenceGateway().start(session, tmp_path / "gw", audit=events, clock=Clock())
    yield gateway
    gateway.stop()


def _http(gateway: ReferenceRunningGateway) -> httpx.Client:
    ctx = ssl.create_default_context(cadata=gateway.ca_pem.decode())
    return httpx.Client(base_url=gateway.base_url, verify=ctx)


def test_enrolment_needs_the_enrolment_credential(running: ReferenceRunningGateway) -> None:
    salt = new_salt()
    body = {"username": "carol", "salt": salt.hex(),
            "verifier": format(compute_verifier(DEFAULT_GROUP, salt, "carol", "pw"), "x")}
    with _http(running) as http:
        assert http.post("/v1/auth/register", json=body).status_code == 401
        assert http.post("/v1/auth/register", json=body, headers={"authorization": "Bearer nope"}).status_code == 401
        token = {"authorization": f"Bearer {running.runtime.enrolment_token()}"}
        assert http.post("/v1/auth/register", json=body, headers=token).status_code == 201
        assert http.post("/v1/auth/register", json=body, headers=token).status_code == 409
        bad = {**body, "username": "dave", "verifier": "1"}
        assert http.post("/v1/auth/register", json=bad, headers=token).status_code == 400
        assert http.post("/v1/auth/register", json={**body, "password": "x"}, headers=token).status_code == 400
    with running.client() as client:
        assert client.login("carol", "pw").username == "carol"


def test_unknown_users_get_stable_decoy_challenges(running: ReferenceRunningGateway) -> None:
    running.register("erin", "pw")
    with _http(running) as http:
        real = http.post("/v1/auth/challenge", json={"username": "erin"}).json()
        decoy = [http.post("/v1/auth/challenge", json={"username": "nobody"}).json() for _ in range(2)]
    assert set(real) == set(decoy[0])
    assert decoy[0]["salt"] == decoy[1]["salt"] and len(decoy[0]["salt"]) == len(real["salt"])
    assert decoy[0]["B"] != decoy[1]["B"]


def test_pending_challenges_per_user_are_capped(running: ReferenceRunningGateway) -> None:
    cap = running.runtime.config.max_pending_per_identity
    with _http(running) as http:
        statuses = [http.post("/v1/auth/challenge", json={"username": "frank"}).status_code for _ in range(cap + 2)]
    assert statuses == [200] * cap + [429, 429]


def test_audit_events_name_source_and_identity_and_hold_no_secrets(running: ReferenceRunningGateway,
                                                                   events: Events) -> None:
    running.register("gina", "correct-password-1")
    with running.client() as client:
        session = client.login("gina", "correct-password-1")
        with pytest.raises(GatewayClientError):
            client.login("gina", "wrong-password-1")
        client.refresh(session)
    logins = [e for e in events.events if e.action == "login"]
    assert [e.result for e in logins] == ["success", "failure"]
    assert all(e.category == "auth" and e.actor == "127.0.0.1" and e.subject == "gina" for e in logins)
    assert any(e.action == "token_refresh" and e.result == "success" for e in events.events)
    text = repr(events.events)
    assert "password-1" not in text and session.access_token not in text and session.refresh_token not in text


def test_tls_key_never_on_disk_in_clear_and_pin_survives_restart(session: ReferenceKeySession, tmp_path: Path) -> None:
    first = ReferenceGateway().start(session, tmp_path / "gw")
    pin, audience = first.spki_pin, first.runtime.state.audience
    first.stop()
    first.stop()  # idempotent
    for path in (tmp_path / "gw").rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), f"{path.name} holds a private key in clear"
    second = ReferenceGateway().start(session, tmp_path / "gw")
    try:
        assert second.spki_pin == pin and second.runtime.state.audience == audience
    finally:
        second.stop()


def test_server_refuses_a_context_that_allows_tls12() -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(GatewayStartError):
        GatewayServer(lambda scope, receive, send: None, context)  # type: ignore[arg-type, return-value]


def test_damaged_state_refuses_to_start(session: ReferenceKeySession, tmp_path: Path) -> None:
    ReferenceGateway().start(session, tmp_path / "gw").stop()
    users = tmp_path / "gw" / USERS_FILE
    data = bytearray(users.read_bytes())
    data[30] ^= 1
    users.write_bytes(bytes(data))
    with pytest.raises(IntegrityViolation):
        ReferenceGateway().start(session, tmp_path / "gw")


def test_data_routes_fail_closed_without_consent(running: ReferenceRunningGateway) -> None:
    running.register("hank", "pw")
    with running.client() as client:
        session = client.login("hank", "pw")
        response = client.get("/v1/data/profile/name", session)
    assert response.status_code == 503


def test_suite_client_logs_in_with_a_leading_zero_salt(running: ReferenceRunningGateway) -> None:
    """RFC 5054 salts are byte strings: one starting with 0x00 must work (the `srp` C backend mishandles it, so
    the suite's client falls back to the package's pure-Python backend for such salts)."""
    from conformance.gateway.gwclient import SuiteClient

    salt = b"\0" + new_salt()[1:]
    body = {"username": "ivy", "salt": salt.hex(),
            "verifier": format(compute_verifier(DEFAULT_GROUP, salt, "ivy", "pw-ivy"), "x")}
    with _http(running) as http:
        token = {"authorization": f"Bearer {running.runtime.enrolment_token()}"}
        assert http.post("/v1/auth/register", json=body, headers=token).status_code == 201
    with SuiteClient(running) as client:
        outcome = client.login("ivy", "pw-ivy")
    assert outcome.status == 200 and outcome.server_proof_ok
    with running.client() as ours:
        assert ours.login("ivy", "pw-ivy").username == "ivy"


def test_data_routes_go_through_consent(session: ReferenceKeySession, tmp_path: Path, events: Events) -> None:
    from aico_secure.reference.consent import ReferenceConsent

    clock = Clock()
    gateway = ReferenceGateway(consent=ReferenceConsent()).start(session, tmp_path / "gwc", audit=events, clock=clock)
    try:
        gateway.register("jo", "pw-jo")
        with gateway.client() as client:
            auth = {"authorization": f"Bearer {client.login('jo', 'pw-jo').access_token}"}
            http = client._http  # raw requests through the client's pinned connection
            assert http.put("/v1/data/profile/name", json={"value": "Jo"}, headers=auth).status_code == 403
            for operation in ("write", "read"):
                grant = http.put(f"/v1/consent/grants/profile/{operation}", json={"ttl_seconds": 60}, headers=auth)
                assert grant.status_code == 201
            assert http.put("/v1/data/profile/name", json={"value": "Jo"}, headers=auth).status_code == 204
            assert http.get("/v1/data/profile/name", headers=auth).json() == {"value": "Jo"}
            assert http.get("/v1/data/health/name", headers=auth).status_code == 403  # other category
            assert http.get("/v1/data/nonsense/name", headers=auth).status_code == 400
            assert http.delete("/v1/consent/grants/profile/read", headers=auth).status_code == 204
            assert http.get("/v1/data/profile/name", headers=auth).status_code == 403  # revoked: next access
            http.put("/v1/consent/grants/profile/read", json={"ttl_seconds": 60}, headers=auth)
            clock.advance(61)
            assert http.get("/v1/data/profile/name", headers=auth).status_code == 403  # the grant expired
    finally:
        gateway.stop()
    assert any(e.category == "consent" for e in events.events), "consent decisions must reach the audit sink"


def test_gateway_consent_is_the_builds_consent_capability(tmp_path: Path) -> None:
    """In the reference build the gateway's data routes go through ``target.consent`` itself: data written
    through the gateway is the data ``target.consent`` serves, and a grant revoked through ``target.consent`` is
    refused at the gateway on the very next request."""
    from aico_secure.reference import build
    from aico_secure.target import KeysCapability
    from aico_secure.target.consent import Actor, ConsentCapability
    from aico_secure.target.gateway import GatewayCapability

    target = build()
    keys, gateway_cap, consent_cap = target.require("keys"), target.require("gateway"), target.require("consent")
    assert isinstance(keys, KeysCapability) and isinstance(gateway_cap, GatewayCapability)
    assert isinstance(consent_cap, ConsentCapability)
    session = keys.create(tmp_path / "keys", "pw-for-gateway-unit-tests", fast_kdf=True)
    gateway = gateway_cap.start(session, tmp_path / "gw", clock=Clock())
    assert isinstance(gateway, ReferenceRunningGateway) and gateway.consent_directory is not None
    service = None
    try:
        gateway.register("kim", "pw-kim")
        with gateway.client() as client:
            auth = {"authorization": f"Bearer {client.login('kim', 'pw-kim').access_token}"}
            http = client._http
            for operation in ("write", "read"):
                assert http.put(f"/v1/consent/grants/profile/{operation}", json={"ttl_seconds": 600},
                                headers=auth).status_code == 201
            assert http.put("/v1/data/profile/name", json={"value": "Kim"}, headers=auth).status_code == 204
            service = consent_cap.open(session, gateway.consent_directory)
            actor = Actor("user:kim", "user_data")
            assert service.read(actor, "profile", "name") == b"Kim", "the gateway wrote to another consent store"
            service.revoke(actor, actor.id, "profile", "read")
            assert http.get("/v1/data/profile/name", headers=auth).status_code == 403, \
                "a grant revoked through target.consent still works at the gateway"
    finally:
        if service is not None:
            service.close()
        gateway.stop()
        session.close()
