"""A key session that reports every key and crypto operation to an audit sink.

Why a wrapper: the keyring is unlocked before the audit log can be opened (the log needs its keys), so key
operations cannot be audited from the start; once the log is open, the build hands this wrapper to everything
that uses keys. Events name the purpose and the operation, never key bytes, the record key or the password.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aico_secure.audit.events import AuditEvent, AuditSink, Category, Result
from aico_secure.target.keys import KeySession

ACTOR = "key-session"


class AuditedKeySession:
    """``KeySession`` by delegation; ``inner`` is the session it wraps."""

    def __init__(self, inner: KeySession, sink: AuditSink, actor: str = ACTOR) -> None:
        self.inner = inner
        self._sink = sink
        self._actor = actor

    def __repr__(self) -> str:
        return f"AuditedKeySession({self.inner!r})"

    def __getattr__(self, name: str) -> object:
        """Anything beyond the contract (a build's own accessors, e.g. the reference session's ``keyring``,
        which its stores use) comes from the wrapped session."""
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def _record(self, category: Category, action: str, purpose: str, result: Result = "success",
                **details: str | int) -> None:
        self._sink.record(AuditEvent(category=category, action=action, actor=self._actor, result=result,
                                     subject=purpose, details=details))

    def _key_op(self, action: str, purpose: str) -> None:
        self._record("key", action, purpose)

    def derive(self, purpose: str) -> bytes:
        key = self.inner.derive(purpose)
        self._key_op("derive", purpose)
        return key

    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        sealed = self.inner.seal(purpose, record_key, plaintext)
        self._record("crypto", "encrypt", purpose, bytes=len(plaintext))
        return sealed

    def open(self, purpose: str, record_key: bytes, sealed: bytes) -> bytes:
        try:
            plaintext = self.inner.open(purpose, record_key, sealed)
        except Exception as exc:
            self._record("crypto", "decrypt", purpose, "failure", error=type(exc).__name__)
            raise
        self._record("crypto", "decrypt", purpose, bytes=len(plaintext))
        return plaintext

    def data_key_ids(self, purpose: str) -> list[str]:
        return self.inner.data_key_ids(purpose)

    def rotate_data_key(self, purpose: str) -> None:
        self._attempt("rotate_data_key", purpose, lambda: self.inner.rotate_data_key(purpose))

    def rotate_kek(self, purpose: str) -> None:
        self._attempt("rotate_kek", purpose, lambda: self.inner.rotate_kek(purpose))

    def rotate_master(self, password: str) -> None:
        self._attempt("rotate_master", "master", lambda: self.inner.rotate_master(password))

    def change_password(self, old_password: str, new_password: str) -> None:
        self._attempt("change_password", "master", lambda: self.inner.change_password(old_password, new_password))

    def _attempt(self, action: str, purpose: str, operation: Callable[[], None]) -> None:
        try:
            operation()
        except Exception as exc:
            self._record("key", action, purpose, "failure", error=type(exc).__name__)
            raise
        self._key_op(action, purpose)

    def secret_material(self) -> Mapping[str, bytes]:
        return self.inner.secret_material()

    def close(self) -> None:
        self.inner.close()
