"""The data-access service: every read, write and delete of user data goes through the consent check.

This is the only path the reference build gives components to stored data, so "every store access passes the
consent check" holds by construction: the store object is private to this class. Each access is audited
twice, as the decision (``consent``/``check``) and as the access (``data_access``), denied or not.
"""

from __future__ import annotations

from typing import Protocol

from aico_secure.audit.events import AuditEvent, AuditSink, NullAuditSink, Result
from aico_secure.consent.errors import InvalidConsentRequest, PermissionDenied
from aico_secure.consent.service import ConsentManager
from aico_secure.target.consent import Actor, Operation

MAX_RECORD_NAME = 256


class Records(Protocol):
    """What the service needs of a record store (``aico_secure.target.stores.RecordStore`` has it)."""

    def put(self, key: str, value: bytes) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def delete(self, key: str) -> None: ...
    def close(self) -> None: ...


class DataAccess:
    def __init__(self, consent: ConsentManager, store: Records, audit: AuditSink | None = None) -> None:
        self.consent = consent
        self._store = store
        self._audit = audit or NullAuditSink()

    def __repr__(self) -> str:
        return f"DataAccess({self.consent!r})"

    @staticmethod
    def _key(category: str, record: str) -> str:
        if not isinstance(record, str) or not record or len(record) > MAX_RECORD_NAME or "\x00" in record:
            raise InvalidConsentRequest(f"a record name is 1-{MAX_RECORD_NAME} characters without NUL")
        return f"{category}/{record}"  # category names contain no "/", so the split is unambiguous

    def _audit_access(self, actor: Actor, category: str, operation: Operation, record: str, result: Result,
                      **details: str | int | bool) -> None:
        self._audit.record(AuditEvent(category="data_access", action=operation, actor=actor.id, result=result,
                                      subject=category, details={"record": record, **details}))

    def _guard(self, actor: Actor, category: str, operation: Operation, record: str) -> str:
        key = self._key(category, record)
        try:
            self.consent.require(actor, category, operation)
        except PermissionDenied:
            self._audit_access(actor, category, operation, record, "denied")
            raise
        return key

    def read(self, actor: Actor, category: str, record: str) -> bytes | None:
        value = self._store.get(self._guard(actor, category, "read", record))
        self._audit_access(actor, category, "read", record, "success", found=value is not None)
        return value

    def write(self, actor: Actor, category: str, record: str, value: bytes) -> None:
        if not isinstance(value, (bytes, bytearray)):
            raise InvalidConsentRequest("a record value is bytes")
        self._store.put(self._guard(actor, category, "write", record), bytes(value))
        self._audit_access(actor, category, "write", record, "success", bytes=len(value))

    def delete(self, actor: Actor, category: str, record: str) -> None:
        self._store.delete(self._guard(actor, category, "delete", record))
        self._audit_access(actor, category, "delete", record, "success")

    def close(self) -> None:
        self._store.close()
