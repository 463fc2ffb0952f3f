"""The maximum grant lifetime is declared but not applied: a grant asked for longer is given in full."""

from __future__ import annotations

import math
from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.consent import ConsentManager
from aico_secure.consent.errors import InvalidConsentRequest
from aico_secure.reference.consent import Clock, ReferenceConsent
from aico_secure.reference.stores import reference_stores
from aico_secure.target import KeySession, Target

from ._base import reference_with

BREAKS = ("AICO-CON-002",)


class UncappedLifetimes(ConsentManager):
    def _ttl(self, ttl_seconds: float) -> float:
        if not isinstance(ttl_seconds, (int, float)) or not math.isfinite(ttl_seconds) or ttl_seconds <= 0:
            raise InvalidConsentRequest("a grant's lifetime must be a positive, finite number of seconds")
        return float(ttl_seconds)


class UncappedConsent(ReferenceConsent):
    def manager(self, session: KeySession, directory: Path, audit: AuditSink, clock: Clock) -> ConsentManager:
        return UncappedLifetimes.open(session, directory, audit=audit, clock=clock)


def build() -> Target:
    return reference_with("consent lifetime cap declared, not applied",
                          consent=UncappedConsent(store=reference_stores()["libsql"]))
