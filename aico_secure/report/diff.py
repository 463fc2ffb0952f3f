"""What changed between two reports of the same kind of run, for a release gate: did anything get worse?

Outcomes are ordered pass < waived < not implemented = not run = not tested < fail < error (``merge.OUTCOME_RANK``):
a requirement regresses when its outcome moves right, and also when it disappears (removed coverage is never a
silent improvement) or appears and is not ok. A finding is new when its fingerprint was not in the old
report; an old finding counts as resolved only if the new report ran the kind of source that found it: a
finding that was not looked for again is "not rechecked", never "resolved". A source kind the old report ran
and the new one did not, or a new report that is incomplete where the old was complete, is removed coverage too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema

from aico_secure.conform.outcomes import Outcome
from aico_secure.report.merge import OUTCOME_RANK
from aico_secure.report.model import Finding, Provenance, Report, SourceKind

DIFF_KIND = "aico-secure-report-diff"
DIFF_VERSION = 1
SCHEMA = "diff.schema.json"


@dataclass(frozen=True)
class Change:
    """One requirement whose outcome moved (``None``: absent from that report)."""

    requirement: str
    title: str
    old: Outcome | None
    new: Outcome | None
    reason: str


@dataclass(frozen=True)
class ProvenanceChange:
    field: str
    old: str
    new: str


@dataclass
class ReportDiff:
    regressions: list[Change] = field(default_factory=list)
    improvements: list[Change] = field(default_factory=list)
    new_passes: list[Change] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    resolved_findings: list[Finding] = field(default_factory=list)
    not_rechecked: list[Finding] = field(default_factory=list)
    provenance: list[ProvenanceChange] = field(default_factory=list)
    old_verdict: str = ""
    new_verdict: str = ""

    @property
    def worse(self) -> bool:
        return bool(self.regressions or self.new_findings)

    @property
    def exit_code(self) -> int:
        return 1 if self.worse else 0


def diff(old: Report, new: Report) -> ReportDiff:
    result = ReportDiff(old_verdict=old.verdict.value, new_verdict=new.verdict.value)
    before = {v.requirement.id: v for v in old.verdicts}
    after = {v.requirement.id: v for v in new.verdicts}
    for rid, was in before.items():
        now = after.get(rid)
        title = was.requirement.title
        if now is None:
            result.regressions.append(Change(rid, title, was.outcome, None, "removed: no longer judged"))
            continue
        if OUTCOME_RANK[now.outcome] > OUTCOME_RANK[was.outcome]:
            result.regressions.append(Change(rid, title, was.outcome, now.outcome, "worse outcome"))
        elif OUTCOME_RANK[now.outcome] < OUTCOME_RANK[was.outcome]:
            change = Change(rid, title, was.outcome, now.outcome, "better outcome")
            (result.new_passes if now.outcome is Outcome.PASS else result.improvements).append(change)
    for rid, now in after.items():
        if rid in before:
            continue
        title = now.requirement.title
        if now.outcome is Outcome.PASS:
            result.new_passes.append(Change(rid, title, None, now.outcome, "added"))
        elif now.outcome is Outcome.WAIVED:  # accepted by someone who signed for it: listed, not a regression
            result.improvements.append(Change(rid, title, None, now.outcome, "added, waived"))
        else:  # an added requirement that fails is a new failure to look at, not new coverage to celebrate
            result.regressions.append(Change(rid, title, None, now.outcome, "added, not ok"))
    old_kinds = {s.kind for s in old.sources}
    new_kinds = {s.kind for s in new.sources}
    for kind in sorted(old_kinds - new_kinds, key=lambda k: k.value):
        result.regressions.append(Change(f"source:{kind.value}", f"{kind.value} results", None, None,
                                         "removed: the new report has no run of this source"))
    if old.complete and not new.complete:
        result.regressions.append(Change("report", "completeness", None, None,
                                         "incomplete: a source of the new report did not check everything"))
    old_prints = {f.fingerprint for f in old.findings}
    new_prints = {f.fingerprint for f in new.findings}
    result.new_findings = [f for f in new.findings if f.fingerprint not in old_prints]
    for f in old.findings:
        if f.fingerprint in new_prints:
            continue
        (result.resolved_findings if f.source in new_kinds or f.source is SourceKind.CONFORM
         else result.not_rechecked).append(f)
    result.provenance = _provenance_changes(old, new)
    return result


def _basis(report: Report) -> Provenance:
    """The provenance that describes the judging run: a merged report's own provenance is the merging
    machine's, so the conformance run it holds speaks for catalog, suite and library versions."""
    conform = [s.provenance for s in report.sources if s.kind is SourceKind.CONFORM]
    return conform[0] if conform else report.provenance


