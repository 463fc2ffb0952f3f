"""What the gateway tells the build's audit sink: every login attempt, lock, refresh and revocation.

The source of an event (the client's address) is its ``actor`` and the identity concerned its ``subject``, so an
alert on repeated failures can say where they come from and whom they target. Events name a reason, never a
password, hash or token: a token an event is about is named by ``reference`` (a short SHA-256 fingerprint), which
lets an operator match events of one token without the log holding anything that works as one. A sink that
fails fails the request: no tokens for a login that was not recorded.
"""

from __future__ import annotations

import hashlib

from aico_secure.audit.events import AuditEvent, AuditSink, Result

VIA = "jwt-gateway"


class AuthTrail:
    def __init__(self, sink: AuditSink | None) -> None:
        self._sink = sink

    def __repr__(self) -> str:
        return f"AuthTrail({'on' if self._sink is not None else 'off'})"

    def reference(self, token: str) -> str:
        return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:16]

    def record(self, action: str, address: str, subject: str, result: Result, *, token: str | None = None,
               **details: str | int) -> None:
        if self._sink is None:
            return
        if token is not None:
            details["token_ref"] = self.reference(token)
        self._sink.record(AuditEvent("auth", action, actor=address, result=result, subject=subject,
                                     details={"via": VIA, **details}))
