"""Turning test results into one verdict per requirement.

Fail closed: a requirement passes only if at least one of its tests ran and every one of its tests passed.
A requirement whose tests were all skipped is "not run"; one with no tests at all is "not tested". Both are
failures of the run, as are "not implemented" (the build lacks the capability) and errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from aico_secure.conform.catalog import Catalog, Requirement


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    ERROR = "error"
    NOT_IMPLEMENTED = "not implemented"
    NOT_RUN = "not run"
    NOT_TESTED = "not tested"
    WAIVED = "waived"

    @property
    def ok(self) -> bool:
        return self in (Outcome.PASS, Outcome.WAIVED)


# Worst first: the requirement takes the worst outcome among its tests.
_SEVERITY_ORDER = [Outcome.ERROR, Outcome.FAIL, Outcome.NOT_IMPLEMENTED, Outcome.NOT_RUN, Outcome.PASS]


@dataclass
class TestResult:
    __test__ = False  # a result record, not a pytest test class

    nodeid: str
    requirements: tuple[str, ...]
    outcome: Outcome
    duration: float = 0.0
    message: str = ""
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass
class RequirementResult:
    requirement: Requirement
    outcome: Outcome
    tests: list[TestResult]


def aggregate(catalog: Catalog, results: Iterable[TestResult]) -> list[RequirementResult]:
    by_requirement: dict[str, list[TestResult]] = {r.id: [] for r in catalog.requirements}
    for result in results:
        for rid in result.requirements:
            by_requirement.setdefault(rid, []).append(result)
    verdicts = []
    for requirement in catalog.requirements:
        tests = sorted(by_requirement[requirement.id], key=lambda t: t.nodeid)
        if not tests:
            outcome = Outcome.NOT_TESTED
        else:
            outcome = next(o for o in _SEVERITY_ORDER if any(t.outcome == o for t in tests) or o == Outcome.PASS)
        verdicts.append(RequirementResult(requirement, outcome, tests))
    return verdicts


def overall_ok(verdicts: Iterable[RequirementResult]) -> bool:
    verdicts = list(verdicts)
    return bool(verdicts) and all(v.outcome.ok for v in verdicts)
