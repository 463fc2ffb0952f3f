"""Consent decisions are made but not audited (only the data accesses themselves are logged)."""

from __future__ import annotations

from pathlib import Path

from aico_secure.audit.events import AuditSink, Result
from aico_secure.consent import ConsentManager
from aico_secure.reference.consent import Clock, ReferenceConsent
from aico_secure.reference.stores import reference_stores
from aico_secure.target import KeySession, Target

from ._base import reference_with

BREAKS = ("AICO-CON-005",)


class SilentChecks(ConsentManager):
    def _record(self, action: str, actor: str, category: str, operation: str, result: Result,
                **details: str | int | float | bool) -> None:
        if action != "check":
            super()._record(action, actor, category, operation, result, **details)


class UnauditedConsent(ReferenceConsent):
    def manager(self, session: KeySession, directory: Path, audit: AuditSink, clock: Clock) -> ConsentManager:
        return SilentChecks.open(session, directory, audit=audit, clock=clock)


def build() -> Target:
    return reference_with("consent checks not audited",
                          consent=UnauditedConsent(store=reference_stores()["libsql"]))
