"""Alerts are raised and shown, but kept in memory only: they never reach the tamper-evident log."""

from __future__ import annotations

from aico_secure.audit.anomaly import AnomalyMonitor
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.log import AuditLog
from aico_secure.audit.trail import AuditTrail
from aico_secure.reference.audit import ReferenceAudit, ReferenceTrail
from aico_secure.target import KeySession, Target

from ._base import reference_with

BREAKS = ("AICO-ANO-003", "AICO-AUD-001")


class MemoryAlertTrail(ReferenceTrail):
    def __init__(self, log: AuditLog, monitor: AnomalyMonitor, session: KeySession) -> None:
        super().__init__(log, monitor, session)
        self._memory: list[AuditEvent] = []
        self._watch = monitor

    def record(self, event: AuditEvent) -> None:
        stored = self.log.append(event)
        self._memory.extend(self._watch.observe(stored))

    def alerts(self) -> list[AuditEvent]:
        return list(self._memory)


class UnloggedAlertsAudit(ReferenceAudit):
    def make_trail(self, log: AuditLog, monitor: AnomalyMonitor, session: KeySession) -> AuditTrail:
        return MemoryAlertTrail(log, monitor, session)


def build() -> Target:
    return reference_with("alerts not recorded in the audit log", audit=UnloggedAlertsAudit())
