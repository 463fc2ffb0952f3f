"""For machines: the whole report as JSON, validated against ``schemas/scan-report.schema.json`` before it is
written, so a consumer can rely on the shape."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema

from aico_secure import __version__
from aico_secure.scan._format.interface import ScanFormat
from aico_secure.scan.model import Finding, ScanReport

SCHEMA = "scan-report.schema.json"


def finding_document(f: Finding) -> dict[str, Any]:
    return {"rule_id": f.rule_id, "scanner": f.scanner, "requirement": f.requirement,
            "severity": f.severity.value, "confidence": f.confidence.value, "cwe": f.cwe, "path": f.path,
            "line": f.line, "message": f.message, "snippet": f.snippet, "fingerprint": f.fingerprint}


def report_document(report: ScanReport) -> dict[str, Any]:
    return {
        "tool": {"name": "aico-secure scan", "version": __version__},
        "root": str(report.root),
        "exit_code": report.exit_code,
        "scanners": [{"name": r.scanner, "items_scanned": r.items_scanned, "findings": len(r.findings),
                      "problems": list(r.problems)} for r in report.results],
        "findings": [finding_document(f) for f in report.findings],
        "problems": report.problems,
    }


def schema() -> dict[str, Any]:
    text = resources.files("aico_secure.scan").joinpath("schemas", SCHEMA).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class JsonFormat(ScanFormat):
    name = "json"
    suffix = ".json"

    def render(self, report: ScanReport) -> str:
        document = report_document(report)
        jsonschema.validate(document, schema())
        return json.dumps(document, indent=2, sort_keys=True) + "\n"
