"""How stores report to the audit log: which store did what, how often, never which record or what value."""

from __future__ import annotations

from aico_secure.audit.events import AuditEvent, AuditSink, Category, Result


class StoreAudit:
    """Emits ``data_access`` and ``crypto`` events for one store; a no-op without a sink."""

    def __init__(self, sink: AuditSink | None, store: str) -> None:
        self._sink = sink
        self._store = store

    def _emit(self, category: Category, action: str, result: Result, details: dict[str, str | int]) -> None:
        if self._sink is not None:
            self._sink.record(AuditEvent(category=category, action=action, actor=f"store:{self._store}",
                                         result=result, subject=self._store, details=details))

    def access(self, action: str, *, count: int = 1, result: Result = "success") -> None:
        """A data access: ``read``, ``write``, ``delete``, ``list``, ``query``."""
        self._emit("data_access", action, result, {"count": count})

    def crypto(self, action: str, *, key_id: str = "", result: Result = "success") -> None:
        """A cryptographic operation: ``open``, ``rotate_dek``, ``compact``; ``key_id`` is the public id."""
        self._emit("crypto", action, result, {"key_id": key_id} if key_id else {})
