"""AICO-AUD-003: the log is tamper-evident; every modified, deleted, reordered, inserted or truncated entry is
detected and located. The log is edited on disk one whole entry at a time, through ``entry_spans``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.target import IntegrityViolation, KeySession
from aico_secure.target.audit import AuditCapability, AuditReport

Spans = list[tuple[Path, int, int]]


def rewrite(spans: Spans, order: list[int], replace: dict[int, bytes] | None = None) -> None:
    """Rewrite the log file so its entries are ``order`` (indexes into ``spans``), keeping what lies before
    the first and after the last entry; ``replace`` gives new bytes for some positions of ``order``."""
    path = spans[0][0]
    data = path.read_bytes()
    entries = [data[start:end] for _, start, end in spans]
    body = b"".join((replace or {}).get(k, entries[i]) for k, i in enumerate(order))
    path.write_bytes(data[: spans[0][1]] + body + data[spans[-1][2] :])


def at(report: AuditReport, position: int, *kinds: str) -> bool:
    return any(p.position == position and (not kinds or p.kind in kinds) for p in report.problems)


def explain(report: AuditReport) -> str:
    return f"ok={report.ok}, problems={[(p.kind, p.position) for p in report.problems][:8]}"


@pytest.mark.requirement("AICO-AUD-003")
def test_untouched_log_verifies(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                written_log: Spans, evidence: Callable[[str, object], None]) -> None:
    report = audit.verify(key_session, audit_dir)
    evidence("entries verified", report.entries)
    assert report.ok and not report.problems, explain(report)
    assert report.entries == len(written_log), "verify did not account for every entry"


@pytest.mark.requirement("AICO-AUD-003")
def test_missing_log_is_not_reported_intact(audit: AuditCapability, key_session: KeySession, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    report = audit.verify(key_session, tmp_path / "empty")
    assert not report.ok and any(p.kind == "unreadable" for p in report.problems), explain(report)


@pytest.mark.requirement("AICO-AUD-003")
@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("offset", ["start", "inside", "end"])
def test_modified_entry_is_detected_and_located(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                                written_log: Spans, where: str, offset: str) -> None:
    index = {"first": 0, "middle": len(written_log) // 2, "last": len(written_log) - 1}[where]
    path, start, end = written_log[index]
    byte = {"start": start, "inside": (start + end) // 2, "end": end - 1}[offset]
    data = bytearray(path.read_bytes())
    data[byte] ^= 0x01
    path.write_bytes(bytes(data))
    report = audit.verify(key_session, audit_dir)
    assert not report.ok, f"a flipped bit in entry {index} went unnoticed"
    assert at(report, index), f"the change is not located at entry {index}: {explain(report)}"


@pytest.mark.requirement("AICO-AUD-003")
def test_replaced_entry_is_located(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                   written_log: Spans) -> None:
    index = len(written_log) // 2
    order = list(range(len(written_log)))
    order[index] = index - 2  # an authentic entry copied over another one
    rewrite(written_log, order)
    report = audit.verify(key_session, audit_dir)
    assert not report.ok and at(report, index), explain(report)


@pytest.mark.requirement("AICO-AUD-003")
@pytest.mark.parametrize("where", ["first", "middle"])
def test_deleted_entry_is_detected_and_located(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                               written_log: Spans, where: str) -> None:
    index = {"first": 0, "middle": len(written_log) // 2}[where]
    rewrite(written_log, [i for i in range(len(written_log)) if i != index])
    report = audit.verify(key_session, audit_dir)
    assert not report.ok and at(report, index, "deleted"), explain(report)


@pytest.mark.requirement("AICO-AUD-003")
def test_swapped_neighbours_are_detected_and_located(audit: AuditCapability, key_session: KeySession,
                                                     audit_dir: Path, written_log: Spans) -> None:
    i = len(written_log) // 2
    order = list(range(len(written_log)))
    order[i], order[i + 1] = order[i + 1], order[i]
    rewrite(written_log, order)
    report = audit.verify(key_session, audit_dir)
    assert not report.ok and (at(report, i, "reordered") or at(report, i + 1, "reordered")), explain(report)


@pytest.mark.requirement("AICO-AUD-003")
def test_distant_swap_is_detected_and_located(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                              written_log: Spans) -> None:
    i, j = 1, len(written_log) - 2
    order = list(range(len(written_log)))
    order[i], order[j] = order[j], order[i]
    rewrite(written_log, order)
    report = audit.verify(key_session, audit_dir)
    assert not report.ok and (at(report, i, "reordered") or at(report, j, "reordered")), explain(report)


@pytest.mark.requirement("AICO-AUD-003")
def test_duplicated_entry_is_detected_and_located(audit: AuditCapability, key_session: KeySession,
                                                  audit_dir: Path, written_log: Spans) -> None:
    i = len(written_log) // 2
    order = list(range(len(written_log)))
    order.insert(i + 1, i)
    rewrite(written_log, order)
    report = audit.verify(key_session, audit_dir)
    assert not report.ok and (at(report, i, "inserted") or at(report, i + 1, "inserted")), explain(report)


@pytest.mark.requirement("AICO-AUD-003")
def test_entry_from_another_log_is_detected_as_inserted(audit: AuditCapability, key_session: KeySession,
                                                        audit_dir: Path, tmp_path: Path, written_log: Spans,
                                                        clock: Callable[[], float]) -> None:
    other_dir = tmp_path / "other-audit"
    other = audit.open(key_session, other_dir, clock=clock)
    other.record(AuditEvent(category="data_access", action="read", actor="user-1", subject="notes",
                            details={"record": "r3"}))
    other.close()
    foreign_path, start, end = audit.entry_spans(other_dir)[0]
    foreign = foreign_path.read_bytes()[start:end]
    i = 3
    order = list(range(len(written_log)))
    order.insert(i, 0)
    rewrite(written_log, order, {i: foreign})
    report = audit.verify(key_session, audit_dir)
    assert not report.ok and at(report, i, "inserted"), explain(report)


@pytest.mark.requirement("AICO-AUD-003")
@pytest.mark.parametrize("keep", [0, 1, "all but 3", "all but 1"])
def test_truncated_tail_is_detected(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                    written_log: Spans, keep: int | str) -> None:
    n = len(written_log)
    kept = {"all but 3": n - 3, "all but 1": n - 1}.get(str(keep), keep)
    assert isinstance(kept, int)
    rewrite(written_log, list(range(kept)))
    report = audit.verify(key_session, audit_dir)
    assert not report.ok and at(report, kept, "truncated"), explain(report)


@pytest.mark.requirement("AICO-AUD-003")
def test_cut_inside_the_last_entry_is_detected(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                               written_log: Spans) -> None:
    path, start, end = written_log[-1]
    path.write_bytes(path.read_bytes()[: start + (end - start) // 2])
    report = audit.verify(key_session, audit_dir)
    assert not report.ok and at(report, len(written_log) - 1, "truncated", "modified"), explain(report)


@pytest.mark.requirement("AICO-AUD-003")
def test_log_cut_anywhere_before_its_second_entry_is_detected(audit: AuditCapability, key_session: KeySession,
                                                             audit_dir: Path, written_log: Spans,
                                                             evidence: Callable[[str, object], None]) -> None:
    """A cut inside what precedes the entries (a header, if the build writes one) or inside the first entry is
    a truncation too. Every byte offset is tried: verify must report each one, never raise instead of
    reporting nor call the stub intact."""
    path, _, first_end = written_log[0]
    original = path.read_bytes()
    missed: list[int] = []
    raised: list[str] = []
    for cut in range(first_end):
        path.write_bytes(original[:cut])
        try:
            report = audit.verify(key_session, audit_dir)
        except Exception as exc:  # noqa: BLE001 - any exception is the finding
            raised.append(f"{cut}: {type(exc).__name__}")
            continue
        if report.ok:
            missed.append(cut)
    path.write_bytes(original)
    evidence("cut offsets tried", first_end)
    assert not raised, f"verify raised instead of reporting a cut log at {len(raised)} offsets: {raised[:5]}"
    assert not missed, f"a log cut at these offsets verified as intact: {missed[:10]}"


@pytest.mark.requirement("AICO-AUD-003")
def test_tampered_log_is_not_appended_to(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                                         written_log: Spans, clock: Callable[[], float]) -> None:
    rewrite(written_log, [i for i in range(len(written_log)) if i != 4])
    before = written_log[0][0].read_bytes()
    with pytest.raises(IntegrityViolation):
        audit.open(key_session, audit_dir, clock=clock)
    assert written_log[0][0].read_bytes() == before, "opening a tampered log changed it"
    assert not audit.verify(key_session, audit_dir).ok
