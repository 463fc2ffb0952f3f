"""The target contract: how any AICO build is described to the conformance suite.

A build provides a factory, ``package.module:factory``, returning a ``Target``. Each capability is a separate
field; a build that lacks one leaves it ``None`` (or a store out of ``stores``) and the requirements that need
it are reported "not implemented", which fails the run. The reference build is loaded the same way
(``aico_secure.reference:build``). See docs/target-contract.md for a worked adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from aico_secure.target.audit import AuditCapability
from aico_secure.target.bus import BusCapability
from aico_secure.target.consent import ConsentCapability
from aico_secure.target.errors import CapabilityMissing
from aico_secure.target.gateway import GatewayCapability
from aico_secure.target.keys import KeysCapability
from aico_secure.target.stores import StoreCapability
from aico_secure.target.tls import TlsCapability

STORE_NAMES = ("libsql", "chroma", "duckdb", "rocksdb")
T = TypeVar("T")


@dataclass
class Target:
    name: str
    version: str = "unknown"
    keys: KeysCapability | None = None
    stores: Mapping[str, StoreCapability] = field(default_factory=dict)
    bus: BusCapability | None = None
    tls: TlsCapability | None = None
    gateway: GatewayCapability | None = None
    consent: ConsentCapability | None = None
    audit: AuditCapability | None = None

    def require(self, capability: str) -> object:
        """The named capability, or ``CapabilityMissing`` (reported as "not implemented")."""
        if capability.startswith("store:"):
            found: object | None = self.stores.get(capability.split(":", 1)[1])
        else:
            found = getattr(self, capability, None)
        if found is None:
            raise CapabilityMissing(f"build {self.name!r} does not implement capability {capability!r}")
        return found

    def capabilities(self) -> dict[str, bool]:
        present = {c: getattr(self, c) is not None for c in ("keys", "bus", "tls", "gateway", "consent", "audit")}
        present.update({f"store:{s}": s in self.stores for s in STORE_NAMES})
        return present
