"""The evidence model: one canonical document, a verdict that fails closed, and a traceability matrix that
covers every requirement a test or a finding speaks about."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from aico_secure.conform.outcomes import Outcome
from aico_secure.report import document
from aico_secure.report.model import Report, SourceKind, SourceRun, Verdict
from verification.report.samples import mixed_report, passing_report


def test_the_document_round_trips_through_the_model() -> None:
    report = mixed_report()
    data = json.loads(document.dump(report))
    assert Report.from_dict(data).to_dict() == data


def test_a_loaded_document_is_the_written_one(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(document.dump(mixed_report()))
    assert document.load(path).to_dict() == json.loads(path.read_text())


def test_provenance_names_what_a_verdict_rests_on() -> None:
    p = passing_report().to_dict()["provenance"]
    assert p["python"].startswith("CPython 3.") and p["openssl"].startswith("OpenSSL")
    assert p["catalog_digest"].startswith("sha256:") and p["suite_digest"].startswith("sha256:")
    for library in ("cryptography", "sqlcipher3-binary", "pyzmq", "duckdb", "hypothesis", "libzmq"):
        assert p["libraries"][library], library
    assert p["target"]["name"] == "aico-secure reference"


def test_only_a_clean_complete_report_passes() -> None:
    assert passing_report().verdict is Verdict.PASS
    assert mixed_report().verdict is Verdict.FAIL


def test_a_finding_alone_fails_the_report() -> None:
    report = passing_report()
    report.findings.append(mixed_report().findings[0])
    assert report.verdict is Verdict.FAIL


def test_an_unfinished_source_makes_a_clean_report_incomplete() -> None:
    report = passing_report()
    report.sources.append(SourceRun(SourceKind.SCAN, report.provenance, False, ("dependencies: OSV unreachable",)))
    assert report.verdict is Verdict.INCOMPLETE and not report.ok


@pytest.mark.parametrize("kind", ["no sources", "conform judged nothing"])
def test_a_report_that_checked_nothing_never_passes(kind: str) -> None:
    report = passing_report()
    report.verdicts.clear()
    if kind == "no sources":
        report.sources.clear()
    assert report.verdict is not Verdict.PASS


def test_the_matrix_lists_each_requirement_with_its_tests_findings_and_waiver() -> None:
    report = mixed_report()
    rows = {row.requirement.id: row for row in report.trace()}
    assert set(rows) >= {v.requirement.id for v in report.verdicts}
    assert set(rows) >= {f.requirement for f in report.findings if f.requirement}
    waived = next(v for v in report.verdicts if v.outcome is Outcome.WAIVED)
    assert rows[waived.requirement.id].waiver is not None
    assert rows["AICO-SEC-001"].findings and rows["AICO-SEC-001"].outcome is None


def test_a_document_that_lies_about_its_shape_is_refused(tmp_path: Path) -> None:
    data = json.loads(document.dump(mixed_report()))
    data["requirements"][0]["outcome"] = "probably fine"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    with pytest.raises(document.ReportError, match="requirements/0/outcome"):
        document.load(path)


@pytest.mark.parametrize("content", [b"", b"{", b"\xff\xfe", b"[]", b'{"report": "something else"}'])
def test_unreadable_documents_are_one_typed_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(document.ReportError) as caught:
        document.load(path)
    assert "\n" not in str(caught.value)


def test_an_oversize_document_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b" " * 2048)
    with pytest.raises(document.ReportError, match="larger than"):
        document.read_json(path, limit=1024)


def test_nothing_invalid_is_ever_written() -> None:
    report = mixed_report()
    report.findings[0] = replace(report.findings[0], severity="apocalyptic")
    with pytest.raises(document.ReportError):
        document.dump(report)


@pytest.mark.parametrize("edit", ["verdict", "totals", "complete"])
def test_a_summary_that_contradicts_the_contents_is_refused(tmp_path: Path, edit: str) -> None:
    data = json.loads(document.dump(mixed_report()))
    if edit == "verdict":
        data["verdict"] = "pass"
    elif edit == "totals":
        data["totals"]["fail"] = 0
    else:
        data["complete"] = False
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    with pytest.raises(document.ReportError, match="inconsistent"):
        document.load(path)


def test_a_fifo_in_place_of_a_report_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    """A report path anyone could have replaced with a FIFO must not hang ``report verify`` or ``diff``."""
    path = tmp_path / "r.json"
    os.mkfifo(path)
    with pytest.raises(document.ReportError, match="not a regular file"):
        document.read_json(path)
