"""KEK rotation walks a fixed list of store purposes that lacks "duckdb": for it the data keys are re-wrapped
(fresh nonces, so the keyring file changes) under the same key-encryption key version as before."""

from __future__ import annotations

from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-006",)
ROTATED_PURPOSES = ("libsql", "chroma", "rocksdb", "audit", "transport")  # "duckdb" forgotten


class SkippingSession(ReferenceKeySession):
    def rotate_kek(self, purpose: str) -> None:
        if purpose in ROTATED_PURPOSES:
            self.keyring.rotate_kek(purpose)
            return
        keyring = self.keyring
        with keyring._changing():
            keyring.active_data_key(purpose)
            keyring._rewrap(keyring._master, [purpose])  # same KEK version: nothing rotated
            keyring._save()


class SkippingKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return SkippingSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return SkippingSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("KEK rotation skips one purpose", keys=SkippingKeys())
