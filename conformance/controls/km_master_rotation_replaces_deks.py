"""Master-key rotation also replaces the data keys (and forgets the old ones), so stored data would have to be
re-encrypted and everything written before is lost."""

from __future__ import annotations

from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-006",)


class ReplacingSession(ReferenceKeySession):
    def rotate_master(self, password: str) -> None:
        super().rotate_master(password)
        for purpose in self.keyring.purposes():
            old = [k.key_id for k in self.keyring.data_keys(purpose)]
            self.keyring.rotate_dek(purpose)
            for key_id in old:
                self.keyring.retire_dek(purpose, key_id)


class ReplacingKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return ReplacingSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return ReplacingSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("master rotation replaces data keys", keys=ReplacingKeys())
