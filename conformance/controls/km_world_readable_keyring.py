"""The keyring file is written world-readable (mode 0644)."""

from __future__ import annotations

import os
from pathlib import Path

from aico_secure.keys import Keyring
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-010",)


class LooseSession(ReferenceKeySession):
    def _loosen(self) -> None:
        os.chmod(self.keyring.path, 0o644)

    def rotate_data_key(self, purpose: str) -> None:
        super().rotate_data_key(purpose)
        self._loosen()

    def change_password(self, old_password: str, new_password: str) -> None:
        super().change_password(old_password, new_password)
        self._loosen()


class LooseKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        session = LooseSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)
        os.chmod(Keyring.path_in(directory), 0o644)
        return session


def build() -> Target:
    return reference_with("keyring world-readable", keys=LooseKeys())
