"""Spent refresh tokens are remembered in memory only: logouts are written to the revocation list, but refresh
rotation marks the old token spent in a process-local cache ("it expires soon anyway"), so after a restart a
stolen, already used refresh token mints fresh tokens again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aico_secure.gateway.revocation import RevocationList
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-002",)
SPENT_PREFIX = "jti:"  # the reference's entry for one spent token (a session's entry is "sid:")


class SpentInMemory(RevocationList):
    def __init__(self, keyring: UnlockedKeyring, directory: Path, clock: Callable[[], float]) -> None:
        super().__init__(keyring, directory, clock)
        self._spent: dict[str, float] = {}

    def revoke(self, entry_id: str, until: float) -> None:
        if entry_id.startswith(SPENT_PREFIX):
            self._spent[entry_id] = until
            return
        super().revoke(entry_id, until)

    def is_revoked(self, entry_id: str) -> bool:
        return entry_id in self._spent or super().is_revoked(entry_id)


class SpentInMemoryRuntime(GatewayRuntime):
    revocations_class = SpentInMemory


class SpentInMemoryGateway(ReferenceGateway):
    runtime_class = SpentInMemoryRuntime


def build() -> Target:
    return reference_with("spent refresh tokens forgotten on restart",
                          gateway=SpentInMemoryGateway(consent=ReferenceConsent()))
