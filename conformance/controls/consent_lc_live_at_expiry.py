"""A grant still works at its exact expiry instant: liveness is ``now <= expires_at`` instead of ``<``."""

from __future__ import annotations

from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.consent import ConsentManager
from aico_secure.reference.consent import Clock, ReferenceConsent
from aico_secure.reference.stores import reference_stores
from aico_secure.target import KeySession, Target
from aico_secure.target.consent import Grant

from ._base import reference_with

BREAKS = ("AICO-CON-002",)


class InclusiveExpiry(ConsentManager):
    @staticmethod
    def _is_live(grant: Grant, now: float) -> bool:
        return now <= grant.expires_at


class InclusiveExpiryConsent(ReferenceConsent):
    def manager(self, session: KeySession, directory: Path, audit: AuditSink, clock: Clock) -> ConsentManager:
        return InclusiveExpiry.open(session, directory, audit=audit, clock=clock)


def build() -> Target:
    return reference_with("consent live at the expiry instant",
                          consent=InclusiveExpiryConsent(store=reference_stores()["libsql"]))
