"""AICO-AUD-002: the audit log never records a password, key or token.

Every operation that handles a secret is run through the audited key session, then the log directory is
searched (every encoding the inspector knows) and so is every event read back, for the passwords used, every
key the session held at any point, and the wrong password tried.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.conform.checks import find_leaks, text_contains_secret
from aico_secure.target import KeySession, RejectedCredentials
from aico_secure.target.audit import AuditCapability, AuditTrail


def _audited(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
             clock: Callable[[], float]) -> tuple[AuditTrail, Callable[[], None], dict[str, bytes]]:
    """A trail on the session, crypto and derivation through it, and a collector of every key it holds."""
    trail = audit.open(key_session, audit_dir, clock=clock)
    session = trail.session
    material: dict[str, bytes] = {}

    def collect() -> None:
        for name, value in session.secret_material().items():
            material.setdefault(f"{name}@{len(material)}", value)

    for purpose in ("libsql", "rocksdb", "audit"):
        session.open(purpose, b"r", session.seal(purpose, b"r", b"value"))
        material[f"derived:{purpose}"] = session.derive(purpose)
    collect()
    return trail, collect, material


def _assert_no_secret(audit_dir: Path, read_back: Callable[[Path], list[AuditEvent]], material: dict[str, bytes],
                      passwords: dict[str, str], evidence: Callable[[str, object], None]) -> None:
    secrets = dict(material) | {name: value.encode() for name, value in passwords.items()}
    events = read_back(audit_dir)
    assert events, "nothing was read back from the log"
    leaked = text_contains_secret("\n".join(repr(e) for e in events), secrets)
    assert not leaked, f"the audit log records secrets: {sorted(leaked)[:5]}"
    result = find_leaks(audit_dir, canaries=list(passwords.values()), secrets=material)
    evidence("files scanned", result.files_read)
    evidence("keys searched", len(material))
    assert result.files_read > 0, "the audit directory is empty: nothing was checked"
    assert not result.findings, f"secrets in the audit log files: {result.findings[:5]}"


@pytest.mark.requirement("AICO-AUD-002")
def test_no_password_or_key_in_the_log(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                       password: str, clock: Callable[[], float],
                                       read_back: Callable[[Path], list[AuditEvent]],
                                       evidence: Callable[[str, object], None]) -> None:
    """Crypto, derivation and a failed login through the audited session: no rotation needed."""
    trail, _collect, material = _audited(audit, key_session, audit_dir, clock)
    trail.record(AuditEvent(category="auth", action="login", actor="192.0.2.7", subject="user-1", result="failure"))
    trail.close()
    _assert_no_secret(audit_dir, read_back, material, {"password": password}, evidence)


@pytest.mark.requirement("AICO-AUD-002")
def test_no_password_or_key_in_the_log_after_key_operations(audit: AuditCapability, key_session: KeySession,
                                                            audit_dir: Path, password: str,
                                                            clock: Callable[[], float],
                                                            read_back: Callable[[Path], list[AuditEvent]],
                                                            evidence: Callable[[str, object], None]) -> None:
    """Rotations and password changes (one refused) through the audited session: every key and password
    they handled stays out of the log."""
    trail, collect, material = _audited(audit, key_session, audit_dir, clock)
    session = trail.session
    session.rotate_data_key("libsql")
    session.rotate_kek("libsql")
    collect()
    session.rotate_master(password)
    collect()
    wrong, new = password + "-wrong", password + "-new"
    with pytest.raises(RejectedCredentials):
        session.change_password(wrong, new)
    session.change_password(password, new)
    collect()
    trail.record(AuditEvent(category="auth", action="login", actor="192.0.2.7", subject="user-1", result="failure"))
    trail.close()
    _assert_no_secret(audit_dir, read_back, material,
                      {"password": password, "new password": new, "wrong password": wrong}, evidence)
