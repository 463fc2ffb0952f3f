"""AICO-AUD-003, rollback: the audit log directory restored to an older copy of itself (yesterday's backup, a
snapshot taken by an intruder before covering their tracks) must not verify as intact, and must not be
appended to. Every entry in the copy is authentic and the copy is complete as of when it was taken, so only
state the build keeps outside the directory (the reference build: a monotonic counter sealed in the keyring)
can tell. The suite copies and restores whole files of the directory, nothing else."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.target import IntegrityViolation, KeySession
from aico_secure.target.audit import AuditCapability


def record(audit: AuditCapability, session: KeySession, directory: Path, clock: Callable[[], float], start: int,
           count: int) -> None:
    trail = audit.open(session, directory, clock=clock)
    try:
        for i in range(start, start + count):
            trail.record(AuditEvent(category="data_access", action="read", actor="user-1", subject="notes",
                                    details={"record": f"r{i}"}))
    finally:
        trail.close()


@pytest.mark.requirement("AICO-AUD-003")
def test_restored_older_copy_of_the_log_is_detected(audit: AuditCapability, key_session: KeySession,
                                                    audit_dir: Path, tmp_path: Path, clock: Callable[[], float],
                                                    evidence: Callable[[str, object], None]) -> None:
    record(audit, key_session, audit_dir, clock, 0, 4)
    backup = tmp_path / "audit-backup"
    shutil.copytree(audit_dir, backup)
    record(audit, key_session, audit_dir, clock, 4, 4)
    assert audit.verify(key_session, audit_dir).ok, "the log did not verify before it was rolled back"
    shutil.rmtree(audit_dir)
    shutil.copytree(backup, audit_dir)
    report = audit.verify(key_session, audit_dir)
    evidence("entries in the restored copy", report.entries)
    assert not report.ok and report.problems, (
        "the audit directory restored to an older copy verified as intact: the entries recorded since were "
        "erased without trace")
    with pytest.raises(IntegrityViolation):
        audit.open(key_session, audit_dir, clock=clock)
