"""A revocation withdraws only grants the revoker gave itself: the grant is looked up by (subject, category,
operation, granter), so a system component cannot cut off access the user granted, nor a plugin give up a
grant someone else gave it. The call succeeds and the grant stays."""

from __future__ import annotations

from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.consent import ConsentManager
from aico_secure.reference.consent import Clock, ReferenceConsent
from aico_secure.reference.stores import reference_stores
from aico_secure.target import KeySession, Target
from aico_secure.target.consent import Actor

from ._base import reference_with

BREAKS = ("AICO-CON-003",)


class GranterBoundManager(ConsentManager):
    def revoke(self, by: Actor, subject: str, category: str, operation: str) -> None:
        state = self._state.refresh()
        grant = state.grants.get((subject, category, operation))
        if grant is not None and grant.granted_by != by.id:
            self._record("revoke", by.id, category, operation, "success", to=subject, existed=False)
            return
        super().revoke(by, subject, category, operation)


class GranterBoundConsent(ReferenceConsent):
    def manager(self, session: KeySession, directory: Path, audit: AuditSink, clock: Clock) -> ConsentManager:
        return GranterBoundManager.open(session, directory, audit=audit, clock=clock)


def build() -> Target:
    return reference_with("revocations withdraw only the revoker's own grants",
                          consent=GranterBoundConsent(store=reference_stores()["libsql"]))
