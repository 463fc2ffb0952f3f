"""The audit log is chained and MACed but not encrypted: every event is readable from disk."""

from __future__ import annotations

from aico_secure.audit.codec import EntryCodec, PlainCodec
from aico_secure.audit.logkeys import LogKeys
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-AUD-004",)


class PlaintextAudit(ReferenceAudit):
    def codec(self, keys: LogKeys) -> EntryCodec:
        return PlainCodec()


def build() -> Target:
    return reference_with("audit log not sealed at rest", audit=PlaintextAudit())
