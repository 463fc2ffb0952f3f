"""SARIF 2.1.0 of a whole report, for code-scanning dashboards: every finding is a result on its rule, and every
requirement that is not met is a result (level error) on a rule named after the requirement, so a dashboard
shows "AICO-KM-001 fail" next to the bandit finding that explains it.

``tool.driver.rules`` carries the requirement catalog (every requirement the report judged or a finding names:
id, title, area, severity, ASVS and MASVS references) followed by the finding rules. Levels, the GitHub
``security-severity`` scale and the schema URI are the scan command's (``aico_secure.scan._format.sarif``), so
the same severity ranks the same in both logs. A report that did not check everything is an unsuccessful
invocation with one notification per reason, never a clean log. Emitted as plain JSON following the OASIS
object model, as the scan and inspect SARIF writers do; the tests validate it against the official schema.
"""

from __future__ import annotations

import json
from typing import Any

from aico_secure.conform.catalog import Requirement
from aico_secure.report._format import view
from aico_secure.report.interface import ReportFormat
from aico_secure.report.model import Finding, Report, SourceKind, TraceRow
from aico_secure.scan._format.sarif import LEVEL, SARIF_SCHEMA, SECURITY_SEVERITY
from aico_secure.scan.model import Severity

FINGERPRINT = "aicoFinding/v1"
REQUIREMENT_FINGERPRINT = "aicoRequirement/v1"
# Code scanning refuses a result with no location: one that has no file of its own (a requirement no test ran
# for, a fuzz crash) points at the requirement catalog in the suite, where the requirement is defined.
CATALOG_LOCATION: dict[str, Any] = {"physicalLocation": {
    "artifactLocation": {"uri": "requirements.yaml", "uriBaseId": "AICO_SUITE"}, "region": {"startLine": 1}}}


def _severity(value: str) -> Severity:
    """An unknown severity ranks as high: a finding is never downgraded because its source spelt it oddly."""
    try:
        return Severity(value.lower())
    except ValueError:
        return Severity.HIGH


def _requirement_rule(r: Requirement) -> dict[str, Any]:
    sev = _severity(r.severity)
    tags = ["security", "aico-requirement", f"area/{r.area}", *(f"asvs/{a}" for a in r.asvs),
            *(f"masvs/{m}" for m in r.masvs)]
    return {"id": r.id, "name": r.id.replace("-", ""), "shortDescription": {"text": r.title},
            "fullDescription": {"text": f"{r.title} (seed: {r.section})" if r.section else r.title},
            "defaultConfiguration": {"level": "error"},
            "properties": {"area": r.area, "severity": r.severity, "asvs": list(r.asvs), "masvs": list(r.masvs),
                           "section": r.section, "tags": tags, "security-severity": SECURITY_SEVERITY[sev]}}


def _finding_rule(f: Finding) -> dict[str, Any]:
    sev = _severity(f.severity)
    tags = ["security", f"source/{f.source.value}"] + ([f"requirement/{f.requirement}"] if f.requirement else [])
    return {"id": f.rule_id, "name": f.rule_id.replace("-", "").replace(".", ""),
            "shortDescription": {"text": f"{f.rule_id} ({f.source.value})"},
            "defaultConfiguration": {"level": LEVEL[sev]},
            "properties": {"tags": tags, "security-severity": SECURITY_SEVERITY[sev],
                           "requirement": f.requirement}}


def _location(path: str, line: int, base: str) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": base},
                                 "region": {"startLine": max(1, line)}}}


def _finding_result(f: Finding, index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule_id, "ruleIndex": index, "level": LEVEL[_severity(f.severity)],
        "message": {"text": f.message or f.rule_id},
        "partialFingerprints": {FINGERPRINT: f.fingerprint},
        "properties": {"requirement": f.requirement, "source": f.source.value, "severity": f.severity,
                       **({"offset": f.offset} if f.offset is not None else {}), **dict(f.detail)},
    }
    result["locations"] = [_location(f.path, f.line, "SRCROOT") if f.path else CATALOG_LOCATION]
    return result


