"""Application sealing picks a purpose's first data key instead of the active one: after a data-key rotation
new records are still sealed under the oldest key (they open fine, so nothing looks wrong)."""

from __future__ import annotations

from pathlib import Path

from aico_secure import envelope
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-007",)


class FirstKeySession(ReferenceKeySession):
    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        self.keyring.active_data_key(purpose)
        first = self.keyring.data_key(purpose, bytes.fromhex(self.keyring.key_ids(purpose)[0]))
        assert first is not None
        return envelope.seal(first, plaintext, self._context(purpose, record_key))


class FirstKeyKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return FirstKeySession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return FirstKeySession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("new writes sealed with the first data key", keys=FirstKeyKeys())
