"""``aico-secure scan --format json``: findings keep the scanner's own rule, requirement and fingerprint.

The snippet is left out on purpose: it is a line of the scanned source, and a finding about a hard-coded
secret would carry the secret into every report rendered from this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aico_secure.report._source.interface import ResultSource, check, recorded_provenance
from aico_secure.report.model import Finding, Report, SourceKind, SourceRun

TOOL = "aico-secure scan"


class ScanSource(ResultSource):
    kind = SourceKind.SCAN

    def recognises(self, data: Mapping[str, Any]) -> bool:
        tool = data.get("tool")
        return isinstance(tool, Mapping) and tool.get("name") == TOOL

    def convert(self, data: Mapping[str, Any], path: Path) -> Report:
        from aico_secure.scan._format.json import schema

        check(data, schema(), TOOL, path)
        provenance = recorded_provenance("scan", data["tool"]["version"], (data["root"],))
        findings = [_finding(f) for f in data["findings"]]
        problems = list(data["problems"])
        for scanner in data["scanners"]:
            problems += [f"{scanner['name']}: {p}" for p in scanner["problems"] if p not in data["problems"]]
        if not data["scanners"] or not any(s["items_scanned"] for s in data["scanners"]):
            problems.append("nothing was scanned")
        if data["exit_code"] == 2 and not problems:
            problems.append("the scan reported it could not check everything (exit 2)")
        summary = {f"{s['name']}_items": s["items_scanned"] for s in data["scanners"]}
        summary["findings"] = len(findings)
        run = SourceRun(SourceKind.SCAN, provenance, not problems, tuple(problems), summary)
        return Report(provenance=provenance, findings=findings, sources=[run])


def _finding(f: Mapping[str, Any]) -> Finding:
    detail = {"scanner": f["scanner"], "confidence": f["confidence"]}
    if f["cwe"] is not None:
        detail["cwe"] = f"CWE-{f['cwe']}"
    return Finding(source=SourceKind.SCAN, rule_id=f["rule_id"], requirement=f["requirement"],
                   severity=f["severity"], message=f["message"], fingerprint=f["fingerprint"], path=f["path"],
                   line=f["line"], detail=detail)
