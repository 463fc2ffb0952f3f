"""``aico-secure report diff OLD NEW``: exit 1 when anything got worse (a worse outcome, removed coverage, a new
finding), 0 otherwise, 2 when a report cannot be read; the JSON output follows ``diff.schema.json``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aico_secure.conform.catalog import default_catalog
from aico_secure.conform.outcomes import Outcome, RequirementResult, TestResult
from aico_secure.report import diff, document, provenance
from aico_secure.report.model import Finding, Report, SourceKind, SourceRun, TargetInfo

REFERENCE = TargetInfo("aico_secure.reference:build", "aico-secure reference", "0.1.0", {"keys": True})
LEAK = Finding(SourceKind.INSPECT, "inspect/canary/canary", "AICO-SEC-001", "high", "canary readable",
               "a" * 64, "notes.txt", offset=6)
WEAK_HASH = Finding(SourceKind.SCAN, "B324", None, "high", "weak hash", "b" * 32, "app.py", 4)


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "report", *map(str, args)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


def _report(path: Path, outcomes: dict[str, Outcome], findings: tuple[Finding, ...] = (),
            target: TargetInfo = REFERENCE, extra_sources: tuple[SourceKind, ...] = ()) -> Path:
    catalog = default_catalog()
    prov = provenance.collect("conform", started_at=provenance.now(), target=target, profile="quick")
    verdicts = [RequirementResult(catalog.get(rid), o, _tests(rid, o))  # type: ignore[arg-type]
                for rid, o in outcomes.items()]
    sources = [SourceRun(SourceKind.CONFORM, prov, True)]
    sources += [SourceRun(kind, dataclasses.replace(prov, command=kind.value, target=None), True)
                for kind in extra_sources]
    path.write_text(document.dump(Report(prov, verdicts, list(findings), sources)))
    return path


def _tests(rid: str, outcome: Outcome) -> list[TestResult]:
    """The tests behind an outcome: a waived requirement's test failed, a "not tested" one has none."""
    if outcome is Outcome.NOT_TESTED:
        return []
    return [TestResult(f"t.py::{rid}", (rid,), Outcome.FAIL if outcome is Outcome.WAIVED else outcome, 0.1)]


BASE = {"AICO-KM-001": Outcome.PASS, "AICO-KM-002": Outcome.PASS, "AICO-KM-003": Outcome.FAIL}


def _diff(old: Path, new: Path) -> tuple[int, dict[str, Any]]:
    proc = _cli("diff", old, new, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    jsonschema.validate(doc, diff.schema())
    return proc.returncode, doc


def test_identical_reports_exit_0(tmp_path: Path) -> None:
    old = _report(tmp_path / "old.json", BASE, (LEAK,), extra_sources=(SourceKind.INSPECT,))
    text = _cli("diff", old, old)
    assert text.returncode == 0 and "not worse" in text.stdout and "no change" in text.stdout, text.stdout


def test_a_worse_outcome_is_a_regression(tmp_path: Path) -> None:
    old = _report(tmp_path / "old.json", BASE)
    new = _report(tmp_path / "new.json", {**BASE, "AICO-KM-002": Outcome.NOT_RUN})
    code, doc = _diff(old, new)
    assert code == 1 and doc["worse"]
    assert [(c["requirement"], c["old"], c["new"]) for c in doc["regressions"]] == [
        ("AICO-KM-002", "pass", "not run")]
    text = _cli("diff", old, new)
    assert text.returncode == 1 and "REGRESSION" in text.stdout and "AICO-KM-002" in text.stdout


def test_a_waived_requirement_that_now_fails_is_a_regression(tmp_path: Path) -> None:
    old = _report(tmp_path / "old.json", {**BASE, "AICO-KM-002": Outcome.WAIVED})
    new = _report(tmp_path / "new.json", {**BASE, "AICO-KM-002": Outcome.NOT_IMPLEMENTED})
    assert _diff(old, new)[0] == 1


def test_a_fix_is_a_new_pass_and_exits_0(tmp_path: Path) -> None:
    old = _report(tmp_path / "old.json", BASE)
    new = _report(tmp_path / "new.json", {**BASE, "AICO-KM-003": Outcome.PASS})
    code, doc = _diff(old, new)
    assert code == 0 and [c["requirement"] for c in doc["new_passes"]] == ["AICO-KM-003"]


def test_a_removed_requirement_is_removed_coverage(tmp_path: Path) -> None:
    old = _report(tmp_path / "old.json", BASE)
    new = _report(tmp_path / "new.json", {k: v for k, v in BASE.items() if k != "AICO-KM-001"})
    code, doc = _diff(old, new)
    assert code == 1 and [(c["requirement"], c["new"]) for c in doc["regressions"]] == [("AICO-KM-001", None)]


def test_a_new_finding_exits_1_and_a_resolved_one_does_not(tmp_path: Path) -> None:
    clean = _report(tmp_path / "clean.json", BASE, extra_sources=(SourceKind.INSPECT, SourceKind.SCAN))
    leaking = _report(tmp_path / "leak.json", BASE, (LEAK, WEAK_HASH),
                      extra_sources=(SourceKind.INSPECT, SourceKind.SCAN))
    code, doc = _diff(clean, leaking)
    assert code == 1 and {f["fingerprint"] for f in doc["new_findings"]} == {LEAK.fingerprint,
                                                                             WEAK_HASH.fingerprint}
    code, doc = _diff(leaking, clean)
    assert code == 0 and len(doc["resolved_findings"]) == 2 and not doc["new_findings"]


def test_a_finding_not_looked_for_again_is_not_resolved(tmp_path: Path) -> None:
    old = _report(tmp_path / "old.json", BASE, (LEAK,), extra_sources=(SourceKind.INSPECT,))
    new = _report(tmp_path / "new.json", BASE)
    code, doc = _diff(old, new)
    assert code == 1, "dropping the inspection must not look like fixing the leak"
    assert not doc["resolved_findings"] and [f["fingerprint"] for f in doc["not_rechecked_findings"]] == [
        LEAK.fingerprint]
    assert [c["requirement"] for c in doc["regressions"]] == ["source:inspect"]


def test_provenance_changes_are_listed(tmp_path: Path) -> None:
    old = _report(tmp_path / "old.json", BASE)
    new = _report(tmp_path / "new.json", BASE, target=dataclasses.replace(REFERENCE, version="0.2.0"))
    code, doc = _diff(old, new)
    assert code == 0
    assert {"field": "target", "old": "aico-secure reference 0.1.0 (aico_secure.reference:build)",
            "new": "aico-secure reference 0.2.0 (aico_secure.reference:build)"} in doc["provenance_changes"]


@pytest.mark.parametrize(("content", "bad_first"), [("", False), ("{", True), ('{"report": "aico-secure-report"}',
                                                    False), ("[]", True), (None, False)],
                         ids=["empty", "truncated", "invalid", "not-a-report", "missing"])
def test_an_unreadable_report_exits_2(tmp_path: Path, content: str | None, bad_first: bool) -> None:
    good = _report(tmp_path / "good.json", BASE)
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    proc = _cli("diff", *((bad, good) if bad_first else (good, bad)))
    assert proc.returncode == 2 and not proc.stdout and proc.stderr.count("\n") == 1, proc.stderr
    assert str(bad) in proc.stderr
