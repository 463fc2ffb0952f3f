"""AICO-AUD-004: the audit log is sealed at rest; what events say is not readable from disk."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.conform.checks import find_leaks
from aico_secure.target import KeySession
from aico_secure.target.audit import AuditCapability


@pytest.mark.requirement("AICO-AUD-004")
def test_event_contents_are_not_readable_on_disk(audit: AuditCapability, key_session: KeySession,
                                                 audit_dir: Path, clock: Callable[[], float],
                                                 read_back: Callable[[Path], list[AuditEvent]],
                                                 evidence: Callable[[str, object], None]) -> None:
    actor, subject, detail = (f"{name}-{secrets.token_hex(5)}" for name in ("actor", "subject", "detail"))
    trail = audit.open(key_session, audit_dir, clock=clock)
    for i in range(5):
        trail.record(AuditEvent(category="data_access", action="read", actor=actor, subject=subject,
                                details={"record": detail, "n": i}))
    trail.close()
    events = read_back(audit_dir)
    assert any(e.actor == actor and e.subject == subject and e.details.get("record") == detail for e in events), (
        "the canary events were not recorded: nothing would be checked")
    result = find_leaks(audit_dir, canaries=[actor, subject, detail])
    evidence("files scanned", result.files_read)
    evidence("bytes scanned", result.bytes_read)
    assert result.files_read > 0, "the audit directory is empty: nothing was checked"
    assert not result.findings, f"audit event contents readable on disk: {result.findings[:5]}"
