"""Failed key operations are audited with the exception's text, and the keyring's refusal quotes the password
it was given: the wrong password reaches the audit log through the error message."""

from __future__ import annotations

from aico_secure.audit.anomaly import AnomalyMonitor
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.keysession import AuditedKeySession
from aico_secure.audit.log import AuditLog
from aico_secure.audit.trail import AuditTrail
from aico_secure.reference.audit import ReferenceAudit, ReferenceTrail
from aico_secure.target import KeySession, RejectedCredentials, Target

from ._base import reference_with

BREAKS = ("AICO-AUD-002",)


class ErrorTextSession(AuditedKeySession):
    def _attempt(self, action: str, purpose: str, operation: object) -> None:
        try:
            operation()  # type: ignore[operator]
        except Exception as exc:
            self._sink.record(AuditEvent(category="key", action=action, actor=self._actor, result="failure",
                                         subject=purpose, details={"error": f"{type(exc).__name__}: {exc}"}))
            raise
        self._key_op(action, purpose)

    def change_password(self, old_password: str, new_password: str) -> None:
        def change() -> None:
            try:
                self.inner.change_password(old_password, new_password)
            except RejectedCredentials:
                raise RejectedCredentials(f"password {old_password!r} does not unlock the keyring") from None

        self._attempt("change_password", "master", change)

    def rotate_master(self, password: str) -> None:
        def rotate() -> None:
            try:
                self.inner.rotate_master(password)
            except RejectedCredentials:
                raise RejectedCredentials(f"password {password!r} does not unlock the keyring") from None

        self._attempt("rotate_master", "master", rotate)


class ErrorTextTrail(ReferenceTrail):
    def __init__(self, log: AuditLog, monitor: AnomalyMonitor, session: KeySession) -> None:
        super().__init__(log, monitor, session)
        self._session = ErrorTextSession(session, self)


class ErrorTextAudit(ReferenceAudit):
    def make_trail(self, log: AuditLog, monitor: AnomalyMonitor, session: KeySession) -> AuditTrail:
        return ErrorTextTrail(log, monitor, session)


def build() -> Target:
    return reference_with("audit records error text carrying a password", audit=ErrorTextAudit())
