"""Consent grants never expire: the lifetime is stored but never enforced, so a grant works forever."""

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


class ImmortalGrants(ConsentManager):
    @staticmethod
    def _is_live(grant: Grant, now: float) -> bool:
        return True


class NeverExpiringConsent(ReferenceConsent):
    def manager(self, session: KeySession, directory: Path, audit: AuditSink, clock: Clock) -> ConsentManager:
        return ImmortalGrants.open(session, directory, audit=audit, clock=clock)


def build() -> Target:
    return reference_with("consent that never expires",
                          consent=NeverExpiringConsent(store=reference_stores()["libsql"]))
