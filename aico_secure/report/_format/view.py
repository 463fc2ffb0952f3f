"""What every human-readable format says about a report, computed once, so the Markdown an auditor signs and the
HTML page CI publishes can never disagree about a verdict, a waiver or why a run is not a pass.

Only plain strings and numbers come out of here; each format escapes them for its own syntax.
"""

from __future__ import annotations

from dataclasses import dataclass

from aico_secure.conform.outcomes import Outcome
from aico_secure.report.model import Finding, Provenance, Report, SourceRun, TraceRow, Verdict, WaiverRecord

SEVERITIES = ("critical", "high", "medium", "low")
OUTCOMES = tuple(o.value for o in Outcome)
NO_VERDICT = "no verdict"  # a trace row that only findings name: no conformance run judged it


def verdict_reasons(report: Report) -> list[str]:
    """Why the verdict is what it is, in the words an auditor needs; a pass says what was checked."""
    reasons: list[str] = []
    not_ok = [v for v in report.verdicts if not v.outcome.ok]
    if not_ok:
        reasons.append(f"{len(not_ok)} of {len(report.verdicts)} requirements are not met")
    if report.findings:
        reasons.append(f"{len(report.findings)} finding(s) stand")
    if not report.sources:
        reasons.append("no source run fed this report, so nothing was checked")
    incomplete = [s for s in report.sources if not s.complete]
    if incomplete:
        reasons.append(f"{len(incomplete)} source run(s) did not check everything: "
                       + ", ".join(s.kind.value for s in incomplete))
    if any(s.kind.value == "conform" for s in report.sources) and not report.verdicts:
        reasons.append("a conformance run judged no requirement")
    expired = [w for w in report.waivers if w.status == "expired"]
    if expired:
        reasons.append(f"{len(expired)} waiver(s) expired and were not honoured")
    if report.verdict is Verdict.PASS:
        waived = sum(1 for v in report.verdicts if v.outcome is Outcome.WAIVED)
        reasons.insert(0, f"{len(report.verdicts)} requirements met"
                          + (f" ({waived} by waiver)" if waived else "")
                          + f" across {len(report.sources)} source run(s), no finding")
    return reasons


def outcome_label(row: TraceRow) -> str:
    return row.outcome.value if row.outcome is not None else NO_VERDICT


def row_ok(row: TraceRow) -> bool:
    """A row an auditor need not look at: its requirement is met and nothing was found against it."""
    return row.outcome is not None and row.outcome.ok and not row.findings


def duration(row: TraceRow) -> float:
    return sum(t.duration for t in row.tests)


def waiver_text(record: WaiverRecord) -> str:
    w = record.waiver
    base = f"{w.justification} (approved by {w.approver}, until {w.expires})"
    if record.status == "expired":
        return f"EXPIRED, NOT honoured: {base}"
    if record.status == "applied":
        covered = record.underlying.value if record.underlying else "unknown"
        return f"applied over '{covered}': {base}"
    return f"{record.status}: {base}"


def location(finding: Finding) -> str:
    if not finding.path:
        return ""
    where = finding.path + (f":{finding.line}" if finding.line else "")
    return where + (f" (byte {finding.offset})" if finding.offset is not None else "")


def area_summary(report: Report) -> list[tuple[str, dict[str, int]]]:
    """Requirements per outcome for each area, areas in the order the report lists them."""
    areas: dict[str, dict[str, int]] = {}
    for v in report.verdicts:
        counts = areas.setdefault(v.requirement.area, {o: 0 for o in OUTCOMES})
        counts[v.outcome.value] += 1
    return list(areas.items())


def finding_area(report: Report, finding: Finding) -> str:
    for v in report.verdicts:
        if v.requirement.id == finding.requirement:
            return v.requirement.area
    return ""


@dataclass(frozen=True)
class Field:
    label: str
    value: str


def provenance_fields(p: Provenance) -> list[Field]:
    """Every provenance field an auditor needs to reproduce a run; absent ones say so rather than vanish."""
    target = f"{p.target.spec} ({p.target.name} {p.target.version})" if p.target else "none"
    fields = [
        Field("command", p.command),
        Field("aico-secure", p.tool_version),
        Field("target", target),
        Field("profile", p.profile or "none"),
        Field("catalog version", str(p.catalog_version) if p.catalog_version is not None else "none"),
        Field("catalog digest", p.catalog_digest or "none"),
        Field("suite digest", p.suite_digest or "none"),
        Field("hypothesis seed", p.hypothesis_seed or "none"),
        Field("Python", p.python),
        Field("OpenSSL", p.openssl),
        Field("platform", p.platform),
        Field("started", p.started_at),
        Field("finished", p.finished_at),
    ]
    if p.target and p.target.capabilities:
        fields.append(Field("capabilities", ", ".join(f"{k}: {'yes' if v else 'NO'}"
                                                      for k, v in sorted(p.target.capabilities.items()))))
    if p.arguments:
        fields.append(Field("arguments", " ".join(p.arguments)))
    return fields


def source_problems(source: SourceRun) -> str:
    if source.problems:
        return "; ".join(source.problems)
    return "none" if source.complete else "incomplete (no reason recorded)"


def source_summary(source: SourceRun) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(source.summary.items())) or "none"
