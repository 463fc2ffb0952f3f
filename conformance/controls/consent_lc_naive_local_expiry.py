"""Grant expiry compared as naive local wall-clock times: in the hour a daylight-saving change repeats, a grant
that has expired works again until the clock reads past its expiry a second time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.consent import ConsentManager
from aico_secure.reference.consent import Clock, ReferenceConsent
from aico_secure.reference.stores import reference_stores
from aico_secure.target import KeySession, Target
from aico_secure.target.consent import Grant

from ._base import reference_with

BREAKS = ("AICO-CON-002",)


class LocalWallClockExpiry(ConsentManager):
    @staticmethod
    def _is_live(grant: Grant, now: float) -> bool:
        return datetime.fromtimestamp(now) < datetime.fromtimestamp(grant.expires_at)


class LocalWallClockConsent(ReferenceConsent):
    def manager(self, session: KeySession, directory: Path, audit: AuditSink, clock: Clock) -> ConsentManager:
        return LocalWallClockExpiry.open(session, directory, audit=audit, clock=clock)


def build() -> Target:
    return reference_with("consent expiry in naive local time",
                          consent=LocalWallClockConsent(store=reference_stores()["libsql"]))
