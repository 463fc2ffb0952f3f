"""Combining the results of several commands about one build into one report.

Merging never makes a result look better than any of its inputs: a requirement judged by two conformance runs
takes the worse outcome (and keeps both runs' tests), every source run is kept with its own completeness, and
findings are kept once per fingerprint. A report is about one build, so results about different targets are
refused rather than blended into a verdict that describes neither.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from aico_secure.conform.outcomes import Outcome, RequirementResult
from aico_secure.report import provenance as provenance_mod
from aico_secure.report.document import ReportError
from aico_secure.report.model import Finding, Report, SourceKind, SourceRun, TargetInfo, WaiverRecord

# Better first. An outcome later in this order is a worse verdict; the three "did not judge" outcomes share a
# rank: none of them says anything about the build's behaviour, and all of them fail the requirement.
OUTCOME_RANK: dict[Outcome, int] = {
    Outcome.PASS: 0, Outcome.WAIVED: 1, Outcome.NOT_IMPLEMENTED: 2, Outcome.NOT_RUN: 2, Outcome.NOT_TESTED: 2,
    Outcome.FAIL: 3, Outcome.ERROR: 4,
}


def worse(a: Outcome, b: Outcome) -> Outcome:
    return b if OUTCOME_RANK[b] > OUTCOME_RANK[a] else a


def merge(inputs: Sequence[tuple[Path, Report]], *, started_at: str | None = None) -> Report:
    """One report from ``(path, partial report)`` pairs, in the order given; ``ReportError`` if they are about
    different builds or there is nothing to merge."""
    if not inputs:
        raise ReportError("nothing to merge: name at least one result")
    started_at = started_at or provenance_mod.now()
    target = _one_target(inputs)
    verdicts: dict[str, RequirementResult] = {}
    findings: dict[str, Finding] = {}
    sources: list[SourceRun] = []
    waivers: list[WaiverRecord] = []
    notes: list[str] = []
    for path, part in inputs:
        for v in part.verdicts:
            held = verdicts.get(v.requirement.id)
            verdicts[v.requirement.id] = v if held is None else RequirementResult(
                held.requirement, worse(held.outcome, v.outcome), [*held.tests, *v.tests])
        for f in part.findings:
            findings.setdefault(f.fingerprint, f)
        for s in part.sources:
            if s not in sources:  # a merged report merged again must not count its runs twice
                sources.append(s)
        for w in part.waivers:
            if w not in waivers:
                waivers.append(w)
        for note in part.notes:
            if note not in notes:
                notes.append(note)
        kinds = ", ".join(sorted({s.kind.value for s in part.sources})) or "no source runs"
        notes.append(f"merged from {path.name} ({kinds})")
    merged_waivers = _one_waiver_each(waivers, verdicts)
    for record in merged_waivers:
        held = verdicts.get(record.waiver.requirement)
        if record.status == "applied" and held is not None and held.outcome is not Outcome.WAIVED:
            notes.append(f"the waiver of {record.waiver.requirement} was applied in one run, but the merged "
                         f"outcome is {held.outcome.value}: another run did not honour it")
    conform = [s.provenance for s in sources if s.kind is SourceKind.CONFORM]
    prov = provenance_mod.collect("merge", started_at=started_at, target=target, with_suite=False,
                                  profile=_agreed([p.profile for p in conform]),
                                  arguments=tuple(str(path) for path, _ in inputs))
    catalog = {(p.catalog_version, p.catalog_digest, p.suite_digest) for p in conform}
    if len(catalog) == 1:
        version, catalog_digest, suite_digest = catalog.pop()
        prov = dataclasses.replace(prov, catalog_version=version, catalog_digest=catalog_digest,
                                   suite_digest=suite_digest)
    elif len(catalog) > 1:
        notes.append("the conformance runs merged here used different catalogs or suites: see each source's "
                     "provenance")
    return Report(provenance=prov, verdicts=list(verdicts.values()), findings=list(findings.values()),
                  sources=sources, waivers=merged_waivers, notes=notes)


def _one_target(inputs: Sequence[tuple[Path, Report]]) -> TargetInfo | None:
    """The build every input is about; two different builds are refused, naming both."""
    seen: dict[tuple[str, str, str], tuple[TargetInfo, Path]] = {}
    for path, part in inputs:
        targets = [part.provenance.target] + [s.provenance.target for s in part.sources]
        for t in targets:
            if t is not None:
                seen.setdefault((t.spec, t.name, t.version), (t, path))
    if len(seen) > 1:
        (a, pa), (b, pb) = list(seen.values())[:2]
        raise ReportError(f"refusing to merge results about different targets: {a.name} {a.version} ({a.spec}) "
                          f"in {pa} and {b.name} {b.version} ({b.spec}) in {pb}; a report is about one build")
    return next(iter(seen.values()))[0] if seen else None


def _agreed(values: list[str | None]) -> str | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _one_waiver_each(records: list[WaiverRecord], verdicts: dict[str, RequirementResult]) -> list[WaiverRecord]:
    """One record per requirement: "applied" only where the merged outcome is still "waived"; otherwise the
    record that says why the waiver did not carry (expired, unused), so the report never shows a waiver as
    honoured for a requirement whose merged verdict is a failure."""
    chosen: dict[str, WaiverRecord] = {}
    for record in records:
        rid = record.waiver.requirement
        verdict = verdicts.get(rid)
        fits = (record.status == "applied") == (verdict is not None and verdict.outcome is Outcome.WAIVED)
        held = chosen.get(rid)
        if held is None:
            chosen[rid] = record
        elif fits and (held.status == "applied") != (verdict is not None and verdict.outcome is Outcome.WAIVED):
            chosen[rid] = record
    return list(chosen.values())
