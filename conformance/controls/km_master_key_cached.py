"""The master key is cached in a file next to the keyring "to speed up the next unlock"."""

from __future__ import annotations

from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-003",)


class CachingKeys(ReferenceKeys):
    def _cache(self, directory: Path, session: ReferenceKeySession) -> ReferenceKeySession:
        (Path(directory) / ".master.cache").write_text(session.secret_material()["master"].hex())
        return session

    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return self._cache(directory, super().create(directory, password, fast_kdf=fast_kdf))

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return self._cache(directory, super().unlock(directory, password))


def build() -> Target:
    return reference_with("master key cached in a file", keys=CachingKeys())