def _notable(report: Report) -> dict[str, str]:
    p = _basis(report)
    target = report.provenance.target or p.target
    fields = {
        "tool_version": p.tool_version, "catalog_version": str(p.catalog_version),
        "catalog_digest": str(p.catalog_digest), "suite_digest": str(p.suite_digest),
        "target": f"{target.name} {target.version} ({target.spec})" if target else "none",
        "profile": str(p.profile), "python": p.python, "openssl": p.openssl,
    }
    fields.update({f"library {name}": version for name, version in p.libraries.items()})
    return fields


def _provenance_changes(old: Report, new: Report) -> list[ProvenanceChange]:
    a, b = _notable(old), _notable(new)
    absent = "absent"
    return [ProvenanceChange(name, a.get(name, absent), b.get(name, absent))
            for name in sorted(set(a) | set(b), key=lambda n: (n.startswith("library "), n))
            if a.get(name, absent) != b.get(name, absent)]


# ---- output -------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("aico_secure.report").joinpath("schemas", SCHEMA).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _change(c: Change) -> dict[str, Any]:
    return {"requirement": c.requirement, "title": c.title, "old": c.old.value if c.old else None,
            "new": c.new.value if c.new else None, "reason": c.reason}


def _finding(f: Finding) -> dict[str, Any]:
    return {"fingerprint": f.fingerprint, "source": f.source.value, "rule_id": f.rule_id,
            "requirement": f.requirement, "severity": f.severity, "path": f.path, "line": f.line,
            "message": f.message}


def to_dict(d: ReportDiff, old_name: str, new_name: str) -> dict[str, Any]:
    document = {
        "diff": DIFF_KIND, "diff_version": DIFF_VERSION,
        "old": {"report": old_name, "verdict": d.old_verdict},
        "new": {"report": new_name, "verdict": d.new_verdict},
        "worse": d.worse,
        "regressions": [_change(c) for c in d.regressions],
        "improvements": [_change(c) for c in d.improvements],
        "new_passes": [_change(c) for c in d.new_passes],
        "new_findings": [_finding(f) for f in d.new_findings],
        "resolved_findings": [_finding(f) for f in d.resolved_findings],
        "not_rechecked_findings": [_finding(f) for f in d.not_rechecked],
        "provenance_changes": [{"field": p.field, "old": p.old, "new": p.new} for p in d.provenance],
    }
    jsonschema.validate(document, schema())
    return document


def render_json(d: ReportDiff, old_name: str, new_name: str) -> str:
    return json.dumps(to_dict(d, old_name, new_name), indent=2) + "\n"


def render_text(d: ReportDiff, old_name: str, new_name: str) -> str:
    def outcome(o: Outcome | None) -> str:
        return o.value if o else "-"

    lines = [f"{old_name} ({d.old_verdict}) -> {new_name} ({d.new_verdict}): "
             f"{'WORSE' if d.worse else 'not worse'}"]
    rows: list[tuple[str, str, str, str, str]] = []
    for label, changes in (("REGRESSION", d.regressions), ("improved", d.improvements), ("new pass", d.new_passes)):
        rows += [(label, c.requirement, outcome(c.old), outcome(c.new), c.reason) for c in changes]
    for label, found in (("NEW FINDING", d.new_findings), ("resolved", d.resolved_findings),
                         ("not rechecked", d.not_rechecked)):
        rows += [(label, f.requirement or "-", f.rule_id, f.severity, f"{f.path or '-'}: {f.message}"[:100])
                 for f in found]
    if rows:
        header = ("change", "requirement", "old/rule", "new/severity", "detail")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        for row in [header, *rows]:
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    else:
        lines.append("no change in requirements or findings")
    for p in d.provenance:
        lines.append(f"provenance: {p.field}: {p.old} -> {p.new}")
    return "\n".join(lines) + "\n"
