"""Fixtures of the anomaly-detection area: the build's audit capability, an injectable clock, and a helper to
open a trail with chosen thresholds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aico_secure.target import KeySession, Target
from aico_secure.target.audit import AnomalyThresholds, AuditCapability, AuditTrail


class Clock:
    """Seconds since the epoch that move only when a test says so."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def set_utc(self, hour: int, minute: int = 0) -> None:
        """Move to the next time of day ``hour:minute`` UTC (never backwards)."""
        day = datetime.fromtimestamp(self.now, UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
        target = day.timestamp()
        self.now = target if target > self.now else target + 86400


@pytest.fixture
def audit(aico_target: Target) -> AuditCapability:
    capability = aico_target.require("audit")
    assert isinstance(capability, AuditCapability), "target.audit does not implement AuditCapability"
    return capability


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # a Monday afternoon: outside any quiet hours


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
