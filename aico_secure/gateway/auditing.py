"""The gateway's audit events, in one place so every route reports the same way.

Vocabulary (``aico_secure.target.audit``): authentication events are category ``auth`` with the *source* (the
client address) as ``actor`` and the identity tried as ``subject``, so the anomaly detector can count failures
per source and per identity. Events carry the user name, the client address and a reason, never a password,
proof, verifier or token. Data accesses are audited by the consent service they go through. When no sink is
configured the events go nowhere; when one is, a failing sink fails the request (a login that could not be
audited does not hand out tokens).
"""

from __future__ import annotations

from aico_secure.audit.events import AuditEvent, AuditSink, Result

COMPONENT = "gateway"


class GatewayAudit:
    def __init__(self, sink: AuditSink | None) -> None:
        self._sink = sink

    def _record(self, event: AuditEvent) -> None:
        if self._sink is not None:
            self._sink.record(event)

    def login(self, username: str, address: str, result: Result, reason: str) -> None:
        self._record(AuditEvent("auth", "login", actor=address, result=result, subject=username,
                                details={"via": COMPONENT, "reason": reason}))

    def lockout(self, kind: str, username: str, address: str, seconds: float) -> None:
        self._record(AuditEvent("auth", "lockout", actor=address, result="denied", subject=username,
                                details={"via": COMPONENT, "kind": kind, "seconds": round(seconds, 3)}))

    def enrol(self, username: str, address: str, result: Result, reason: str) -> None:
        self._record(AuditEvent("auth", "enrol", actor=address, result=result, subject=username,
                                details={"via": COMPONENT, "reason": reason}))

    def token(self, action: str, username: str, address: str, result: Result, reason: str) -> None:
        """``action``: "token_refresh" or "token_revoke"."""
        self._record(AuditEvent("auth", action, actor=address, result=result, subject=username,
                                details={"via": COMPONENT, "reason": reason}))
