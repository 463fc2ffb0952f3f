"""``aico-secure report merge``: one report about one build from every command's results, never better than
any input, refused in one line (exit 2) when the inputs cannot make one honest report.

Conformance reports are built from model objects (a conform run takes minutes); inspect and scan results come
from running the commands."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from aico_secure.conform.catalog import default_catalog
from aico_secure.conform.outcomes import Outcome, RequirementResult, TestResult
from aico_secure.report import document, provenance
from aico_secure.report.model import Report, SourceKind, SourceRun, TargetInfo, Waiver, WaiverRecord

REFERENCE = TargetInfo("aico_secure.reference:build", "aico-secure reference", "0.1.0", {"keys": True})


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", *map(str, args)], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120)


def conform_report(path: Path, outcomes: dict[str, Outcome], *, target: TargetInfo = REFERENCE,
                   waivers: tuple[WaiverRecord, ...] = ()) -> Path:
    catalog = default_catalog()
    prov = provenance.collect("conform", started_at=provenance.now(), target=target, profile="quick")
    verdicts = [RequirementResult(catalog.get(rid), outcome,  # type: ignore[arg-type]
                                  [TestResult(f"keys/test_{path.stem}.py::t_{rid}", (rid,),
                                              Outcome.PASS if outcome is Outcome.WAIVED else outcome, 0.01)])
                for rid, outcome in outcomes.items()]
    run = SourceRun(SourceKind.CONFORM, prov, True, (), {"tests": len(verdicts)})
    path.write_text(document.dump(Report(prov, verdicts, sources=[run], waivers=list(waivers))))
    return path


@pytest.fixture
def inspection(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    canary = f"cnry-{secrets.token_hex(6)}-diary"
    (data / "notes.txt").write_text(f"{canary}\n")
    out = tmp_path / "inspect.json"
    assert _cli("inspect", data, "--canary", canary, "--format", "json", "--output", out).returncode == 1
    return out


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    tree = tmp_path / "src"
    tree.mkdir()
    (tree / "app.py").write_text("import hashlib\n\n\ndef h(x):\n    return hashlib.md5(x).hexdigest()\n")
    out = tmp_path / "scan.json"
    assert _cli("scan", tree, "--only", "static", "--format", "json", "--output", out).returncode == 1
    return out


def test_conform_inspect_and_scan_make_one_report(tmp_path: Path, inspection: Path, scan: Path) -> None:
    conform = conform_report(tmp_path / "conform.json", {"AICO-KM-001": Outcome.PASS, "AICO-SEC-001": Outcome.PASS})
    out = tmp_path / "merged" / "report.json"
    proc = _cli("report", "merge", conform, inspection, scan, "--output", out, "--format", "markdown")
    assert proc.returncode == 1, proc.stderr  # the findings fail the merged report
    merged = document.load(out)
    assert merged.verdict.value == "fail"
    assert [v.requirement.id for v in merged.verdicts] == ["AICO-KM-001", "AICO-SEC-001"]
    assert {f.source for f in merged.findings} == {SourceKind.INSPECT, SourceKind.SCAN}
    assert [s.kind for s in merged.sources] == [SourceKind.CONFORM, SourceKind.INSPECT, SourceKind.SCAN]
    assert merged.provenance.command == "merge" and merged.provenance.target == REFERENCE
    assert merged.provenance.arguments == tuple(map(str, (conform, inspection, scan)))
    assert merged.provenance.suite_digest == provenance.suite_digests()[2]  # the judging run's, carried over
    trace = {row.requirement.id: row for row in merged.trace()}
    assert trace["AICO-SEC-001"].outcome is Outcome.PASS and trace["AICO-SEC-001"].findings
    assert out.with_suffix(".md").is_file()


def test_a_clean_merge_passes_and_an_incomplete_source_does_not(tmp_path: Path) -> None:
    conform = conform_report(tmp_path / "conform.json", {"AICO-KM-001": Outcome.PASS})
    assert _cli("report", "merge", conform, "--output", tmp_path / "a.json").returncode == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    inspection = tmp_path / "inspect.json"
    _cli("inspect", empty, "--canary", "cnry-0123456789", "--format", "json", "--output", inspection)
    proc = _cli("report", "merge", conform, inspection, "--output", tmp_path / "b.json")
    assert proc.returncode == 1 and "incomplete" in proc.stdout, proc.stdout + proc.stderr
    assert document.load(tmp_path / "b.json").verdict.value == "incomplete"


def test_the_same_requirement_takes_the_worse_outcome_and_both_test_lists(tmp_path: Path) -> None:
    first = conform_report(tmp_path / "first.json", {"AICO-KM-001": Outcome.PASS, "AICO-KM-002": Outcome.FAIL})
    second = conform_report(tmp_path / "second.json", {"AICO-KM-001": Outcome.ERROR, "AICO-KM-002": Outcome.PASS})
    out = tmp_path / "m.json"
    assert _cli("report", "merge", first, second, "--output", out).returncode == 1
    merged = {v.requirement.id: v for v in document.load(out).verdicts}
    assert merged["AICO-KM-001"].outcome is Outcome.ERROR and merged["AICO-KM-002"].outcome is Outcome.FAIL
    assert {t.nodeid for t in merged["AICO-KM-001"].tests} == {"keys/test_first.py::t_AICO-KM-001",
                                                              "keys/test_second.py::t_AICO-KM-001"}


def test_a_waiver_carries_only_while_the_merged_outcome_is_waived(tmp_path: Path) -> None:
    waiver = Waiver("AICO-KM-002", "vendor fix due", "security lead", "2099-12-31")
    waived = conform_report(tmp_path / "w.json", {"AICO-KM-002": Outcome.WAIVED},
                            waivers=(WaiverRecord(waiver, "applied", Outcome.FAIL),))
    out = tmp_path / "m1.json"
    assert _cli("report", "merge", waived, "--output", out).returncode == 0
    assert document.load(out).waivers[0].status == "applied"
    failed = conform_report(tmp_path / "f.json", {"AICO-KM-002": Outcome.FAIL})
    out = tmp_path / "m2.json"
    assert _cli("report", "merge", waived, failed, "--output", out).returncode == 1
    merged = document.load(out)
    assert merged.verdicts[0].outcome is Outcome.FAIL
    assert any("waiver of AICO-KM-002" in note for note in merged.notes)


def test_findings_are_kept_once_and_merging_a_merge_counts_nothing_twice(tmp_path: Path, inspection: Path) -> None:
    once = tmp_path / "once.json"
    assert _cli("report", "merge", inspection, inspection, "--output", once).returncode == 1
    twice = tmp_path / "twice.json"
    assert _cli("report", "merge", once, inspection, "--output", twice).returncode == 1
    for path in (once, twice):
        report = document.load(path)
        assert len(report.findings) == 1 and len(report.sources) == 1


def _truncated(tmp_path: Path) -> Path:
    full = conform_report(tmp_path / "full.json", {"AICO-KM-001": Outcome.PASS})
    cut = tmp_path / "cut.json"
    cut.write_text(full.read_text()[:-200])
    return cut


def _other_json(tmp_path: Path) -> Path:
    path = tmp_path / "package.json"
    path.write_text(json.dumps({"name": "left-pad", "version": "1.3.0"}))
    return path


def _another_target(tmp_path: Path) -> Path:
    other = TargetInfo("vendor.build:make", "vendor build", "2.0", {})
    return conform_report(tmp_path / "vendor.json", {"AICO-KM-001": Outcome.PASS}, target=other)


@pytest.mark.parametrize(("make", "expected"), [
    (_another_target, "different targets"), (_other_json, "not a result of an aico-secure command"),
    (_truncated, "is not JSON"), (lambda p: p / "missing.json", "cannot read")],
    ids=["two-targets", "not-a-report", "truncated", "missing"])
def test_refusals_are_one_line_exit_2_and_write_nothing(tmp_path: Path, make: object, expected: str) -> None:
    ours = conform_report(tmp_path / "ours.json", {"AICO-KM-001": Outcome.PASS})
    bad = make(tmp_path)  # type: ignore[operator]
    out = tmp_path / "merged.json"
    proc = _cli("report", "merge", ours, bad, "--output", out)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert expected in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert not out.exists()


def test_an_unknown_format_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    ours = conform_report(tmp_path / "ours.json", {"AICO-KM-001": Outcome.PASS})
    out = tmp_path / "merged.json"
    proc = _cli("report", "merge", ours, "--output", out, "--format", "pdf")
    assert proc.returncode == 2 and "unknown report format" in proc.stderr and not out.exists()
