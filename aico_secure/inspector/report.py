"""One inspection, ready to render: the result, what was searched for, the workload run (if any), the verdict.

The exit-code rule lives here so the CLI and every format agree: findings or a capability the workload could
not drive give 1 (a problem was found, even if part of the directory was not fully inspected: the report then
lists both); nothing read or something not fully inspected gives 2 (the scan cannot vouch for the directory);
otherwise 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aico_secure import __version__
from aico_secure.inspector.encodings import printable
from aico_secure.inspector.model import InspectionResult
from aico_secure.inspector.needles import Needles
from aico_secure.inspector.selfreport import PLACEHOLDER

SCHEMA_ID = "aico-secure-inspection/1"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # in a name, a line break could forge lines of the text report


@dataclass(frozen=True)
class Searched:
    """What was looked for, as it may be shown: canary texts, the number of vectors, key *names*."""

    canaries: tuple[str, ...] = ()
    vectors: int = 0
    keys: tuple[str, ...] = ()

    @classmethod
    def of(cls, needles: Needles) -> Searched:
        return cls(needles.canaries, len(needles.vectors), tuple(name for name, _ in needles.keys))


@dataclass(frozen=True)
class WorkloadSummary:
    target: str
    driven: tuple[str, ...] = ()
    not_implemented: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class InspectionReport:
    result: InspectionResult
    searched: Searched
    workload: WorkloadSummary | None = None
    tool_version: str = __version__
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Everything met was read to its end (nothing unreadable, something read)."""
        return self.result.files_read > 0 and not self.result.unreadable

    @property
    def verdict(self) -> str:
        """Findings win over "incomplete": a finding is never hidden behind "not fully inspected" (the report
        still lists both, and ``complete`` says whether the rest was read)."""
        if self.result.findings:
            return "findings"
        if self.workload and self.workload.not_implemented:
            return "not-implemented"
        if self.result.files_read == 0 or self.result.unreadable:
            return "incomplete"
        return "clean"

    @property
    def exit_code(self) -> int:
        return {"clean": 0, "findings": 1, "not-implemented": 1, "incomplete": 2}[self.verdict]

    def rel(self, path: str) -> str:
        """A path as reported: relative to the inspected root (``#`` marks a part inside the file); bytes of a
        name that are not UTF-8 are shown escaped (``\\xff``), so every writer can print it."""
        root = self.result.root.rstrip("/") + "/"
        shown = path[len(root):] if path.startswith(root) else path  # a string cut: '#' may be in a name too
        return one_line(printable(shown or "."))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema: ``aico_secure/inspector/schemas/inspection.schema.json``)."""
        r = self.result
        findings = [{
            "file": self.rel(f.path), "offset": f.offset, "decoded_offset": f.decoded_offset, "found": f.label,
            "kind": f.kind, "encoding": f.encoding, "container": f.container, "severity": f.severity,
            "detector": f.detector, "detail": f.detail, "entropy": f.entropy,
        } for f in r.findings]
        severities: Sequence[str] = [f.severity for f in r.findings]
        document: dict[str, Any] = sanitized({
            "schema": SCHEMA_ID,
            "tool": {"name": "aico-secure inspect", "version": self.tool_version},
            "root": r.root,
            "verdict": self.verdict,
            "clean": self.verdict == "clean",
            "searched": {"canaries": list(self.searched.canaries), "vector_canaries": self.searched.vectors,
                         "keys": list(self.searched.keys)},
            "totals": {"files_read": r.files_read, "bytes_read": r.bytes_read, "decoded_bytes": r.decoded_bytes,
                       "findings": len(r.findings), "high": severities.count("high"),
                       "medium": severities.count("medium"), "unreadable": len(r.unreadable),
                       "skipped": len(r.skipped)},
            "findings": findings,
            "unreadable": [{"file": self.rel(p), "reason": r.unreadable_reasons.get(p, "")} for p in r.unreadable],
            "skipped": [self.rel(p) for p in r.skipped],
            "observations": [{"file": self.rel(o.path), "detector": o.detector, "detail": o.detail,
                              "data": dict(o.data)} for o in r.observations],
            "workload": None if self.workload is None else {
                "target": self.workload.target, "driven": list(self.workload.driven),
                "not_implemented": list(self.workload.not_implemented), "notes": list(self.workload.notes)},
            "complete": self.complete,
            "digest": PLACEHOLDER,
        })
        return document


def one_line(text: str) -> str:
    """``text`` with control characters shown as ``\\xNN``: a name or a canary can never start a new line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def sanitized(value: Any) -> Any:
    """Every string in a report, printable by any UTF-8 writer (see ``encodings.printable``)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(k): sanitized(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitized(v) for v in value]
    return value
