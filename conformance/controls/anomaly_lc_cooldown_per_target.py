"""Repeated authentication-failure alerts are suppressed per (source, targeted account), not per source.

A source that sprays failures across many accounts gets a fresh alert for every failure once over the
threshold, flooding the log."""

from __future__ import annotations

from aico_secure.audit.anomaly import AnomalyMonitor, detectors_for
from aico_secure.audit.anomaly.auth_failures import ACTION, AuthFailureDetector
from aico_secure.audit.anomaly.interface import alert
from aico_secure.audit.events import AuditEvent
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.target import Target
from aico_secure.target.audit import AnomalyThresholds

from ._base import reference_with

BREAKS = ("AICO-ANO-001",)


class PerTargetCooldownDetector(AuthFailureDetector):
    def observe(self, event: AuditEvent) -> list[AuditEvent]:
        if event.category != "auth" or event.result != "failure":
            return []
        assert event.timestamp is not None
        now = event.timestamp
        alerts = []
        for scope, who in (("source", event.actor), ("identity", event.subject)):
            if not who:
                continue
            key = f"{scope}\x00{who}"
            # the defect: "the same alert" is taken to include the account the failure was aimed at
            if self._counts.add(key, now) >= self.threshold and self._cooldown.ready(f"{key}\x00{event.subject}",
                                                                                       now):
                alerts.append(alert(ACTION, who, now, {"scope": scope, "failures": self.threshold,
                                                       "window_s": self.window_s, "last_action": event.action}))
        return alerts


class PerTargetCooldownAudit(ReferenceAudit):
    def monitor(self, thresholds: AnomalyThresholds | None) -> AnomalyMonitor:
        detectors = detectors_for(thresholds or AnomalyThresholds())
        return AnomalyMonitor([PerTargetCooldownDetector(d.threshold, d.window_s)
                               if isinstance(d, AuthFailureDetector) else d for d in detectors])


def build() -> Target:
    return reference_with("auth-failure alerts suppressed per (source, account)", audit=PerTargetCooldownAudit())
