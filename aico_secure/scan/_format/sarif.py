"""SARIF 2.1.0 as GitHub code scanning reads it: one rule per rule id (with its requirement, CWE and a
``security-severity``), one result per finding located by ``artifactLocation.uri`` and ``region.startLine``,
``partialFingerprints`` so a finding keeps its identity across runs, and what could not be checked as tool
execution notifications (the run is then not successful).

Emitted as plain JSON following the OASIS object model; the tests validate it against the official schema.
"""

from __future__ import annotations

import json
from typing import Any

from aico_secure import __version__
from aico_secure.scan._format.interface import ScanFormat
from aico_secure.scan.model import Finding, ScanReport, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
# GitHub ranks security results by this number (0.1-10): critical >= 9, high >= 7, medium >= 4.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "2.0"}


def _rule(finding: Finding) -> dict[str, Any]:
    tags = ["security", f"scanner/{finding.scanner}"]
    if finding.cwe:
        tags.append(f"external/cwe/cwe-{finding.cwe}")
    if finding.requirement:
        tags.append(f"requirement/{finding.requirement}")
    return {"id": finding.rule_id, "name": finding.rule_id.replace("-", ""),
            "shortDescription": {"text": f"{finding.rule_id} ({finding.scanner})"},
            "fullDescription": {"text": finding.message},
            "defaultConfiguration": {"level": LEVEL[finding.severity]},
            "properties": {"tags": tags, "security-severity": SECURITY_SEVERITY[finding.severity],
                           "requirement": finding.requirement}}


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    return {"ruleId": finding.rule_id, "ruleIndex": rule_index, "level": LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": finding.path, "uriBaseId": "SRCROOT"},
                "region": {"startLine": max(1, finding.line)}}}],
            "partialFingerprints": {"aicoFinding/v1": finding.fingerprint},
            "properties": {"requirement": finding.requirement, "confidence": finding.confidence.value,
                           "scanner": finding.scanner}}


class SarifFormat(ScanFormat):
    name = "sarif"
    suffix = ".sarif"

    def render(self, report: ScanReport) -> str:
        rules: dict[str, int] = {}
        descriptors: list[dict[str, Any]] = []
        results = []
        for finding in sorted(report.findings, key=lambda f: (f.rule_id, f.path, f.line)):
            if finding.rule_id not in rules:
                rules[finding.rule_id] = len(descriptors)
                descriptors.append(_rule(finding))
            results.append(_result(finding, rules[finding.rule_id]))
        notifications = [{"level": "error", "message": {"text": problem}} for problem in report.problems]
        run = {
            "tool": {"driver": {"name": "aico-secure scan", "version": __version__,
                                "informationUri": "https://github.com/aico/aico-secure", "rules": descriptors}},
            "originalUriBaseIds": {"SRCROOT": {"uri": report.root.resolve().as_uri() + "/"}},
            "invocations": [{"executionSuccessful": not report.problems,
                             "toolExecutionNotifications": notifications}],
            "results": results,
        }
        return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
