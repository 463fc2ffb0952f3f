"""The authentication-failure alert is raised once per source for the life of the trail: its cooldown never
re-arms, so a second attack from the same source after a quiet spell passes without an alert."""

from __future__ import annotations

from aico_secure.audit.anomaly import AnomalyMonitor, detectors_for
from aico_secure.audit.anomaly.auth_failures import AuthFailureDetector
from aico_secure.audit.anomaly.window import Cooldown
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.target import Target
from aico_secure.target.audit import AnomalyThresholds

from ._base import reference_with

BREAKS = ("AICO-ANO-001",)


class OnceEver(Cooldown):
    def ready(self, key: str, now: float) -> bool:
        if key in self._last:
            return False
        self._last[key] = now
        return True


class AlertOnceAudit(ReferenceAudit):
    def monitor(self, thresholds: AnomalyThresholds | None) -> AnomalyMonitor:
        detectors = detectors_for(thresholds or AnomalyThresholds())
        for detector in detectors:
            if isinstance(detector, AuthFailureDetector):
                detector._cooldown = OnceEver(detector.window_s)
        return AnomalyMonitor(detectors)


def build() -> Target:
    return reference_with("auth-failure alert raised once per source, ever", audit=AlertOnceAudit())
