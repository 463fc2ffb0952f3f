"""The gateway's authentication events name the component instead of the client: every login, lockout, refresh
and logout is recorded with ``actor="gateway"``, so nothing in the log says where an attack came from."""

from __future__ import annotations

from pathlib import Path

from aico_secure.audit.events import AuditEvent, AuditSink, Result
from aico_secure.gateway.auditing import COMPONENT, GatewayAudit
from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.runtime import Clock, GatewayRuntime
from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target
from aico_secure.target.consent import ConsentService

from ._base import reference_with

BREAKS = ("AICO-AUD-001",)


class ComponentAsActor(GatewayAudit):
    def _event(self, action: str, username: str, result: Result, **details: str | float) -> None:
        self._record(AuditEvent("auth", action, actor=COMPONENT, result=result, subject=username,
                                details={"via": COMPONENT, **details}))

    def login(self, username: str, address: str, result: Result, reason: str) -> None:
        self._event("login", username, result, reason=reason)

    def lockout(self, kind: str, username: str, address: str, seconds: float) -> None:
        self._event("lockout", username, "denied", kind=kind, seconds=round(seconds, 3))

    def enrol(self, username: str, address: str, result: Result, reason: str) -> None:
        self._event("enrol", username, result, reason=reason)

    def token(self, action: str, username: str, address: str, result: Result, reason: str) -> None:
        self._event(action, username, result, reason=reason)


class ComponentAsActorRuntime(GatewayRuntime):
    def __init__(self, keyring: UnlockedKeyring, directory: Path, *, config: GatewayConfig | None = None,
                 audit: AuditSink | None = None, clock: Clock | None = None,
                 consent: ConsentService | None = None) -> None:
        super().__init__(keyring, directory, config=config, audit=audit, clock=clock, consent=consent)
        self.audit = ComponentAsActor(audit)
        self.login._audit = self.audit


class ComponentAsActorGateway(ReferenceGateway):
    runtime_class = ComponentAsActorRuntime


def build() -> Target:
    return reference_with("gateway auth events without their source",
                          gateway=ComponentAsActorGateway(consent=ReferenceConsent()))
