"""Every purpose gets the same derived key: the HKDF label is ignored."""

from __future__ import annotations

from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-004",)


class SharedSession(ReferenceKeySession):
    def derive(self, purpose: str) -> bytes:
        return self.keyring.derive("shared").reveal()


class SharedKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return SharedSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return SharedSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("one key for every purpose", keys=SharedKeys())
