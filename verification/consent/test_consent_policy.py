"""The permission-level rules, one case per rule, and the manager's behaviour around them."""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.consent import ConsentManager, ConsentStateCorrupt, DataAccess, InvalidConsentRequest, policy
from aico_secure.consent.errors import ConsentError, PermissionDenied
from aico_secure.consent.records import SealedRecordFile
from aico_secure.consent.state import STATE_NAME
from aico_secure.keys import Keyring
from aico_secure.reference.keys import ReferenceKeySession
from aico_secure.target.consent import Actor

USER, PLUGIN, SYSTEM = Actor("user", "user_data"), Actor("plugin.a", "plugin"), Actor("core", "system")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Sink:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)


@pytest.fixture
def session(tmp_path: Path) -> ReferenceKeySession:
    return ReferenceKeySession(Keyring.create(Keyring.path_in(tmp_path / "keys"), "pw", profile="test"))


@pytest.mark.parametrize("by, subject, level, allowed", [
    (PLUGIN, PLUGIN, "user_data", False), (PLUGIN, USER, "user_data", False), (PLUGIN, SYSTEM, "system", False),
    (USER, PLUGIN, "user_data", True), (USER, USER, "user_data", True), (USER, SYSTEM, "user_data", True),
    (USER, USER, "system", False), (SYSTEM, PLUGIN, "user_data", False), (SYSTEM, SYSTEM, "system", True),
    (SYSTEM, USER, "system", False), (SYSTEM, PLUGIN, "system", False),
])
def test_grant_rules(by: Actor, subject: Actor, level: str, allowed: bool) -> None:
    assert (policy.grant_refusal(by, subject, level) is None) is allowed  # type: ignore[arg-type]


@pytest.mark.parametrize("by, subject, level, allowed", [
    (PLUGIN, PLUGIN.id, "user_data", True), (PLUGIN, "plugin.b", "user_data", False),
    (USER, "plugin.b", "user_data", True), (USER, "core", "system", False), (SYSTEM, "plugin.b", "user_data", True),
])
def test_revoke_rules(by: Actor, subject: str, level: str, allowed: bool) -> None:
    assert (policy.revoke_refusal(by, subject, level) is None) is allowed  # type: ignore[arg-type]


def test_revocation_through_one_instance_stops_access_through_another(session: ReferenceKeySession,
                                                                      tmp_path: Path) -> None:
    clock = Clock()
    a = ConsentManager.open(session, tmp_path / "c", clock=clock)
    b = ConsentManager.open(session, tmp_path / "c", clock=clock)
    a.grant(USER, PLUGIN, "memories", "read", ttl_seconds=60)
    assert b.check(PLUGIN, "memories", "read")
    a.revoke(USER, PLUGIN.id, "memories", "read")
    assert not b.check(PLUGIN, "memories", "read")


def test_grants_from_two_instances_are_both_kept(session: ReferenceKeySession, tmp_path: Path) -> None:
    clock = Clock()
    a = ConsentManager.open(session, tmp_path / "c", clock=clock)
    b = ConsentManager.open(session, tmp_path / "c", clock=clock)
    a.grant(USER, PLUGIN, "memories", "read", ttl_seconds=60)
    b.grant(USER, PLUGIN, "profile", "read", ttl_seconds=60)
    reopened = ConsentManager.open(session, tmp_path / "c", clock=clock)
    assert {g.category for g in reopened.active_grants(PLUGIN.id)} == {"memories", "profile"}


def test_edited_state_is_refused(session: ReferenceKeySession, tmp_path: Path) -> None:
    ConsentManager.open(session, tmp_path / "c").grant(USER, PLUGIN, "memories", "read", ttl_seconds=60)
    path = tmp_path / "c" / STATE_NAME
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x04
    path.write_bytes(bytes(data))
    with pytest.raises(ConsentStateCorrupt):
        ConsentManager.open(session, tmp_path / "c")


def test_invalid_requests_change_nothing(session: ReferenceKeySession, tmp_path: Path) -> None:
    sink = Sink()
    manager = ConsentManager.open(session, tmp_path / "c", audit=sink, max_ttl_seconds=3600)
    for call in (lambda: manager.grant(USER, PLUGIN, "nonexistent", "read", ttl_seconds=60),
                 lambda: manager.grant(USER, PLUGIN, "memories", "fly", ttl_seconds=60),
                 lambda: manager.grant(USER, PLUGIN, "memories", "read", ttl_seconds=3601),
                 lambda: manager.grant(USER, Actor("", "plugin"), "memories", "read", ttl_seconds=60),
                 lambda: manager.grant(USER, Actor("x", "root"), "memories", "read", ttl_seconds=60)):  # type: ignore[arg-type]
        with pytest.raises(InvalidConsentRequest):
            call()
    assert not (tmp_path / "c" / STATE_NAME).exists() and sink.events == []


def test_expiry_is_recorded_once(session: ReferenceKeySession, tmp_path: Path) -> None:
    clock, sink = Clock(), Sink()
    manager = ConsentManager.open(session, tmp_path / "c", audit=sink, clock=clock)
    manager.grant(USER, PLUGIN, "memories", "read", ttl_seconds=10)
    clock.now += 10
    assert not manager.check(PLUGIN, "memories", "read")
    assert not manager.check(PLUGIN, "memories", "read")
    assert [e.action for e in sink.events if e.action == "expire"] == ["expire"]


def test_data_access_keeps_categories_apart_and_audits_both_ways(session: ReferenceKeySession,
                                                                 tmp_path: Path) -> None:
    sink = Sink()
    manager = ConsentManager.open(session, tmp_path / "c", audit=sink)
    access = DataAccess(manager, SealedRecordFile(session, tmp_path / "c" / "records.sealed"), sink)
    for category in ("memories", "profile"):
        manager.grant(USER, USER, category, "write", ttl_seconds=60)
        manager.grant(USER, USER, category, "read", ttl_seconds=60)
        access.write(USER, category, "same-name", category.encode())
    assert access.read(USER, "memories", "same-name") == b"memories"
    with pytest.raises(PermissionDenied):
        access.read(PLUGIN, "memories", "same-name")
    kinds = [(e.category, e.action, e.result) for e in sink.events if e.category != "consent" or e.action == "check"]
    assert ("data_access", "read", "denied") in kinds and ("consent", "check", "denied") in kinds
    reopened = SealedRecordFile(session, tmp_path / "c" / "records.sealed")
    assert reopened.get("profile/same-name") == b"profile"


def test_a_closed_record_file_refuses_writes_and_keeps_the_data(session: ReferenceKeySession,
                                                                tmp_path: Path) -> None:
    records = SealedRecordFile(session, tmp_path / "r.sealed")
    records.put("a", b"1")
    records.close()
    with pytest.raises(ConsentError):
        records.put("b", b"2")
    assert SealedRecordFile(session, tmp_path / "r.sealed").get("a") == b"1"
