"""Fixtures of the anomaly-detection area: the build's audit capability, an injectable clock, a helper to
open a trail with chosen thresholds, and the alert times of the sustained attacks (``_sustained``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.conform.fakes import weekday_afternoon
from aico_secure.conform.fixtures import capability_fixture
from aico_secure.target import KeySession, Target
from aico_secure.target.audit import AnomalyThresholds, AuditCapability, AuditTrail

from ._sustained import run_attack

audit = capability_fixture("audit", AuditCapability)


@pytest.fixture
def clock() -> Clock:
    return weekday_afternoon()


@pytest.fixture
def open_trail(audit: AuditCapability, key_session: KeySession, tmp_path: Path,
               clock: Clock) -> Iterator[Callable[..., AuditTrail]]:
    """``open_trail(**thresholds)``: a trail on the clock with ``AnomalyThresholds(**thresholds)``; closed at the
    end of the test."""
    opened: list[AuditTrail] = []

    def make(**thresholds: int | float) -> AuditTrail:
        trail = audit.open(key_session, tmp_path / f"audit-{len(opened)}", clock=clock,
                           thresholds=AnomalyThresholds(**thresholds))  # type: ignore[arg-type]
        opened.append(trail)
        return trail

    yield make
    for trail in opened:
        trail.close()


@pytest.fixture(scope="session")
def sustained_alert_times(aico_target: Target, fast_kdf: bool,
                          tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[float]]:
    """``sustained_alert_times("auth" | "access")``: the alert times of that sustained attack, run at most once
    per test process (the tests only read them)."""
    recorded: dict[str, list[float]] = {}

    def times(name: str) -> list[float]:
        if name not in recorded:
            recorded[name] = run_attack(aico_target, name, tmp_path_factory.mktemp(f"sustained-{name}"), fast_kdf)
        return list(recorded[name])

    return times
