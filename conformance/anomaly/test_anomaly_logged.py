"""AICO-ANO-003: every alert is itself recorded in the audit log, after the event that raised it, and stays
there: it is read back from the reopened log, which still verifies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.target import KeySession
from aico_secure.target.audit import AnomalyThresholds, AuditCapability

from .conftest import Clock


@pytest.mark.requirement("AICO-ANO-003")
def test_every_alert_is_in_the_log(audit: AuditCapability, key_session: KeySession, tmp_path: Path,
                                   clock: Clock, evidence: Callable[[str, object], None]) -> None:
    directory = tmp_path / "audit"
    thresholds = AnomalyThresholds(auth_failures=3, auth_window_s=60, access_volume=5, volume_window_s=60,
                                   category_baseline=3, quiet_start_hour=1, quiet_end_hour=5)
    trail = audit.open(key_session, directory, clock=clock, thresholds=thresholds)
    for _ in range(3):
        trail.record(AuditEvent(category="auth", action="login", actor="198.51.100.40", result="failure"))
    for _ in range(5):
        trail.record(AuditEvent(category="data_access", action="read", actor="plugin.a", subject="profile"))
    trail.record(AuditEvent(category="data_access", action="read", actor="plugin.a", subject="health"))
    clock.set_utc(2)
    trail.record(AuditEvent(category="data_access", action="read", actor="plugin.b", subject="profile"))
    live = [(a.action, a.subject) for a in trail.alerts()]
    trail.close()
    expected = {("auth_failures", "198.51.100.40"), ("access_volume", "plugin.a"), ("unusual_category", "plugin.a"),
                ("unusual_time", "plugin.b")}
    assert expected <= set(live), f"the scripted sequence should raise {sorted(expected)}; raised {live}"

    reopened = audit.open(key_session, directory, clock=clock)
    events = reopened.events()
    reopened.close()
    logged = [(e.action, e.subject) for e in events if e.category == "alert"]
    evidence("alerts raised", len(live))
    assert sorted(logged) == sorted(live), f"alerts raised {live} but the log holds {logged}"
    first_failure = next(i for i, e in enumerate(events) if e.category == "auth" and e.result == "failure")
    auth_alert = next(i for i, e in enumerate(events) if e.category == "alert" and e.action == "auth_failures")
    assert auth_alert > first_failure, "the alert is logged before the events that raised it"
    report = audit.verify(key_session, directory)
    assert report.ok, f"the log holding the alerts does not verify: {report.problems[:5]}"
