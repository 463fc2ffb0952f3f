"""Which keys of the hierarchy the audit log uses, and how it finds old ones again.

Two random data keys, both wrapped by the key hierarchy: ``audit`` seals entry bodies (AES-GCM through the
envelope) and ``audit-mac`` MACs entries, the chain and checkpoints. Separate keys because one key must never
serve two primitives. Data keys rather than per-purpose derived keys because derived keys change with the
master key: a password change would otherwise make every old entry unverifiable. Rotated keys stay in the
keyring (retired), and every entry names the key it used, so old entries keep verifying.
"""

from __future__ import annotations

from typing import Protocol

from aico_secure.envelope import DataKey
from aico_secure.keys import UnlockedKeyring

SEAL_PURPOSE = "audit"
MAC_PURPOSE = "audit-mac"


class LogKeys(Protocol):
    def mac_key(self) -> DataKey:
        """The key new entries and checkpoints are MACed with."""

    def mac_key_by_id(self, key_id: bytes) -> DataKey | None: ...

    def seal_key(self) -> DataKey:
        """The key new entry bodies are sealed with."""

    def seal_key_by_id(self, key_id: bytes) -> DataKey | None: ...


class KeyringLogKeys:
    """``LogKeys`` from an unlocked keyring of the hierarchy."""

    def __init__(self, keyring: UnlockedKeyring) -> None:
        self._keyring = keyring

    def __repr__(self) -> str:
        return "KeyringLogKeys(<keys redacted>)"

    def mac_key(self) -> DataKey:
        return self._keyring.active_data_key(MAC_PURPOSE)

    def mac_key_by_id(self, key_id: bytes) -> DataKey | None:
        return self._keyring.data_key(MAC_PURPOSE, key_id)

    def seal_key(self) -> DataKey:
        return self._keyring.active_data_key(SEAL_PURPOSE)

    def seal_key_by_id(self, key_id: bytes) -> DataKey | None:
        return self._keyring.data_key(SEAL_PURPOSE, key_id)
