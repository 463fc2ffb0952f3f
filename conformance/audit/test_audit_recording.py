"""AICO-AUD-001: data access, encryption and key operations, authentication attempts, consent changes and
alerts are all recorded in the audit log. Each kind is triggered through the contract, then read back from a
freshly reopened log.

Authentication attempts are recorded here the way the gateway and the bus report them (``auth`` events to the
trail they were given); the cross-capability tests drive them through the gateway and the bus themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.target import AccessDenied, KeySession, RejectedCredentials, Target
from aico_secure.target.audit import AnomalyThresholds, AuditCapability, AuditTrail
from aico_secure.target.consent import Actor, ConsentCapability, ConsentService

ReadBack = Callable[[Path], list[AuditEvent]]


def has(events: list[AuditEvent], category: str, action: str | None = None, *, result: str | None = None,
        subject: str | None = None, actor: str | None = None) -> bool:
    return any(e.category == category and (action is None or e.action == action)
               and (result is None or e.result == result) and (subject is None or e.subject == subject)
               and (actor is None or e.actor == actor) for e in events)


def summary(events: list[AuditEvent]) -> str:
    return str(sorted({(e.category, e.action, e.result) for e in events}))[:600]


def open_consent(target: Target, trail: AuditTrail, directory: Path, clock: Callable[[], float]) -> ConsentService:
    capability = target.require("consent")
    assert isinstance(capability, ConsentCapability), "target.consent does not implement ConsentCapability"
    return capability.open(trail.session, directory, audit=trail, clock=clock)


def user_category(service: ConsentService) -> str:
    names = [c for c, level in service.categories().items() if level == "user_data"]
    assert names, "the build declares no user_data category"
    return sorted(names)[0]


@pytest.mark.requirement("AICO-AUD-001")
def test_data_access_is_recorded(aico_target: Target, audit: AuditCapability, key_session: KeySession,
                                 audit_dir: Path, tmp_path: Path, clock: Callable[[], float],
                                 read_back: ReadBack) -> None:
    trail = audit.open(key_session, audit_dir, clock=clock)
    service = open_consent(aico_target, trail, tmp_path / "consent", clock)
    category = user_category(service)
    user, plugin = Actor("user-1", "user_data"), Actor("plugin.notes", "plugin")
    for operation in ("write", "read", "delete"):
        service.grant(user, user, category, operation, ttl_seconds=600)  # type: ignore[arg-type]
    service.write(user, category, "r1", b"hello")
    assert service.read(user, category, "r1") == b"hello"
    with pytest.raises(AccessDenied):
        service.read(plugin, category, "r1")
    service.delete(user, category, "r1")
    service.close()
    trail.close()
    events = read_back(audit_dir)
    for operation in ("write", "read", "delete"):
        assert has(events, "data_access", operation, result="success", subject=category, actor=user.id), (
            f"a {operation} of {category} is not in the audit log: {summary(events)}")
    assert has(events, "data_access", "read", result="denied", actor=plugin.id), (
        f"a refused read is not in the audit log: {summary(events)}")


@pytest.mark.requirement("AICO-AUD-001")
def test_crypto_operations_are_recorded(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                        clock: Callable[[], float], read_back: ReadBack) -> None:
    trail = audit.open(key_session, audit_dir, clock=clock)
    session = trail.session
    sealed = session.seal("libsql", b"record-1", b"value")
    assert session.open("libsql", b"record-1", sealed) == b"value"
    trail.close()
    events = read_back(audit_dir)
    assert has(events, "crypto", "encrypt", subject="libsql"), f"encryption not recorded: {summary(events)}"
    assert has(events, "crypto", "decrypt", subject="libsql"), f"decryption not recorded: {summary(events)}"


@pytest.mark.requirement("AICO-AUD-001")
def test_key_operations_are_recorded(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                     password: str, clock: Callable[[], float], read_back: ReadBack) -> None:
    """Rotations and a refused password change: optional operations, so this is "not implemented" for a build
    without them while the crypto events above are still judged."""
    trail = audit.open(key_session, audit_dir, clock=clock)
    session = trail.session
    session.rotate_data_key("libsql")
    session.rotate_kek("duckdb")
    session.rotate_master(password)
    with pytest.raises(RejectedCredentials):
        session.change_password(password + "-wrong", password + "-new")
    trail.close()
    events = read_back(audit_dir)
    assert has(events, "key", "rotate_data_key", subject="libsql"), f"DEK rotation not recorded: {summary(events)}"
    assert has(events, "key", "rotate_kek", subject="duckdb"), f"KEK rotation not recorded: {summary(events)}"
    assert has(events, "key", "rotate_master"), f"master rotation not recorded: {summary(events)}"
    assert has(events, "key", "change_password", result="failure"), (
        f"a refused password change is not recorded: {summary(events)}")


@pytest.mark.requirement("AICO-AUD-001")
def test_authentication_attempts_are_recorded(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                              clock: Callable[[], float], read_back: ReadBack) -> None:
    trail = audit.open(key_session, audit_dir, clock=clock)
    trail.record(AuditEvent(category="auth", action="login", actor="192.0.2.7", subject="user-1",
                            result="failure", details={"component": "gateway"}))
    trail.record(AuditEvent(category="auth", action="curve_handshake", actor="bus-peer:5f1c", result="failure",
                            details={"component": "bus"}))
    trail.record(AuditEvent(category="auth", action="login", actor="192.0.2.8", subject="user-1"))
    trail.close()
    events = read_back(audit_dir)
    assert has(events, "auth", "login", result="failure", actor="192.0.2.7"), summary(events)
    assert has(events, "auth", "curve_handshake", result="failure", actor="bus-peer:5f1c"), summary(events)
    assert has(events, "auth", "login", result="success", actor="192.0.2.8"), summary(events)


@pytest.mark.requirement("AICO-AUD-001")
def test_consent_changes_are_recorded(aico_target: Target, audit: AuditCapability, key_session: KeySession,
                                      audit_dir: Path, tmp_path: Path, clock: Callable[[], float],
                                      read_back: ReadBack) -> None:
    trail = audit.open(key_session, audit_dir, clock=clock)
    service = open_consent(aico_target, trail, tmp_path / "consent", clock)
    category = user_category(service)
    user, plugin = Actor("user-1", "user_data"), Actor("plugin.notes", "plugin")
    service.grant(user, plugin, category, "read", ttl_seconds=600)
    service.revoke(user, plugin.id, category, "read")
    with pytest.raises(AccessDenied):  # a plugin granting a fellow plugin is refused by any sane policy
        service.grant(plugin, Actor("plugin.other", "plugin"), category, "write", ttl_seconds=600)
    service.close()
    trail.close()
    events = read_back(audit_dir)
    assert has(events, "consent", "grant", result="success", actor=user.id), summary(events)
    assert has(events, "consent", "revoke", result="success", actor=user.id), summary(events)
    assert has(events, "consent", "grant", result="denied", actor=plugin.id), (
        f"a refused grant is not recorded: {summary(events)}")


@pytest.mark.requirement("AICO-AUD-001")
def test_alerts_are_recorded(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                             clock: Callable[[], float], read_back: ReadBack) -> None:
    trail = audit.open(key_session, audit_dir, clock=clock, thresholds=AnomalyThresholds(auth_failures=3))
    for _ in range(3):
        trail.record(AuditEvent(category="auth", action="login", actor="203.0.113.5", result="failure"))
    trail.close()
    events = read_back(audit_dir)
    assert has(events, "alert", "auth_failures", subject="203.0.113.5"), f"no alert in the log: {summary(events)}"
