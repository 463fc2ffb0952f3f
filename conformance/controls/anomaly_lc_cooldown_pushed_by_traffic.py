"""The access-volume alert's quiet period restarts with every access it suppresses: a burst followed by a pause
alerts again, but a steady exfiltration that never pauses is reported once, in its first window, and never
after."""

from __future__ import annotations

from aico_secure.audit.anomaly import AnomalyMonitor, detectors_for
from aico_secure.audit.anomaly.volume import VolumeDetector
from aico_secure.audit.anomaly.window import Cooldown
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.target import Target
from aico_secure.target.audit import AnomalyThresholds

from ._base import reference_with

BREAKS = ("AICO-ANO-002",)


class TrafficExtendedCooldown(Cooldown):
    def ready(self, key: str, now: float) -> bool:
        last = self._last.get(key)
        self._last[key] = now  # "last seen" instead of "last alerted"
        return last is None or now - last >= self.period_s


class ExtendedCooldownAudit(ReferenceAudit):
    def monitor(self, thresholds: AnomalyThresholds | None) -> AnomalyMonitor:
        detectors = detectors_for(thresholds or AnomalyThresholds())
        for detector in detectors:
            if isinstance(detector, VolumeDetector):
                detector._cooldown = TrafficExtendedCooldown(detector.window_s)
        return AnomalyMonitor(detectors)


def build() -> Target:
    return reference_with("volume alert's quiet period restarted by every suppressed access",
                          audit=ExtendedCooldownAudit())
