"""Access decisions are cached per (actor, category, operation) until the grant's expiry "for speed", so a
revocation only takes effect when the service is reopened."""

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


class CachingManager(ConsentManager):
    _cache: dict[tuple[str, str, str, str], float]

    def check(self, actor: Actor, category: str, operation: str) -> bool:
        cache = self.__dict__.setdefault("_cache", {})
        key = (actor.id, actor.level, category, operation)
        if key in cache and self._clock() < cache[key]:
            return True
        allowed = super().check(actor, category, operation)
        if allowed:
            grant = next(g for g in self.active_grants(actor.id) if (g.category, g.operation) == (category, operation))
            cache[key] = grant.expires_at
        return allowed


class CachedConsent(ReferenceConsent):
    def manager(self, session: KeySession, directory: Path, audit: AuditSink, clock: Clock) -> ConsentManager:
        return CachingManager.open(session, directory, audit=audit, clock=clock)


def build() -> Target:
    return reference_with("consent decisions cached past revocation",
                          consent=CachedConsent(store=reference_stores()["libsql"]))