def _requirement_result(row: TraceRow, index: int) -> dict[str, Any]:
    r = row.requirement
    outcome = view.outcome_label(row)
    failing = [t for t in row.tests if not t.outcome.ok]
    detail = "; ".join(f"{t.nodeid}: {t.outcome.value}" + (f" ({t.message})" if t.message else "")
                       for t in failing) or "no test ran for this requirement"
    waiver = f" Waiver NOT honoured: {view.waiver_text(row.waiver)}." if row.waiver and \
        row.waiver.status == "expired" else ""
    result: dict[str, Any] = {
        "ruleId": r.id, "ruleIndex": index, "level": "error",
        "message": {"text": f"{r.id} is {outcome}: {detail}.{waiver}"},
        "partialFingerprints": {REQUIREMENT_FINGERPRINT: r.id},
        "properties": {"requirement": r.id, "outcome": outcome, "area": r.area, "severity": r.severity,
                       "tests": [t.nodeid for t in row.tests]},
    }
    files = sorted({t.nodeid.split("::", 1)[0] for t in failing})
    result["locations"] = [_location(path, 1, "AICO_SUITE") for path in files] or [CATALOG_LOCATION]
    return result


def _unchecked(report: Report) -> list[str]:
    """Why the log cannot be read as "everything was checked": an empty result list then means nothing."""
    reasons = [f"{s.kind.value}: {p}" for s in report.sources for p in s.problems]
    reasons += [f"the {s.kind.value} run did not check everything it should have"
                for s in report.sources if not s.complete and not s.problems]
    if not report.sources:
        reasons.append("no source run fed this report, so nothing was checked")
    if any(s.kind is SourceKind.CONFORM for s in report.sources) and not report.verdicts:
        reasons.append("a conformance run judged no requirement")
    return reasons


class SarifFormat(ReportFormat):
    name = "sarif"
    suffix = ".sarif"

    def render(self, report: Report) -> str:
        rules: list[dict[str, Any]] = []
        index: dict[str, int] = {}
        rows = report.trace()
        for row in rows:
            if row.requirement.id not in index:
                index[row.requirement.id] = len(rules)
                rules.append(_requirement_rule(row.requirement))
        for f in report.findings:
            if f.rule_id not in index:
                index[f.rule_id] = len(rules)
                rules.append(_finding_rule(f))
        results = [_requirement_result(row, index[row.requirement.id]) for row in rows
                   if row.outcome is not None and not row.outcome.ok]
        results += [_finding_result(f, index[f.rule_id])
                    for f in sorted(report.findings, key=lambda f: (f.rule_id, f.path, f.line, f.fingerprint))]
        notifications = [{"level": "error", "message": {"text": text}} for text in _unchecked(report)]
        p = report.provenance
        run: dict[str, Any] = {
            "tool": {"driver": {"name": "aico-secure", "version": p.tool_version,
                                "informationUri": "https://github.com/aico/aico-secure", "rules": rules}},
            "originalUriBaseIds": {"SRCROOT": {"description": {"text": "the tree the findings were found in"}},
                                   "AICO_SUITE": {"description": {"text": "aico-secure's conformance suite"}}},
            "invocations": [{"executionSuccessful": not notifications,
                             "startTimeUtc": p.started_at, "endTimeUtc": p.finished_at,
                             "toolExecutionNotifications": notifications}],
            "results": results,
            "properties": {"verdict": report.verdict.value, "complete": report.complete, "totals": report.totals(),
                           "catalogVersion": p.catalog_version, "catalogDigest": p.catalog_digest,
                           "suiteDigest": p.suite_digest, "target": p.target.spec if p.target else None,
                           "sources": [s.kind.value for s in report.sources]},
        }
        return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
