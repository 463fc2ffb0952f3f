"""The data of a conformance report, independent of how it is rendered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aico_secure.conform.outcomes import Outcome, RequirementResult


@dataclass
class ConformanceReport:
    tool_version: str
    target_spec: str
    target_name: str
    target_version: str
    profile: str
    started_at: str
    finished_at: str
    catalog_version: int
    capabilities: dict[str, bool]
    verdicts: list[RequirementResult]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.verdicts) and all(v.outcome.ok for v in self.verdicts)

    def totals(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Outcome}
        for v in self.verdicts:
            counts[v.outcome.value] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "aico-secure-conformance",
            "report_version": 1,
            "tool_version": self.tool_version,
            "target": {"spec": self.target_spec, "name": self.target_name, "version": self.target_version,
                       "capabilities": self.capabilities},
            "profile": self.profile,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "catalog_version": self.catalog_version,
            "verdict": "pass" if self.ok else "fail",
            "totals": self.totals(),
            "notes": self.notes,
            "requirements": [
                {
                    "id": v.requirement.id,
                    "area": v.requirement.area,
                    "severity": v.requirement.severity,
                    "title": v.requirement.title,
                    "section": v.requirement.section,
                    "references": {"asvs": list(v.requirement.asvs), "masvs": list(v.requirement.masvs)},
                    "outcome": v.outcome.value,
                    "tests": [
                        {"nodeid": t.nodeid, "outcome": t.outcome.value, "duration_s": round(t.duration, 4),
                         "message": t.message, "evidence": t.evidence}
                        for t in v.tests
                    ],
                }
                for v in self.verdicts
            ],
        }
