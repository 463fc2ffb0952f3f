"""One evidence model for everything the toolkit produces, independent of how it is rendered.

A report holds requirement verdicts (from ``conform``), findings (from ``inspect``, ``scan`` and ``fuzz``), the
provenance of every run that fed it and the waivers it applied. Every item points to a catalog requirement, so
the traceability matrix (requirement -> references -> tests -> findings -> waiver) is a view of this model,
not a second bookkeeping. The JSON document (``to_dict``/``from_dict``) is the canonical form: it is what is
signed, merged, diffed and rendered into every other format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aico_secure.conform.catalog import Requirement
from aico_secure.conform.outcomes import Outcome, RequirementResult, TestResult

REPORT_KIND = "aico-secure-report"
REPORT_VERSION = 2


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    INCOMPLETE = "incomplete"  # nothing failed, but some source did not check everything it should have


class SourceKind(StrEnum):
    CONFORM = "conform"
    INSPECT = "inspect"
    SCAN = "scan"
    FUZZ = "fuzz"


@dataclass(frozen=True)
class TargetInfo:
    spec: str
    name: str
    version: str
    capabilities: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Provenance:
    """Where one run's results came from, so an auditor can reproduce it or tell two runs apart.

    ``libraries`` maps each security-relevant distribution (and native library) to its version, or to
    "not installed": a report never guesses a version it did not read.
    """

    command: str  # "conform", "inspect", "scan", "fuzz" or "merge"
    tool_version: str
    started_at: str
    finished_at: str
    python: str
    openssl: str
    platform: str
    libraries: Mapping[str, str] = field(default_factory=dict)
    catalog_version: int | None = None
    catalog_digest: str | None = None
    suite_digest: str | None = None
    target: TargetInfo | None = None
    profile: str | None = None
    hypothesis_seed: str | None = None
    arguments: tuple[str, ...] = ()  # what was inspected, scanned or fuzzed (a directory, a harness)


@dataclass(frozen=True)
class Finding:
    """One problem one source found at one place. ``fingerprint`` is stable across runs, so ``report diff``
    can tell a new finding from an old one."""

    source: SourceKind
    rule_id: str
    requirement: str | None
    severity: str  # low, medium, high, critical
    message: str
    fingerprint: str
    path: str = ""
    line: int = 0
    offset: int | None = None
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceRun:
    """One run that fed the report, with what it covered: a source that did not finish checking what it
    should have (``complete`` false) makes the report "incomplete", never "pass"."""

    kind: SourceKind
    provenance: Provenance
    complete: bool
    problems: tuple[str, ...] = ()
    summary: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Waiver:
    """An accepted, time-limited exception for one requirement (InSpec's shape)."""

    requirement: str
    justification: str
    approver: str
    expires: str  # ISO date; the waiver is honoured up to and including this day
    run: bool = True  # false: the requirement's tests are not run at all


@dataclass(frozen=True)
class WaiverRecord:
    """What became of one waiver in this report."""

    waiver: Waiver
    status: str  # "applied", "expired" (not honoured) or "unused" (the requirement passed or was not in the run)
    underlying: Outcome | None = None  # the outcome the requirement had before the waiver


@dataclass
class Report:
    provenance: Provenance
    verdicts: list[RequirementResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    sources: list[SourceRun] = field(default_factory=list)
    waivers: list[WaiverRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # ---- derived views ------------------------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        return bool(self.sources) and all(s.complete for s in self.sources)

    @property
    def verdict(self) -> Verdict:
        """Pass only if something was checked, every requirement verdict is ok, no finding stands and every
        source finished; any failure or finding is "fail" even when something else is incomplete."""
        if any(not v.outcome.ok for v in self.verdicts) or self.findings:
            return Verdict.FAIL
        if any(s.kind is SourceKind.CONFORM for s in self.sources) and not self.verdicts:
            return Verdict.FAIL  # a conformance run that judged nothing
        if not self.complete:
            return Verdict.INCOMPLETE
        return Verdict.PASS

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.PASS

    def totals(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Outcome}
        for v in self.verdicts:
            counts[v.outcome.value] += 1
        return counts

    def findings_for(self, requirement_id: str) -> list[Finding]:
        return [f for f in self.findings if f.requirement == requirement_id]

    def waiver_for(self, requirement_id: str) -> WaiverRecord | None:
        return next((w for w in self.waivers if w.waiver.requirement == requirement_id), None)

    def trace(self) -> list[TraceRow]:
        """The traceability matrix: one row per requirement in the report, or named by a finding."""
        rows = [TraceRow(v.requirement, v.outcome, v.tests, self.findings_for(v.requirement.id),
                         self.waiver_for(v.requirement.id)) for v in self.verdicts]
        listed = {v.requirement.id for v in self.verdicts}
        from aico_secure.conform.catalog import default_catalog

        catalog = default_catalog()
        for rid in sorted({f.requirement for f in self.findings if f.requirement and f.requirement not in listed}):
            requirement = catalog.get(rid) or Requirement(rid, "unknown", "not in this catalog", "", "unknown")
            rows.append(TraceRow(requirement, None, [], self.findings_for(rid), self.waiver_for(rid)))
        return rows

    # ---- canonical JSON -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        p = self.provenance
        return {
            "report": REPORT_KIND,
            "report_version": REPORT_VERSION,
            "tool_version": p.tool_version,
            "target": _target_dict(p.target),
            "profile": p.profile,
            "started_at": p.started_at,
            "finished_at": p.finished_at,
            "catalog_version": p.catalog_version,
            "verdict": self.verdict.value,
            "complete": self.complete,
            "totals": self.totals(),
            "finding_totals": _finding_totals(self.findings),
            "notes": list(self.notes),
            "provenance": _provenance_dict(p),
            "sources": [_source_dict(s) for s in self.sources],
            "requirements": [_verdict_dict(v, self) for v in self.verdicts],
            "findings": [_finding_dict(f) for f in self.findings],
            "waivers": [_waiver_record_dict(w) for w in self.waivers],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """The inverse of ``to_dict`` (the document must already be schema-valid: ``schema.load_report``)."""
        waivers = [WaiverRecord(_waiver(w["waiver"]), w["status"],
                                Outcome(w["underlying"]) if w.get("underlying") else None)
                   for w in data.get("waivers", [])]
        return cls(
            provenance=_provenance(data["provenance"]),
            verdicts=[_verdict(r) for r in data["requirements"]],
            findings=[_finding(f) for f in data.get("findings", [])],
            sources=[_source(s) for s in data.get("sources", [])],
            waivers=waivers,
            notes=list(data.get("notes", [])),
        )


@dataclass(frozen=True)
class TraceRow:
    requirement: Requirement
    outcome: Outcome | None  # None: no conformance run judged it (only findings name it)
    tests: list[TestResult]
    findings: list[Finding]
    waiver: WaiverRecord | None


# ---- serialisation helpers ----------------------------------------------------------------------------------
def _target_dict(t: TargetInfo | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {"spec": t.spec, "name": t.name, "version": t.version, "capabilities": dict(t.capabilities)}


def _target(d: Mapping[str, Any] | None) -> TargetInfo | None:
    if d is None:
        return None
    return TargetInfo(d["spec"], d["name"], d["version"], dict(d.get("capabilities", {})))


def _provenance_dict(p: Provenance) -> dict[str, Any]:
    return {"command": p.command, "tool_version": p.tool_version, "started_at": p.started_at,
            "finished_at": p.finished_at, "python": p.python, "openssl": p.openssl, "platform": p.platform,
            "libraries": dict(sorted(p.libraries.items())), "catalog_version": p.catalog_version,
            "catalog_digest": p.catalog_digest, "suite_digest": p.suite_digest, "target": _target_dict(p.target),
            "profile": p.profile, "hypothesis_seed": p.hypothesis_seed, "arguments": list(p.arguments)}


def _provenance(d: Mapping[str, Any]) -> Provenance:
    return Provenance(
        command=d["command"], tool_version=d["tool_version"], started_at=d["started_at"],
        finished_at=d["finished_at"], python=d["python"], openssl=d["openssl"], platform=d["platform"],
        libraries=dict(d.get("libraries", {})), catalog_version=d.get("catalog_version"),
        catalog_digest=d.get("catalog_digest"), suite_digest=d.get("suite_digest"), target=_target(d.get("target")),
        profile=d.get("profile"), hypothesis_seed=d.get("hypothesis_seed"),
        arguments=tuple(d.get("arguments", ())))


def _source_dict(s: SourceRun) -> dict[str, Any]:
    return {"kind": s.kind.value, "complete": s.complete, "problems": list(s.problems),
            "summary": dict(s.summary), "provenance": _provenance_dict(s.provenance)}


def _source(d: Mapping[str, Any]) -> SourceRun:
    return SourceRun(SourceKind(d["kind"]), _provenance(d["provenance"]), d["complete"],
                     tuple(d.get("problems", ())), dict(d.get("summary", {})))


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {"source": f.source.value, "rule_id": f.rule_id, "requirement": f.requirement, "severity": f.severity,
            "message": f.message, "fingerprint": f.fingerprint, "path": f.path, "line": f.line,
            "offset": f.offset, "detail": dict(f.detail)}


def _finding(d: Mapping[str, Any]) -> Finding:
    return Finding(SourceKind(d["source"]), d["rule_id"], d.get("requirement"), d["severity"], d["message"],
                   d["fingerprint"], d.get("path", ""), d.get("line", 0), d.get("offset"),
                   dict(d.get("detail", {})))


def _waiver_dict(w: Waiver) -> dict[str, Any]:
    return {"requirement": w.requirement, "justification": w.justification, "approver": w.approver,
            "expires": w.expires, "run": w.run}


def _waiver(d: Mapping[str, Any]) -> Waiver:
    return Waiver(d["requirement"], d["justification"], d["approver"], d["expires"], d.get("run", True))


def _waiver_record_dict(w: WaiverRecord) -> dict[str, Any]:
    return {"waiver": _waiver_dict(w.waiver), "status": w.status,
            "underlying": w.underlying.value if w.underlying else None}


def _verdict_dict(v: RequirementResult, report: Report) -> dict[str, Any]:
    r = v.requirement
    record = report.waiver_for(r.id)
    return {
        "id": r.id, "area": r.area, "severity": r.severity, "title": r.title, "section": r.section,
        "references": {"asvs": list(r.asvs), "masvs": list(r.masvs)},
        "outcome": v.outcome.value,
        "waiver": _waiver_record_dict(record) if record else None,
        "findings": [f.fingerprint for f in report.findings_for(r.id)],
        "tests": [{"nodeid": t.nodeid, "outcome": t.outcome.value, "duration_s": round(t.duration, 4),
                   "message": t.message, "evidence": dict(t.evidence)} for t in v.tests],
    }


def _verdict(d: Mapping[str, Any]) -> RequirementResult:
    refs = d.get("references", {})
    requirement = Requirement(d["id"], d["area"], d["title"], d.get("section", ""), d["severity"],
                              tuple(refs.get("asvs", ())), tuple(refs.get("masvs", ())))
    tests = [TestResult(t["nodeid"], (d["id"],), Outcome(t["outcome"]), t.get("duration_s", 0.0),
                        t.get("message", ""), dict(t.get("evidence", {}))) for t in d["tests"]]
    return RequirementResult(requirement, Outcome(d["outcome"]), tests)


def _finding_totals(findings: list[Finding]) -> dict[str, int]:
    counts = {s.value: 0 for s in SourceKind}
    for f in findings:
        counts[f.source.value] += 1
    return counts
