"""The access-volume detector counts each (actor, category) pair separately: an actor spreading a bulk read
over several categories stays under the threshold in each and is never flagged."""

from __future__ import annotations

from aico_secure.audit.anomaly import AnomalyMonitor, detectors_for
from aico_secure.audit.anomaly.interface import alert
from aico_secure.audit.anomaly.volume import ACTION, VolumeDetector
from aico_secure.audit.events import AuditEvent
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.target import Target
from aico_secure.target.audit import AnomalyThresholds

from ._base import reference_with

BREAKS = ("AICO-ANO-002",)


class PerCategoryVolume(VolumeDetector):
    def observe(self, event: AuditEvent) -> list[AuditEvent]:
        if event.category != "data_access":
            return []
        assert event.timestamp is not None
        key = f"{event.actor}\x00{event.subject}"
        if self._counts.add(key, event.timestamp) >= self.threshold and self._cooldown.ready(key, event.timestamp):
            return [alert(ACTION, event.actor, event.timestamp, {"accesses": self.threshold,
                                                                 "window_s": self.window_s})]
        return []


class PerCategoryAudit(ReferenceAudit):
    def monitor(self, thresholds: AnomalyThresholds | None) -> AnomalyMonitor:
        chosen = thresholds or AnomalyThresholds()
        detectors = [PerCategoryVolume(d.threshold, d.window_s) if isinstance(d, VolumeDetector) else d
                     for d in detectors_for(chosen)]
        return AnomalyMonitor(detectors)


def build() -> Target:
    return reference_with("access volume counted per category", audit=PerCategoryAudit())
