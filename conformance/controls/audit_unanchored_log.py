"""An audit log without a rollback anchor: chained, MACed, checkpointed and sealed, but nothing outside its
directory remembers how far it got, so restoring an older copy of the directory erases every entry since then
without trace."""

from __future__ import annotations

from aico_secure.audit.anchor import RollbackAnchor
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.target import KeySession, Target

from ._base import reference_with

BREAKS = ("AICO-AUD-003",)


class UnanchoredAudit(ReferenceAudit):
    def anchor(self, session: KeySession) -> RollbackAnchor | None:
        return None


def build() -> Target:
    return reference_with("an audit log without a rollback anchor", audit=UnanchoredAudit())
