"""``aico-secure inspect --format json``: every finding is something readable at rest that must not be.

A key found anywhere breaks key storage (AICO-KM-003); any other canary, vector or plaintext container found
after a canary workload breaks encryption at rest (AICO-SEC-001). The fingerprint leaves out the offset: the
same leak in a new run of the same workload lands at another offset, and must still be the same finding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from aico_secure.report._source.interface import ResultSource, check, fingerprint, recorded_provenance
from aico_secure.report.document import ReportError
from aico_secure.report.model import Finding, Report, SourceKind, SourceRun

MARKER = "aico-secure-inspection/"
VERSION = "aico-secure-inspection/1"
KEY_REQUIREMENT = "AICO-KM-003"
AT_REST_REQUIREMENT = "AICO-SEC-001"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files("aico_secure.inspector").joinpath("schemas", "inspection.schema.json").read_text(
        encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class InspectSource(ResultSource):
    kind = SourceKind.INSPECT

    def recognises(self, data: Mapping[str, Any]) -> bool:
        marker = data.get("schema")
        return isinstance(marker, str) and marker.startswith(MARKER)

    def convert(self, data: Mapping[str, Any], path: Path) -> Report:
        if data.get("schema") != VERSION:
            raise ReportError(f"{path} is an inspection of version {data.get('schema')!r}; this tool reads "
                              f"{VERSION}")
        check(data, _schema(), "aico-secure inspect", path)
        arguments: tuple[str, ...] = (data["root"],)
        workload = data["workload"]
        if workload is not None:
            arguments += ("--workload", "--target", workload["target"])
        provenance = recorded_provenance("inspect", data["tool"]["version"], arguments)
        findings = [_finding(f) for f in data["findings"]]
        problems = [f"not fully inspected: {u['file']}: {u['reason'] or 'no reason recorded'}"
                    for u in data["unreadable"]]
        if workload is not None:
            problems += [f"workload: not implemented by the build: {part}" for part in workload["not_implemented"]]
        totals = data["totals"]
        if totals["files_read"] == 0:
            problems.append("nothing was read")
        complete = bool(data["complete"]) and data["verdict"] != "incomplete" and not problems
        summary = {name: totals[name] for name in ("files_read", "bytes_read", "findings", "unreadable", "skipped")}
        run = SourceRun(SourceKind.INSPECT, provenance, complete, tuple(problems), summary)
        return Report(provenance=provenance, findings=findings, sources=[run])


def _finding(f: Mapping[str, Any]) -> Finding:
    rule = f"inspect/{f['detector']}/{f['kind']}"
    requirement = KEY_REQUIREMENT if f["kind"] == "key" else AT_REST_REQUIREMENT
    detail = {"encoding": f["encoding"], "container": f["container"], "label": f["found"]}
    if f["detail"]:
        detail["detail"] = f["detail"]
    if f["decoded_offset"] is not None:
        detail["decoded_offset"] = str(f["decoded_offset"])
    return Finding(
        source=SourceKind.INSPECT, rule_id=rule, requirement=requirement, severity=f["severity"],
        message=f"{f['found']} readable in {f['file']} ({f['encoding']}, {f['container']})",
        fingerprint=fingerprint(rule, f["file"], f["found"], f["container"]), path=f["file"], offset=f["offset"],
        detail=detail)
