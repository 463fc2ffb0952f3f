"""The anomaly detector is wired in but has no detectors: nothing ever raises an alert."""

from __future__ import annotations

from aico_secure.audit.anomaly import AnomalyMonitor
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.target import Target
from aico_secure.target.audit import AnomalyThresholds

from ._base import reference_with

BREAKS = ("AICO-ANO-001", "AICO-ANO-002", "AICO-ANO-003", "AICO-AUD-001")


class SilentAudit(ReferenceAudit):
    def monitor(self, thresholds: AnomalyThresholds | None) -> AnomalyMonitor:
        return AnomalyMonitor([])


def build() -> Target:
    return reference_with("no anomaly alerts", audit=SilentAudit())
