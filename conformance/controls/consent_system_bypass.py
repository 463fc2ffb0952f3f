"""System-level actors bypass consent ("core components are trusted"): no grant is needed at that level, and
an actor that merely claims the system level gets everything."""

from __future__ import annotations

from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.consent import ConsentManager
from aico_secure.reference.consent import Clock, ReferenceConsent
from aico_secure.reference.stores import reference_stores
from aico_secure.target import KeySession, Target
from aico_secure.target.consent import Actor, Operation

from ._base import reference_with

BREAKS = ("AICO-CON-001", "AICO-CON-004")


class TrustingManager(ConsentManager):
    def _decide(self, actor: Actor, category: str, operation: Operation) -> str | None:
        if actor.level == "system":
            return None
        return super()._decide(actor, category, operation)


class BypassConsent(ReferenceConsent):
    def manager(self, session: KeySession, directory: Path, audit: AuditSink, clock: Clock) -> ConsentManager:
        return TrustingManager.open(session, directory, audit=audit, clock=clock)


def build() -> Target:
    return reference_with("system actors bypass consent",
                          consent=BypassConsent(store=reference_stores()["libsql"]))
