"""What an alert means over time and across categories, stated from the requirements:

* AICO-ANO-001 / -002: a pattern that returns after a quiet period raises a new alert; an alert is not a
  one-off per source for the life of the trail (a second attack would otherwise pass unseen).
* AICO-ANO-002: "access volume" is every data access by one actor within the window, whatever the categories:
  an exfiltrating plugin spreading its reads over categories is the case the detector exists for.
* AICO-ANO-003: every alert in the log names what it is about (the offending source or actor as ``subject``)
  and who raised it (``actor``), so it can be acted on.

Thresholds that do not concern a test are set so they cannot fire (baseline far above the accesses made, no
quiet hours), so each test sees only the detector it is about.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.target.audit import AuditTrail

OpenTrail = Callable[..., AuditTrail]
CALM = {"category_baseline": 10_000, "quiet_start_hour": 0, "quiet_end_hour": 0}
CATEGORIES = ("conversations", "memories", "contacts", "health")


def fail_login(trail: AuditTrail, source: str, user: str) -> None:
    trail.record(AuditEvent(category="auth", action="login", actor=source, subject=user, result="failure"))


def access(trail: AuditTrail, actor: str, category: str) -> None:
    trail.record(AuditEvent(category="data_access", action="read", actor=actor, subject=category))


def alerts_about(trail: AuditTrail, action: str, subject: str) -> list[AuditEvent]:
    return [a for a in trail.alerts() if a.action == action and a.subject == subject]


@pytest.mark.requirement("AICO-ANO-001")
@pytest.mark.parametrize("quiet_windows", [2, 30])
def test_auth_failure_alert_is_raised_again_after_a_quiet_period(open_trail: OpenTrail, clock: Clock,
                                                                 quiet_windows: int) -> None:
    trail = open_trail(auth_failures=3, auth_window_s=60, **CALM)
    for attack in (1, 2, 3):
        for i in range(3):
            fail_login(trail, "203.0.113.9", f"user-{attack}-{i}")
            clock.advance(1)
        raised = alerts_about(trail, "auth_failures", "203.0.113.9")
        assert len(raised) >= attack, (
            f"attack {attack} from one source after {quiet_windows} quiet windows raised no new alert "
            f"({len(raised)} alert(s) in all)")
        clock.advance(60 * quiet_windows)


@pytest.mark.requirement("AICO-ANO-002")
@pytest.mark.parametrize("quiet_windows", [2, 30])
def test_volume_alert_is_raised_again_after_a_quiet_period(open_trail: OpenTrail, clock: Clock,
                                                           quiet_windows: int) -> None:
    trail = open_trail(access_volume=5, volume_window_s=60, **CALM)
    for burst in (1, 2, 3):
        for _ in range(5):
            access(trail, "plugin.bulk", "conversations")
        raised = alerts_about(trail, "access_volume", "plugin.bulk")
        assert len(raised) >= burst, (
            f"burst {burst} after {quiet_windows} quiet windows raised no new alert ({len(raised)} in all)")
        clock.advance(60 * quiet_windows)


@pytest.mark.requirement("AICO-ANO-002")
def test_volume_counts_every_category_together(open_trail: OpenTrail, clock: Clock) -> None:
    trail = open_trail(access_volume=8, volume_window_s=60, **CALM)
    for i in range(7):
        access(trail, "plugin.spread", CATEGORIES[i % len(CATEGORIES)])
        clock.advance(1)
    assert not alerts_about(trail, "access_volume", "plugin.spread"), "flagged below the threshold"
    access(trail, "plugin.spread", CATEGORIES[-1])
    assert alerts_about(trail, "access_volume", "plugin.spread"), (
        f"8 accesses within 60 s spread over {len(CATEGORIES)} categories raised no volume alert: the detector "
        "counts per category, not per actor")


@pytest.mark.requirement("AICO-ANO-003")
def test_every_alert_names_its_subject_and_raiser(open_trail: OpenTrail, clock: Clock) -> None:
    trail = open_trail(auth_failures=3, auth_window_s=60, access_volume=4, volume_window_s=60, category_baseline=2,
                       quiet_start_hour=0, quiet_end_hour=0)
    for i in range(3):
        fail_login(trail, "198.51.100.4", f"user-{i}")
    for _ in range(4):
        access(trail, "plugin.bulk", "conversations")
    access(trail, "plugin.bulk", "health")
    alerts = trail.alerts()
    assert {a.action for a in alerts} >= {"auth_failures", "access_volume", "unusual_category"}, (
        f"expected alerts missing: {sorted({a.action for a in alerts})}")
    for alert in alerts:
        assert alert.actor, f"alert {alert.action} has no actor (who raised it)"
        assert alert.subject in ("198.51.100.4", "plugin.bulk") or alert.action == "auth_failures", (
            f"alert {alert.action} is about {alert.subject!r}, not the offending source or actor")
    sources = {a.subject for a in alerts if a.action == "auth_failures"}
    assert "198.51.100.4" in sources, f"the auth-failure alert does not name the source: {sorted(sources)}"
