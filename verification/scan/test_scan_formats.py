"""Every scan output format says what the report says, in the shape its consumer reads: SARIF valid against the
official 2.1.0 schema with what GitHub code scanning needs, JSON valid against its own schema, text for people."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from aico_secure.scan import formats
from aico_secure.scan.errors import ScanError
from aico_secure.scan.model import Confidence, Finding, ScannerResult, ScanReport, Severity

SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text())


def _finding(rule: str, path: str, line: int, *, requirement: str | None = "AICO-BUS-001",
             severity: Severity = Severity.HIGH, cwe: int | None = 798) -> Finding:
    return Finding(rule_id=rule, scanner="static", requirement=requirement, severity=severity,
                   confidence=Confidence.HIGH, path=path, line=line, message=f"{rule} at {path}", cwe=cwe,
                   snippet=f"SERVER_SECRET = '<masked>'  # {rule}")


def _report(tmp_path: Path, *, problems: list[str] | None = None) -> ScanReport:
    static = ScannerResult("static", [_finding("AICO-S101", "bus/keys.py", 12),
                                      _finding("AICO-S101", "bus/other.py", 3),
                                      _finding("B105", "api/app.py", 40, requirement=None, severity=Severity.LOW,
                                               cwe=None)], items_scanned=3)
    deps = ScannerResult("dependencies", [_finding("PYSEC-2023-74", "requirements.txt", 0, requirement=None,
                                                   severity=Severity.MEDIUM, cwe=None)], items_scanned=5,
                         problems=problems or [])
    return ScanReport(tmp_path, [static, deps])


def test_sarif_is_valid_against_the_official_schema(tmp_path: Path) -> None:
    log = json.loads(formats.get("sarif").render(_report(tmp_path)))
    jsonschema.validate(log, SARIF_SCHEMA, cls=jsonschema.Draft202012Validator)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["AICO-S101", "B105", "PYSEC-2023-74"]
    assert len(run["results"]) == 4
    for result in run["results"]:
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1, "GitHub code scanning needs a start line of at least 1"
        assert result["partialFingerprints"], "GitHub code scanning tracks results by their fingerprints"
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    assert run["invocations"][0]["executionSuccessful"] is True


def test_sarif_marks_a_scan_that_could_not_finish(tmp_path: Path) -> None:
    log = json.loads(formats.get("sarif").render(_report(tmp_path, problems=["jinja2 could not be audited"])))
    jsonschema.validate(log, SARIF_SCHEMA, cls=jsonschema.Draft202012Validator)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert any("jinja2" in n["message"]["text"] for n in invocation["toolExecutionNotifications"])


def test_sarif_carries_requirement_and_cwe_tags(tmp_path: Path) -> None:
    rules = {r["id"]: r for r in json.loads(formats.get("sarif").render(_report(tmp_path)))["runs"][0]["tool"]
             ["driver"]["rules"]}
    assert "external/cwe/cwe-798" in rules["AICO-S101"]["properties"]["tags"]
    assert rules["AICO-S101"]["properties"]["requirement"] == "AICO-BUS-001"
    assert float(rules["AICO-S101"]["properties"]["security-severity"]) >= 7.0


def test_fingerprints_survive_a_line_move_but_not_a_file_change(tmp_path: Path) -> None:
    moved = _finding("AICO-S101", "bus/keys.py", 99)
    assert moved.fingerprint == _finding("AICO-S101", "bus/keys.py", 12).fingerprint
    assert moved.fingerprint != _finding("AICO-S101", "bus/other.py", 12).fingerprint


def test_json_is_valid_and_complete(tmp_path: Path) -> None:
    document = json.loads(formats.get("json").render(_report(tmp_path)))
    assert document["exit_code"] == 1
    assert len(document["findings"]) == 4
    assert {s["name"]: s["items_scanned"] for s in document["scanners"]} == {"static": 3, "dependencies": 5}


def test_exit_codes_follow_findings_and_problems(tmp_path: Path) -> None:
    assert _report(tmp_path).exit_code == 1
    assert _report(tmp_path, problems=["unreachable"]).exit_code == 2
    assert ScanReport(tmp_path, [ScannerResult("static", items_scanned=4)]).exit_code == 0
    nothing = ScanReport(tmp_path, [ScannerResult("static"), ScannerResult("config")])
    assert nothing.exit_code == 2 and any("nothing was scanned" in p for p in nothing.problems)


def test_text_names_every_finding_and_problem(tmp_path: Path) -> None:
    text = formats.get("text").render(_report(tmp_path, problems=["jinja2 could not be audited"]))
    assert "bus/keys.py:12: AICO-S101 [AICO-BUS-001]" in text
    assert "requirements.txt: PYSEC-2023-74" in text
    assert "not fully checked" in text and "jinja2 could not be audited" in text
    assert "NOT FULLY CHECKED" in text


def test_cyclonedx_without_documents_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScanError, match="no SBOM or CBOM"):
        formats.get("cyclonedx").render(_report(tmp_path))


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ScanError, match="unknown format"):
        formats.get("html")
