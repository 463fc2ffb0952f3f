"""SARIF 2.1.0 for code-scanning dashboards: one rule per kind of finding, one result per finding located by
file and byte offset, unreadable parts as tool execution notifications (the run is then not successful).

Emitted as plain JSON following the OASIS SARIF 2.1.0 object model; the tests parse it back with an
independent SARIF model (``sarif-pydantic``) and check the properties the specification requires.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aico_secure.inspector.formats import InspectionFormat
from aico_secure.inspector.report import InspectionReport, sanitized
from aico_secure.inspector.selfreport import PLACEHOLDER

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULES = {
    "canary": ("AICO-INSPECT-CANARY", "Canary text readable at rest",
               "A canary the workload wrote through the build was read back from disk in some encoding."),
    "vector": ("AICO-INSPECT-VECTOR", "Embedding readable at rest",
               "A canary embedding was found stored as little-endian floats (exactly or within tolerance)."),
    "key": ("AICO-INSPECT-KEY", "Key material on disk",
            "Key material (raw, hex or base64) was found in a file."),
    "container": ("AICO-INSPECT-PLAINTEXT-CONTAINER", "Plaintext container",
                  "A database or storage file that should be encrypted is readable and holds data."),
}
LEVEL = {"high": "error", "medium": "warning"}


class SarifFormat(InspectionFormat):
    name = "sarif"

    def render(self, report: InspectionReport) -> str:
        rule_ids = list(RULES)
        rules = [{"id": rid, "name": "".join(w[:1].upper() + w[1:] for w in name.split()),
                  "shortDescription": {"text": name}, "fullDescription": {"text": text}}
                 for rid, name, text in RULES.values()]
        results: list[dict[str, Any]] = []
        for f in report.result.findings:
            kind = f.kind if f.kind in RULES else "container"
            region: dict[str, Any] = {"byteOffset": f.offset}
            results.append({
                "ruleId": RULES[kind][0], "ruleIndex": rule_ids.index(kind),
                "level": LEVEL[f.severity],
                "message": {"text": f"{f.label} found as {f.encoding} in {f.container}"
                                    + (f" ({f.detail})" if f.detail else "")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": report.rel(f.path), "uriBaseId": "ROOT"}, "region": region}}],
                "properties": {"encoding": f.encoding, "container": f.container, "decodedOffset": f.decoded_offset,
                               "entropy": f.entropy, "detector": f.detector},
            })
        notifications = [{"level": "error", "message": {"text": f"not fully inspected: {report.rel(p)}: "
                                                                f"{report.result.unreadable_reasons.get(p, '')}"}}
                         for p in report.result.unreadable]
        if report.result.files_read == 0:
            notifications.append({"level": "error", "message": {"text": "no file was read"}})
        if report.workload and report.workload.not_implemented:
            notifications.append({"level": "error", "message": {
                "text": f"workload capabilities not implemented: {', '.join(report.workload.not_implemented)}"}})
        root_uri = Path(report.result.root).as_uri().rstrip("/") + "/"
        log = {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "aico-secure inspect", "version": report.tool_version, "rules": rules}},
                "originalUriBaseIds": {"ROOT": {"uri": root_uri}},
                "invocations": [{"executionSuccessful": not notifications,
                                 "toolExecutionNotifications": notifications}],
                "results": results,
                "properties": {"verdict": report.verdict, "complete": report.complete,
                               "filesRead": report.result.files_read, "bytesRead": report.result.bytes_read,
                               "reportDigest": PLACEHOLDER},
            }],
        }
        return json.dumps(sanitized(log), indent=2, ensure_ascii=False) + "\n"
