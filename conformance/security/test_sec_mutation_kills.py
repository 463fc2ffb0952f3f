"""Checks written for mutants of the reference build that survived the whole suite (docs/mutation.md).

Each test states a requirement's property in general terms, not the mutant's particulars: the mutant is
only the evidence that the property was not checked.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.target import KeySession, Target
from aico_secure.target.audit import AnomalyThresholds, AuditCapability
from aico_secure.target.keys import KeysCapability

HEX = b"0123456789abcdef"
EDITS_PER_FILE = 24


def _spread(positions: list[int], count: int) -> list[int]:
    """``count`` positions spread evenly over the file (all of them when there are fewer)."""
    if len(positions) <= count:
        return positions
    step = len(positions) / count
    return [positions[int(i * step)] for i in range(count)]


@pytest.mark.requirement("AICO-AUD-003")
def test_every_format_preserving_edit_to_any_audit_file_is_reported(
        aico_target: Target, key_session: KeySession, tmp_path: Path,
        evidence: Callable[[str, object], None]) -> None:
    """Tamper evidence covers every file the log keeps (entries, headers, checkpoints), not only the entries:
    one hex digit swapped for another keeps every field well formed, so only authentication can notice it.
    A checkpoint that is parsed but not authenticated would let truncation through."""
    audit = aico_target.require("audit")
    assert isinstance(audit, AuditCapability), "the audit capability does not follow the contract"
    directory = tmp_path / "audit"
    trail = audit.open(key_session, directory)
    for i in range(6):
        trail.record(AuditEvent(category="data_access", action="read", actor="user-1", subject=f"note-{i}",
                                result="success"))
    trail.close()
    assert audit.verify(key_session, directory).ok, "the untouched log does not verify"
    unreported: list[str] = []
    edits = 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        original = path.read_bytes()
        for pos in _spread([i for i, b in enumerate(original) if b in HEX], EDITS_PER_FILE):
            edited = bytearray(original)
            edited[pos] = HEX[(HEX.index(original[pos]) + 1) % len(HEX)]
            path.write_bytes(bytes(edited))
            try:
                if audit.verify(key_session, directory).ok:
                    unreported.append(f"{path.relative_to(directory)}@{pos}")
            finally:
                path.write_bytes(original)
            edits += 1
    evidence("format-preserving edits", edits)
    assert edits, "the audit log left no file with editable fields"
    assert not unreported, f"edits that verify reports as an intact log: {unreported[:10]}"


@pytest.mark.requirement("AICO-ANO-001")
def test_the_smallest_failure_threshold_is_accepted_and_alerts_on_the_first_failure(
        aico_target: Target, key_session: KeySession, tmp_path: Path) -> None:
    """Thresholds are configurable over their whole range: a deployment that wants an alert on every failed
    login sets ``auth_failures=1``; a build that refuses that value, or needs a second failure, has a floor
    the contract does not allow."""
    audit = aico_target.require("audit")
    assert isinstance(audit, AuditCapability), "the audit capability does not follow the contract"
    trail = audit.open(key_session, tmp_path / "audit", thresholds=AnomalyThresholds(auth_failures=1))
    try:
        trail.record(AuditEvent(category="auth", action="login", actor="198.51.100.77", result="failure"))
        alerts = [a for a in trail.alerts() if a.action == "auth_failures"]
    finally:
        trail.close()
    assert alerts, "auth_failures=1: the first failure raised no alert"


@pytest.mark.requirement("AICO-AUD-003")
def test_an_authentic_entry_from_a_fork_of_the_log_is_detected(
        aico_target: Target, tmp_path: Path, password: str, fast_kdf: bool) -> None:
    """Two copies of the same log (and keyring), each continued on its own, are a fork: every entry of either
    is authentic. Putting one copy's entry in place of the other's entry with the same sequence number
    leaves a log whose entries all verify one by one; only the chain (each entry naming its predecessor)
    shows that the next entry does not follow it."""
    keys = aico_target.require("keys")
    audit = aico_target.require("audit")
    assert isinstance(keys, KeysCapability) and isinstance(audit, AuditCapability)
    first = keys.create(tmp_path / "keys", password, fast_kdf=fast_kdf)
    trail = audit.open(first, tmp_path / "log")
    for i in range(4):
        trail.record(AuditEvent(category="data_access", action="read", actor="user-1", subject=f"shared-{i}",
                                result="success"))
    trail.close()
    first.close()
    sessions: dict[str, KeySession] = {}
    try:
        for branch in ("a", "b"):
            shutil.copytree(tmp_path / "keys", tmp_path / f"keys-{branch}")
            shutil.copytree(tmp_path / "log", tmp_path / f"log-{branch}")
            sessions[branch] = keys.unlock(tmp_path / f"keys-{branch}", password)
            trail = audit.open(sessions[branch], tmp_path / f"log-{branch}")
            for i in range(2):
                trail.record(AuditEvent(category="data_access", action="write", actor="user-1",
                                        subject=f"{branch}-{i}", result="success"))
            trail.close()
        a_spans, b_spans = audit.entry_spans(tmp_path / "log-a"), audit.entry_spans(tmp_path / "log-b")
        assert len(a_spans) == len(b_spans) >= 3, "the two branches do not hold the same number of entries"
        k = len(b_spans) - 2  # the first entry written after the fork
        a_path, a_start, a_end = a_spans[k]
        b_path, b_start, b_end = b_spans[k]
        a_entry, b_data = a_path.read_bytes()[a_start:a_end], b_path.read_bytes()
        assert a_entry != b_data[b_start:b_end], "the branches wrote the same entry: no fork to splice"
        b_path.write_bytes(b_data[:b_start] + a_entry + b_data[b_end:])
        report = audit.verify(sessions["b"], tmp_path / "log-b")
    finally:
        for session in sessions.values():
            session.close()
    assert not report.ok, "an entry from a fork of the log verified as part of it"
