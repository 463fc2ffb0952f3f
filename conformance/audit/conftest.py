"""Fixtures of the audit area: the build's audit capability, an injectable clock, and a written log."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.conform.fakes import weekday_afternoon
from aico_secure.conform.fixtures import capability_fixture
from aico_secure.target import KeySession
from aico_secure.target.audit import AuditCapability, AuditTrail

ENTRIES = 12



audit = capability_fixture("audit", AuditCapability)


@pytest.fixture
def clock() -> Clock:
    return weekday_afternoon()


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    return tmp_path / "audit"


@pytest.fixture
def trail(audit: AuditCapability, key_session: KeySession, audit_dir: Path, clock: Clock) -> Iterator[AuditTrail]:
    opened = audit.open(key_session, audit_dir, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def written_log(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                clock: Clock) -> list[tuple[Path, int, int]]:
    """A closed log of at least ``ENTRIES`` entries, all in one file; returns its entry spans."""
    opened = audit.open(key_session, audit_dir, clock=clock)
    for i in range(ENTRIES):
        opened.record(AuditEvent(category="data_access", action="read", actor="user-1", subject="notes",
                                 details={"record": f"r{i}"}))
        clock.advance(1)
    opened.close()
    spans = audit.entry_spans(audit_dir)
    assert len(spans) >= ENTRIES, f"{ENTRIES} events recorded but the build reports {len(spans)} entries"
    assert len({path for path, _, _ in spans}) == 1, "these checks need the entries in one file"
    for (_, _, end), (_, start, _) in itertools.pairwise(spans):
        assert start == end, "entry spans of one file must be contiguous"
    return spans


@pytest.fixture
def read_back(audit: AuditCapability, key_session: KeySession, clock: Clock) -> Callable[[Path], list[AuditEvent]]:
    """``read_back(directory)``: the events as a freshly opened trail reads them back from disk."""

    def read(directory: Path) -> list[AuditEvent]:
        again = audit.open(key_session, directory, clock=clock)
        try:
            return again.events()
        finally:
            again.close()

    return read
