"""Token revocations live in memory only: logout and refresh rotation work until the gateway restarts, after
which every revoked token is valid again until it expires."""

from __future__ import annotations

from aico_secure.gateway.revocation import RevocationList
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-002",)


class MemoryRevocations(RevocationList):
    def revoke(self, entry_id: str, until: float) -> None:
        self._entries[entry_id] = until


class ForgetfulRuntime(GatewayRuntime):
    revocations_class = MemoryRevocations


class ForgetfulGateway(ReferenceGateway):
    runtime_class = ForgetfulRuntime


def build() -> Target:
    return reference_with("revocations kept in memory only", gateway=ForgetfulGateway(consent=ReferenceConsent()))
