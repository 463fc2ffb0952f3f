"""A plugin may grant itself access ("plugins manage their own permissions")."""

from __future__ import annotations

from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.consent import ConsentManager
from aico_secure.reference.consent import Clock, ReferenceConsent
from aico_secure.reference.stores import reference_stores
from aico_secure.target import KeySession, Target
from aico_secure.target.consent import Actor, PermissionLevel

from ._base import reference_with

BREAKS = ("AICO-CON-004",)


class SelfGrantingPlugins(ConsentManager):
    def _grant_refusal(self, by: Actor, subject: Actor, level: PermissionLevel) -> str | None:
        if by.level == "plugin" and by.id == subject.id:
            return None
        return super()._grant_refusal(by, subject, level)


class SelfGrantConsent(ReferenceConsent):
    def manager(self, session: KeySession, directory: Path, audit: AuditSink, clock: Clock) -> ConsentManager:
        return SelfGrantingPlugins.open(session, directory, audit=audit, clock=clock)


def build() -> Target:
    return reference_with("a plugin can grant itself",
                          consent=SelfGrantConsent(store=reference_stores()["libsql"]))
