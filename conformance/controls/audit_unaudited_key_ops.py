"""The audit trail hands out the raw key session: key rotations, encryption and decryption leave no trace."""

from __future__ import annotations

from aico_secure.audit.anomaly import AnomalyMonitor
from aico_secure.audit.log import AuditLog
from aico_secure.audit.trail import AuditTrail
from aico_secure.reference.audit import ReferenceAudit, ReferenceTrail
from aico_secure.target import KeySession, Target

from ._base import reference_with

BREAKS = ("AICO-AUD-001",)


class RawSessionTrail(ReferenceTrail):
    @property
    def session(self) -> KeySession:  # type: ignore[override]
        return self._session.inner


class KeyBlindAudit(ReferenceAudit):
    def make_trail(self, log: AuditLog, monitor: AnomalyMonitor, session: KeySession) -> AuditTrail:
        return RawSessionTrail(log, monitor, session)


def build() -> Target:
    return reference_with("key and crypto operations not audited", audit=KeyBlindAudit())
