"""Reports built from the real model, for tests of everything that reads or writes one.

Built through the model (not hand-written JSON), so a change to the model's shape changes the samples too and
no test keeps checking a document the toolkit no longer writes.
"""

from __future__ import annotations

from aico_secure.conform.catalog import default_catalog
from aico_secure.conform.outcomes import Outcome, RequirementResult, TestResult
from aico_secure.report import provenance
from aico_secure.report.model import (
    Finding,
    Report,
    SourceKind,
    SourceRun,
    TargetInfo,
    Waiver,
    WaiverRecord,
)

TARGET = TargetInfo("aico_secure.reference:build", "aico-secure reference", "0.1.0", {"keys": True})


def mixed_report() -> Report:
    """Every outcome class at least once, a finding from each kind of source, an applied and an expired waiver."""
    catalog = default_catalog()
    outcomes = [Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.NOT_IMPLEMENTED, Outcome.NOT_RUN,
                Outcome.NOT_TESTED, Outcome.WAIVED]
    verdicts = []
    for i, requirement in enumerate(catalog.requirements[:14]):
        outcome = outcomes[i % len(outcomes)]
        tests = [] if outcome is Outcome.NOT_TESTED else [
            TestResult(f"conformance/x/test_{requirement.id.lower()}.py::test_{n}", (requirement.id,),
                       Outcome.FAIL if outcome is Outcome.WAIVED else outcome, 0.25 * (n + 1),
                       "" if outcome is Outcome.PASS else f"assertion about {requirement.id}",
                       {"files scanned": str(n + 3)})
            for n in range(2)]
        verdicts.append(RequirementResult(requirement, outcome, tests))
    waived = next(v.requirement.id for v in verdicts if v.outcome is Outcome.WAIVED)
    expired_on = next(v.requirement.id for v in verdicts if v.outcome is Outcome.FAIL)
    origin = provenance.collect("conform", started_at="2026-11-30T10:00:00+00:00",
                                finished_at="2026-11-30T10:02:07+00:00", target=TARGET, profile="quick",
                                hypothesis_seed="1234567")
    findings = [
        Finding(SourceKind.SCAN, "AICO-S101", "AICO-BUS-001", "high", "ZeroMQ socket without CURVE",
                "a" * 32, "src/bus.py", 12),
        Finding(SourceKind.INSPECT, "inspect/literal/canary", "AICO-SEC-001", "high", "canary readable at rest",
                "b" * 32, "data/store.db", 0, 4096, {"encoding": "utf-8"}),
        Finding(SourceKind.FUZZ, "fuzz/envelope/crash", "AICO-SEC-002", "high", "crash input", "c" * 64,
                "crash-0001", 0),
    ]
    sources = [SourceRun(SourceKind.CONFORM, origin, True, (), {"tests": 26}),
               SourceRun(SourceKind.SCAN, origin, True), SourceRun(SourceKind.INSPECT, origin, True)]
    waivers = [
        WaiverRecord(Waiver(waived, "fix lands in the next release", "J. Doe (security lead)", "2099-12-31"),
                     "applied", Outcome.FAIL),
        WaiverRecord(Waiver(expired_on, "was due last year", "J. Doe (security lead)", "2025-01-31"), "expired"),
    ]
    return Report(origin, verdicts, findings, sources, waivers, ["a note for the auditor"])


def passing_report() -> Report:
    catalog = default_catalog()
    origin = provenance.collect("conform", started_at="2026-11-30T10:00:00+00:00",
                                finished_at="2026-11-30T10:02:07+00:00", target=TARGET, profile="quick")
    verdicts = [RequirementResult(r, Outcome.PASS, [TestResult(f"conformance/t.py::test_{r.id}", (r.id,),
                                                               Outcome.PASS, 0.1)])
                for r in catalog.requirements]
    return Report(origin, verdicts, [], [SourceRun(SourceKind.CONFORM, origin, True)])
