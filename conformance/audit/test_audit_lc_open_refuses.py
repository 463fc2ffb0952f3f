"""AICO-AUD-003: a build never resumes appending to a log that has been tampered with.

Opening an existing log must refuse it (``IntegrityViolation``) when it fails verification: appending to it
would bury the evidence under new, authentic entries, and a writer that "repairs" what it found (cutting off a
line it takes for a half-written one, starting over without the file that bounded the log) destroys it. Only
an append cut short by a crash may be repaired, and an entry that is complete is never that. The changes below
are at the places such repairs look: the end of the log, and the files that hold no entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.target import IntegrityViolation, KeySession
from aico_secure.target.audit import AuditCapability

Spans = list[tuple[Path, int, int]]


def snapshot(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def refused(audit: AuditCapability, key_session: KeySession, directory: Path, clock: Callable[[], float],
            what: str) -> None:
    report = audit.verify(key_session, directory)
    assert not report.ok, f"the log verifies after {what}"
    before = snapshot(directory)
    try:
        trail = audit.open(key_session, directory, clock=clock)
    except IntegrityViolation:
        after = snapshot(directory)  # a lock file the refused open left behind is no change to the log
        assert all(after.get(name) == digest for name, digest in before.items()), \
            f"opening the log after {what} changed it"
        return
    trail.close()
    found = [(p.kind, p.position) for p in report.problems][:5]
    pytest.fail(f"the log was opened for appending after {what} (verify found {found})")


def append_bytes(spans: Spans, extra: bytes) -> None:
    """Insert ``extra`` right after the last entry (keeping anything the file holds after it)."""
    path, _, end = spans[-1]
    data = path.read_bytes()
    path.write_bytes(data[:end] + extra + data[end:])


@pytest.mark.requirement("AICO-AUD-003")
def test_log_with_its_last_entry_repeated_is_refused(audit: AuditCapability, key_session: KeySession,
                                                     audit_dir: Path, written_log: Spans,
                                                     clock: Callable[[], float]) -> None:
    path, start, end = written_log[-1]
    append_bytes(written_log, path.read_bytes()[start:end])
    refused(audit, key_session, audit_dir, clock, "repeating its last entry at the end")


@pytest.mark.requirement("AICO-AUD-003")
def test_log_with_a_foreign_entry_at_the_end_is_refused(audit: AuditCapability, key_session: KeySession,
                                                        audit_dir: Path, tmp_path: Path, written_log: Spans,
                                                        clock: Callable[[], float]) -> None:
    other_dir = tmp_path / "other-audit"
    other = audit.open(key_session, other_dir, clock=clock)
    for i in range(3):
        other.record(AuditEvent(category="data_access", action="read", actor="user-1", subject="notes",
                                details={"record": f"x{i}"}))
    other.close()
    foreign_path, start, end = audit.entry_spans(other_dir)[-1]
    append_bytes(written_log, foreign_path.read_bytes()[start:end])
    refused(audit, key_session, audit_dir, clock, "adding another log's entry at its end")


@pytest.mark.requirement("AICO-AUD-003")
def test_log_missing_any_of_its_files_is_refused(audit: AuditCapability, key_session: KeySession,
                                                 audit_dir: Path, tmp_path: Path, written_log: Spans,
                                                 clock: Callable[[], float],
                                                 evidence: Callable[[str, object], None]) -> None:
    files = sorted(p for p in audit_dir.rglob("*") if p.is_file())
    assert files, "the log directory holds no file: nothing was checked"
    evidence("log files removed one at a time", len(files))
    pristine = {p: p.read_bytes() for p in files}
    rejected = 0
    for gone in files:
        gone.unlink()
        what = f"removing {gone.relative_to(audit_dir)}"
        if not audit.verify(key_session, audit_dir).ok:  # a file that carried no evidence (a lock) may go
            rejected += 1
            refused(audit, key_session, audit_dir, clock, what)
        for p in sorted(p for p in audit_dir.rglob("*") if p.is_file() and p not in pristine):
            p.unlink()
        for p, data in pristine.items():
            p.write_bytes(data)
    evidence("removals verify rejected", rejected)
    assert rejected, "no file of the log could be removed without the log still verifying"
