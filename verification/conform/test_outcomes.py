"""Fail closed: how test results become requirement verdicts."""

from __future__ import annotations

from aico_secure.conform.catalog import Catalog, Requirement
from aico_secure.conform.outcomes import Outcome, TestResult, aggregate, overall_ok

CATALOG = Catalog(1, tuple(Requirement(f"AICO-XX-00{i}", "key-management", "a requirement title", "s", "high")
                           for i in range(1, 6)))


def result(rid: str, outcome: Outcome, name: str = "t") -> TestResult:
    return TestResult(f"{rid}::{name}", (rid,), outcome)


def test_a_requirement_without_tests_is_not_tested_and_fails() -> None:
    verdicts = aggregate(CATALOG, [result("AICO-XX-001", Outcome.PASS)])
    assert [v.outcome for v in verdicts][1:] == [Outcome.NOT_TESTED] * 4
    assert not overall_ok(verdicts)


def test_worst_outcome_wins_and_skips_are_not_passes() -> None:
    verdicts = {v.requirement.id: v.outcome for v in aggregate(CATALOG, [
        result("AICO-XX-001", Outcome.PASS), result("AICO-XX-001", Outcome.NOT_RUN, "skipped"),
        result("AICO-XX-002", Outcome.PASS), result("AICO-XX-002", Outcome.FAIL, "f"),
        result("AICO-XX-003", Outcome.FAIL), result("AICO-XX-003", Outcome.ERROR, "e"),
        result("AICO-XX-004", Outcome.NOT_IMPLEMENTED), result("AICO-XX-005", Outcome.PASS),
    ])}
    assert verdicts == {"AICO-XX-001": Outcome.NOT_RUN, "AICO-XX-002": Outcome.FAIL, "AICO-XX-003": Outcome.ERROR,
                        "AICO-XX-004": Outcome.NOT_IMPLEMENTED, "AICO-XX-005": Outcome.PASS}


def test_all_pass_is_ok_and_nothing_is_not() -> None:
    assert overall_ok(aggregate(CATALOG, [result(r.id, Outcome.PASS) for r in CATALOG.requirements]))
    assert not overall_ok([])
