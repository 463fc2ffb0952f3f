"""AICO-ANO-002: unusual access patterns (volume, category, time of day) are flagged against configurable
thresholds. Data accesses are scripted as the consent service reports them: ``data_access`` events whose
subject is the data category, on an injected clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.target.audit import AuditTrail

from .conftest import Clock

OpenTrail = Callable[..., AuditTrail]


def access(trail: AuditTrail, actor: str, category: str) -> None:
    trail.record(AuditEvent(category="data_access", action="read", actor=actor, subject=category))


def flagged(trail: AuditTrail, action: str, subject: str | None = None) -> list[AuditEvent]:
    return [a for a in trail.alerts() if a.action == action and (subject is None or a.subject == subject)]


@pytest.mark.requirement("AICO-ANO-002")
def test_unusual_volume_is_flagged(open_trail: OpenTrail, clock: Clock) -> None:
    trail = open_trail(access_volume=20, volume_window_s=60)
    for _ in range(19):
        access(trail, "plugin.bulk", "conversations")
        access(trail, "plugin.calm", "conversations")
        clock.advance(1)
    assert not flagged(trail, "access_volume"), "volume flagged below the configured threshold"
    access(trail, "plugin.bulk", "conversations")
    assert flagged(trail, "access_volume", "plugin.bulk"), "20 accesses in 60 s by one actor were not flagged"
    assert not flagged(trail, "access_volume", "plugin.calm"), "an actor below the threshold was flagged"


@pytest.mark.requirement("AICO-ANO-002")
def test_volume_spread_over_time_is_not_flagged(open_trail: OpenTrail, clock: Clock) -> None:
    trail = open_trail(access_volume=20, volume_window_s=60)
    for _ in range(3):
        for _ in range(15):
            access(trail, "plugin.steady", "conversations")
        clock.advance(61)
    assert not flagged(trail, "access_volume"), "15 accesses a minute flagged against a threshold of 20/60 s"


@pytest.mark.requirement("AICO-ANO-002")
def test_unusual_category_is_flagged(open_trail: OpenTrail, clock: Clock) -> None:
    trail = open_trail(category_baseline=10)
    for i in range(10):
        access(trail, "plugin.notes", "conversations")
        access(trail, "user-1", "health" if i % 2 else "conversations")
        clock.advance(30)
    access(trail, "user-1", "health")
    assert not flagged(trail, "unusual_category"), "a category used during the baseline was flagged"
    access(trail, "plugin.notes", "health")
    alerts = flagged(trail, "unusual_category", "plugin.notes")
    assert alerts, "a plugin reading a category it never used before was not flagged"


@pytest.mark.requirement("AICO-ANO-002")
@pytest.mark.parametrize("hour, offset, expected", [
    (3, 0, True), (14, 0, False), (1, 120, True), (23, 120, True), (6, 120, False), (5, 0, False),
], ids=["03h-utc", "14h-utc", "01h-utc+2=03h", "23h-utc+2=01h", "06h-utc+2=08h", "05h-utc-end-exclusive"])
def test_unusual_time_of_day_is_flagged(open_trail: OpenTrail, clock: Clock, hour: int, offset: int,
                                        expected: bool) -> None:
    trail = open_trail(quiet_start_hour=1, quiet_end_hour=5, utc_offset_minutes=offset)
    clock.set_utc(hour, 30 if hour != 5 else 0)
    access(trail, "plugin.night", "memories")
    assert bool(flagged(trail, "unusual_time", "plugin.night")) is expected, (
        f"access at {hour}:xx UTC with offset {offset} min and quiet hours 1-5: expected flagged={expected}")


@pytest.mark.requirement("AICO-ANO-002")
def test_pattern_thresholds_are_configurable(open_trail: OpenTrail, clock: Clock) -> None:
    lenient = open_trail(access_volume=1000, category_baseline=1000, quiet_start_hour=0, quiet_end_hour=0)
    clock.set_utc(3)
    for i in range(60):
        access(lenient, "plugin.busy", f"cat-{i % 3}" if i < 50 else "health")
    assert not lenient.alerts(), f"alerts despite thresholds that allow this activity: {lenient.alerts()}"
