"""Key operations are logged "for debugging" with the key they produced, and the log does not scrub
credentials from events."""

from __future__ import annotations

from aico_secure.audit.anomaly import AnomalyMonitor
from aico_secure.audit.keysession import AuditedKeySession
from aico_secure.audit.log import AuditLog, Redactor
from aico_secure.audit.redact import no_redaction
from aico_secure.audit.trail import AuditTrail
from aico_secure.reference.audit import ReferenceAudit, ReferenceTrail
from aico_secure.target import KeySession, Target

from ._base import reference_with

BREAKS = ("AICO-AUD-002",)


class ChattyKeySession(AuditedKeySession):
    def derive(self, purpose: str) -> bytes:
        key = self.inner.derive(purpose)
        self._record("key", "derive", purpose, derived=key.hex())
        return key

    def rotate_data_key(self, purpose: str) -> None:
        super().rotate_data_key(purpose)
        newest = self.inner.secret_material()
        self._record("key", "new_data_key", purpose, material=next(reversed(newest.values())).hex())


class ChattyTrail(ReferenceTrail):
    def __init__(self, log: AuditLog, monitor: AnomalyMonitor, session: KeySession) -> None:
        super().__init__(log, monitor, session)
        self._session = ChattyKeySession(session, self)


class KeyLoggingAudit(ReferenceAudit):
    def redactor(self) -> Redactor:
        return no_redaction

    def make_trail(self, log: AuditLog, monitor: AnomalyMonitor, session: KeySession) -> AuditTrail:
        return ChattyTrail(log, monitor, session)


def build() -> Target:
    return reference_with("key material written to the audit log", audit=KeyLoggingAudit())
