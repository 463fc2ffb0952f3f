"""Data-key rotation throws the old key away at once, so everything written before becomes unreadable."""

from __future__ import annotations

from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-007",)


class DroppingSession(ReferenceKeySession):
    def rotate_data_key(self, purpose: str) -> None:
        old = [k.key_id for k in self.keyring.data_keys(purpose)]
        self.keyring.rotate_dek(purpose)
        for key_id in old:
            self.keyring.retire_dek(purpose, key_id)


class DroppingKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return DroppingSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return DroppingSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("rotation drops old data keys", keys=DroppingKeys())
