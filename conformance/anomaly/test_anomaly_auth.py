"""AICO-ANO-001: repeated authentication failures, from the gateway and the bus alike, raise an alert.

Failures are reported as the gateway and the bus report them: ``auth`` events with ``result="failure"`` sent
to the trail; the scripted sequences run on an injected clock.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.target.audit import AuditTrail

from .conftest import Clock

OpenTrail = Callable[..., AuditTrail]


def fail(trail: AuditTrail, source: str, *, action: str = "login", subject: str = "") -> None:
    trail.record(AuditEvent(category="auth", action=action, actor=source, subject=subject, result="failure"))


def auth_alerts(trail: AuditTrail, subject: str | None = None) -> list[AuditEvent]:
    return [a for a in trail.alerts() if a.action == "auth_failures" and (subject is None or a.subject == subject)]


@pytest.mark.requirement("AICO-ANO-001")
@pytest.mark.parametrize("action, source", [("login", "198.51.100.9"), ("curve_handshake", "bus-peer:9ac2e0")],
                         ids=["gateway", "bus"])
def test_failures_from_one_source_raise_an_alert_at_the_threshold(open_trail: OpenTrail, clock: Clock,
                                                                  action: str, source: str) -> None:
    trail = open_trail(auth_failures=4, auth_window_s=60)
    for _ in range(3):
        fail(trail, source, action=action)
        clock.advance(5)
    assert not auth_alerts(trail), "an alert was raised below the configured threshold"
    fail(trail, source, action=action)
    alerts = auth_alerts(trail, source)
    assert alerts, f"4 failures from {source} within 60 s raised no alert naming it: {trail.alerts()}"


@pytest.mark.requirement("AICO-ANO-001")
def test_failures_against_one_identity_from_many_sources_raise_an_alert(open_trail: OpenTrail,
                                                                        clock: Clock) -> None:
    trail = open_trail(auth_failures=5, auth_window_s=120)
    for i in range(5):
        fail(trail, f"203.0.113.{10 + i}", subject="user-1")
        clock.advance(3)
    assert auth_alerts(trail, "user-1"), "5 failures against user-1 from 5 addresses raised no alert naming user-1"


@pytest.mark.requirement("AICO-ANO-001")
def test_failures_spread_beyond_the_window_and_successes_do_not_alert(open_trail: OpenTrail,
                                                                      clock: Clock) -> None:
    trail = open_trail(auth_failures=4, auth_window_s=60)
    for _ in range(3):
        fail(trail, "198.51.100.20")
        clock.advance(1)
    clock.advance(120)
    for _ in range(3):
        fail(trail, "198.51.100.20")
        clock.advance(1)
    for _ in range(10):
        trail.record(AuditEvent(category="auth", action="login", actor="198.51.100.21", subject="user-2"))
    assert not auth_alerts(trail), f"alerts without repeated failures in one window: {trail.alerts()}"


@pytest.mark.requirement("AICO-ANO-001")
def test_threshold_is_configurable(open_trail: OpenTrail) -> None:
    strict, lenient = open_trail(auth_failures=2, auth_window_s=60), open_trail(auth_failures=10, auth_window_s=60)
    for trail in (strict, lenient):
        for _ in range(3):
            fail(trail, "198.51.100.30")
    assert auth_alerts(strict, "198.51.100.30"), "auth_failures=2 did not alert after 3 failures"
    assert not auth_alerts(lenient), "auth_failures=10 alerted after 3 failures"
