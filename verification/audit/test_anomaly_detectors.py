"""The anomaly detectors on their own: windows, cooldowns, baselines, quiet hours, threshold validation and
bounded memory."""

from __future__ import annotations

from dataclasses import replace

import pytest

from aico_secure.audit.anomaly import AnomalyMonitor
from aico_secure.audit.anomaly.time_of_day import in_window, local_hour
from aico_secure.audit.anomaly.window import MAX_KEYS, Cooldown, SlidingCounter
from aico_secure.audit.events import AuditEvent
from aico_secure.target.audit import AnomalyThresholds

T0 = 1_772_460_000.0  # 2026-03-02 14:00 UTC


def auth_failure(source: str, at: float, subject: str = "") -> AuditEvent:
    return AuditEvent(category="auth", action="login", actor=source, subject=subject, result="failure",
                      timestamp=at)


def read(actor: str, category: str, at: float) -> AuditEvent:
    return AuditEvent(category="data_access", action="read", actor=actor, subject=category, timestamp=at)


def test_sliding_counter_forgets_old_events_and_is_capped() -> None:
    counter = SlidingCounter(window_s=10, cap=3)
    assert [counter.add("a", t) for t in (0, 1, 2, 3)] == [1, 2, 3, 3]
    assert counter.add("a", 12.5) == 2  # 0..2 fell out of the window (12.5 - 10 = 2.5)
    for i in range(MAX_KEYS + 50):
        counter.add(f"k{i}", 20)
    assert len(counter._times) == MAX_KEYS


def test_cooldown_allows_one_alert_per_period() -> None:
    cooldown = Cooldown(60)
    assert cooldown.ready("a", 0) and not cooldown.ready("a", 59) and cooldown.ready("a", 60)


def test_a_sustained_attack_gives_one_alert_per_window() -> None:
    monitor = AnomalyMonitor.from_thresholds(AnomalyThresholds(auth_failures=3, auth_window_s=60))
    alerts = [a for i in range(100) for a in monitor.observe(auth_failure("198.51.100.1", T0 + i))]
    assert [a.timestamp for a in alerts] == [T0 + 2, T0 + 62]


def test_alerts_are_not_observed_again() -> None:
    monitor = AnomalyMonitor.from_thresholds(AnomalyThresholds(auth_failures=1))
    (alert,) = monitor.observe(auth_failure("198.51.100.1", T0))
    assert monitor.observe(alert) == []


def test_alerts_carry_no_credentials_and_name_the_source() -> None:
    monitor = AnomalyMonitor.from_thresholds(AnomalyThresholds(auth_failures=1))
    (alert,) = monitor.observe(auth_failure("198.51.100.1", T0))
    assert alert.category == "alert" and alert.subject == "198.51.100.1"
    assert set(alert.details) == {"scope", "failures", "window_s", "last_action"}


def test_category_baseline_learns_then_flags_once() -> None:
    monitor = AnomalyMonitor.from_thresholds(AnomalyThresholds(category_baseline=3))
    seen = [monitor.observe(read("p", c, T0 + i)) for i, c in enumerate(["a", "b", "a", "c", "c", "a"])]
    assert [len(s) for s in seen] == [0, 0, 0, 1, 0, 0]
    assert seen[3][0].details["category"] == "c"


@pytest.mark.parametrize("hour, start, end, inside", [
    (3, 1, 5, True), (5, 1, 5, False), (0, 23, 6, True), (23, 23, 6, True), (6, 23, 6, False), (12, 3, 3, False),
])
def test_quiet_window(hour: int, start: int, end: int, inside: bool) -> None:
    assert in_window(hour, start, end) is inside


def test_local_hour_applies_the_offset() -> None:
    assert local_hour(T0, 0) == 14 and local_hour(T0, 120) == 16 and local_hour(T0, -15 * 60) == 23


@pytest.mark.parametrize("change", [
    {"auth_failures": 0}, {"auth_failures": True}, {"access_volume": -1}, {"auth_window_s": 0},
    {"volume_window_s": float("inf")}, {"quiet_start_hour": 24}, {"utc_offset_minutes": 24 * 60},
    {"category_baseline": 1.5},
])
def test_nonsensical_thresholds_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        AnomalyMonitor.from_thresholds(replace(AnomalyThresholds(), **change))  # type: ignore[arg-type]
